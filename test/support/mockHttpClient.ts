/**
 * A scripted `HttpClient` for unit tests of the PromptLayer client: it records every request
 * (method, URL, headers, parsed JSON body, the `Clock` time it was sent at) and answers with
 * whatever the script returns, without any network.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Layer from "effect/Layer"
import { PromptLayerClient, type PromptLayerRetryPolicy } from "promptlayer-effect"

/** One request as the mock server saw it. */
export interface SeenRequest {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  /** The raw body text; undefined when no body was sent. */
  readonly text: string | undefined
  /** The body parsed as JSON; undefined when no body was sent. */
  readonly body: unknown
  /** `Clock.currentTimeMillis` when the request was sent (TestClock time in `it.effect`). */
  readonly at: number
}

/** What the script answers: a status with a body (JSON value or raw text) and headers, or a transport failure. */
export type Reply =
  | {
      readonly status: number
      readonly json?: unknown
      readonly text?: string
      readonly headers?: Readonly<Record<string, string>>
    }
  | { readonly transportError: string }
  | { readonly hang: true }

export interface MockHttp {
  readonly requests: Array<SeenRequest>
  readonly layer: Layer.Layer<HttpClient.HttpClient>
}

const bodyText = (request: HttpClientRequest.HttpClientRequest): string | undefined => {
  const body = request.body
  if (body._tag === "Uint8Array") return new TextDecoder().decode(body.body)
  if (body._tag === "Empty") return undefined
  // The `/spans-bulk` body is sent as a raw string (no UTF-8 copy of the batch first).
  if (body._tag === "Raw" && typeof body.body === "string") return body.body
  throw new Error(`mock HttpClient: unexpected body kind ${body._tag}`)
}

/** A mock `HttpClient` answering each request with `script(request, index)` (index from 0). */
export const mockHttp = (script: (request: SeenRequest, index: number) => Reply): MockHttp => {
  const requests: Array<SeenRequest> = []
  const client = HttpClient.make((request, url) =>
    Effect.gen(function* () {
      const text = bodyText(request)
      const seen: SeenRequest = {
        method: request.method,
        url,
        headers: request.headers,
        text,
        body: text === undefined || text === "" ? undefined : JSON.parse(text),
        at: yield* Clock.currentTimeMillis
      }
      requests.push(seen)
      const reply = script(seen, requests.length - 1)
      if ("transportError" in reply) {
        return yield* Effect.fail(
          new HttpClientError.HttpClientError({
            reason: new HttpClientError.TransportError({ request, cause: new Error(reply.transportError) })
          })
        )
      }
      if ("hang" in reply) return yield* Effect.never
      const responseText = reply.text ?? (reply.json === undefined ? "" : JSON.stringify(reply.json))
      return HttpClientResponse.fromWeb(
        request,
        new Response(reply.status === 204 ? null : responseText, {
          status: reply.status,
          headers: { "content-type": "application/json", ...reply.headers }
        })
      )
    })
  )
  return { requests, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

/** Always the same reply. */
export const always = (reply: Reply): MockHttp => mockHttp(() => reply)

/** Replies in order; the last one repeats. */
export const sequence = (...replies: ReadonlyArray<Reply>): MockHttp =>
  mockHttp((_, index) => replies[Math.min(index, replies.length - 1)]!)

/**
 * The real PromptLayer client over a mock server: key `apiKey`, one attempt unless `retry` says
 * otherwise.
 */
export const clientOver = (
  mock: MockHttp,
  apiKey: string,
  retry: PromptLayerRetryPolicy.Options = {}
): Effect.Effect<PromptLayerClient.Service> =>
  Effect.provide(
    PromptLayerClient.PromptLayerClient,
    PromptLayerClient.layerWith({ apiKey, baseUrl: "http://127.0.0.1:9", retry: { maxAttempts: 1, ...retry } }).pipe(
      Layer.provide(mock.layer)
    )
  )

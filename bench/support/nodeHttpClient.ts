/**
 * A minimal `HttpClient` over `node:http` with a keep-alive agent: a what-if for the benchmark,
 * to measure how much of the tracker's CPU per log is Node's `fetch` (undici). Not part of the
 * library: no streaming bodies, no TLS options, no redirects.
 */
import * as Http from "node:http"
import * as Https from "node:https"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

const agents = { http: new Http.Agent({ keepAlive: true }), https: new Https.Agent({ keepAlive: true }) }

export const client: HttpClient.HttpClient = HttpClient.make((request, url, signal) =>
  Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
    const body = request.body._tag === "Uint8Array" ? request.body.body : undefined
    const headers: Record<string, string> = { ...request.headers }
    if (body !== undefined) headers["content-length"] = String(body.length)
    const secure = url.protocol === "https:"
    const send = secure ? Https.request : Http.request
    const req = send(
      url,
      { method: request.method, headers, agent: secure ? agents.https : agents.http, signal },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (chunk: Buffer) => chunks.push(chunk))
        res.on("error", (cause) =>
          resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
        )
        res.on("end", () => {
          const responseHeaders = new Headers()
          for (const [key, value] of Object.entries(res.headers)) {
            if (typeof value === "string") responseHeaders.set(key, value)
          }
          const web = new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: responseHeaders })
          resume(Effect.succeed(HttpClientResponse.fromWeb(request, web)))
        })
      }
    )
    req.on("error", (cause) =>
      resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
    )
    req.end(body)
  })
)

export const layer: Layer.Layer<HttpClient.HttpClient> = Layer.succeed(HttpClient.HttpClient, client)

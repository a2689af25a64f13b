/**
 * An `HttpClient` over `node:http`/`node:https` with a keep-alive agent. It costs a fraction of the
 * CPU of `FetchHttpClient` per request (no web `Request`/`Response`/`Headers` objects, no undici
 * stream machinery, the body buffered once): the tracker's logs per second on one core depend on it.
 *
 * Scope: request bodies `Empty`, `Uint8Array` and `Raw` (string or bytes) — what the client sends;
 * responses are buffered in full before they are returned, up to the request's
 * {@link MaxResponseBytes} (32 MiB unless the client sets it): past it (or when `Content-Length`
 * declares more) reading stops, the socket is destroyed and the request fails with an
 * `HttpClientError` whose `TransportError` reason has a {@link ResponseTooLarge} cause. Redirects are
 * never followed: a 3xx is returned as it is. Errors map like `FetchHttpClient`'s: any failure to
 * send or to read the response is an `HttpClientError` with a `TransportError` reason. Interrupting
 * the request (a timeout, a shutdown) destroys it.
 *
 * The declarations of this module do not mention `node:http` types, so that the root entry's
 * types compile without `@types/node`.
 *
 * `node:http` is loaded with `process.getBuiltinModule` (synchronous, Node ≥ 20.16, Bun, Deno), not
 * a static import, so that this module can be bundled for runtimes without it; {@link available}
 * tells whether it can be used.
 */
import type * as Http from "node:http"
import type * as Https from "node:https"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Cookies from "effect/http/Cookies"
import * as Headers from "effect/http/Headers"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as HttpIncomingMessage from "effect/http/HttpIncomingMessage"
import * as UrlParams from "effect/http/UrlParams"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { pipeArguments } from "effect/Pipeable"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { declaredLength, MaxResponseBytes, ResponseTooLarge } from "./responseLimit.js"

interface Builtins {
  readonly http: typeof Http
  readonly https: typeof Https
}

let loaded: Builtins | null | undefined

/** `node:http` and `node:https`, or undefined outside Node. */
const builtins = (): Builtins | undefined => {
  if (loaded === undefined) {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    const get = proc?.getBuiltinModule
    loaded =
      typeof get === "function"
        ? { http: get.call(proc, "node:http") as typeof Http, https: get.call(proc, "node:https") as typeof Https }
        : null
  }
  return loaded ?? undefined
}

/** Whether this runtime has `node:http` (and `process.getBuiltinModule` to load it). */
export const available = (): boolean => builtins() !== undefined

/**
 * Options of the `http.Agent` / `https.Agent`: the subset of Node's `AgentOptions` about
 * connection reuse, declared here so that the types need no `@types/node`.
 */
export interface AgentOptions {
  /** Keep idle sockets for the next request (default here: true). */
  readonly keepAlive?: boolean | undefined
  /** Initial delay of TCP keep-alive probes on idle sockets, in ms. */
  readonly keepAliveMsecs?: number | undefined
  /** Sockets per host (default: unlimited). */
  readonly maxSockets?: number | undefined
  /** Sockets over all hosts (default: unlimited). */
  readonly maxTotalSockets?: number | undefined
  /** Idle sockets kept per host (default: 256). */
  readonly maxFreeSockets?: number | undefined
  /** Socket inactivity timeout, in ms. */
  readonly timeout?: number | undefined
  /** Which idle socket is used next: `"lifo"` (Node's default) or `"fifo"`. */
  readonly scheduling?: "fifo" | "lifo" | undefined
}

/** Options of {@link make}. */
export interface Options {
  /** Options of the `http.Agent` / `https.Agent` (keep-alive is on unless set to false). */
  readonly agent?: AgentOptions | undefined
}

/** The failure of a request that could not be sent or whose response could not be read. */
const transportError = (
  request: HttpClientRequest.HttpClientRequest,
  cause: unknown,
  description?: string
): HttpClientError.HttpClientError =>
  new HttpClientError.HttpClientError({
    reason: new HttpClientError.TransportError(
      description === undefined ? { request, cause } : { request, cause, description }
    )
  })

class BufferedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: typeof HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: typeof HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly headers: Headers.Headers
  readonly remoteAddress: Option.Option<string>
  readonly text: Effect.Effect<string, HttpClientError.HttpClientError>
  readonly #url: URL
  readonly #setCookie: ReadonlyArray<string>
  #cookies: Cookies.Cookies | undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    url: URL,
    readonly status: number,
    rawHeaders: Http.IncomingHttpHeaders,
    readonly body: Buffer,
    remoteAddress: string | undefined
  ) {
    super()
    this.#url = url
    const headers: Record<string, string> = {}
    for (const name in rawHeaders) {
      const value = rawHeaders[name]
      if (typeof value === "string") headers[name] = value
      else if (Array.isArray(value)) headers[name] = value.join(", ")
    }
    this.headers = Headers.fromRecordUnsafe(headers)
    this.#setCookie = rawHeaders["set-cookie"] ?? []
    this.remoteAddress = Option.fromNullishOr(remoteAddress)
    this.text = Effect.succeed(body.toString("utf8"))
  }

  /** The URL requested (redirects are never followed), without its hash; computed when asked. */
  get url(): string {
    const url = this.#url
    return url.hash === "" ? url.href : url.href.slice(0, url.href.length - url.hash.length)
  }

  get cookies(): Cookies.Cookies {
    this.#cookies ??= Cookies.fromSetCookie(this.#setCookie)
    return this.#cookies
  }

  #decodeError(cause: unknown): HttpClientError.HttpClientError {
    return new HttpClientError.HttpClientError({
      reason: new HttpClientError.DecodeError({ request: this.request, response: this, cause })
    })
  }

  get json(): Effect.Effect<Schema.Json, HttpClientError.HttpClientError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({ try: () => (text === "" ? null : JSON.parse(text)), catch: (cause) => this.#decodeError(cause) })
    )
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.HttpClientError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => UrlParams.fromInput(new URLSearchParams(text)),
        catch: (cause) => this.#decodeError(cause)
      })
    )
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.HttpClientError> {
    return Effect.sync(
      () => this.body.buffer.slice(this.body.byteOffset, this.body.byteOffset + this.body.byteLength) as ArrayBuffer
    )
  }

  get formData(): Effect.Effect<FormData, HttpClientError.HttpClientError> {
    return Effect.tryPromise({
      try: () =>
        new Response(new Uint8Array(this.body), {
          status: this.status,
          headers: this.headers as Record<string, string>
        }).formData(),
      catch: (cause) => this.#decodeError(cause)
    })
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.HttpClientError> {
    return Stream.succeed(new Uint8Array(this.body.buffer, this.body.byteOffset, this.body.byteLength))
  }

  /** The client never asks for an upgrade: any response fails it, as with fetch. */
  get upgrade(): HttpClientResponse.HttpClientResponse["upgrade"] {
    return Effect.fail(
      new HttpClientError.HttpClientError({
        reason: new HttpClientError.StatusCodeError({
          request: this.request,
          response: this,
          description: "the node:http client does not hand over the connection of an HTTP upgrade"
        })
      })
    )
  }

  pipe() {
    // biome-ignore lint/complexity/noArguments: pipeArguments takes the arguments object, as in Effect's own responses
    return pipeArguments(this, arguments)
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

const bodyOf = (request: HttpClientRequest.HttpClientRequest): Uint8Array | string | undefined | null => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return undefined
    case "Uint8Array":
      return body.body
    case "Raw":
      return typeof body.body === "string" || body.body instanceof Uint8Array ? body.body : null
    default:
      return null
  }
}

/**
 * A node:http `HttpClient` over its own keep-alive agents; the agents (and their idle sockets) are
 * destroyed with the scope. Dies outside Node (see {@link available}).
 */
export const make = (options: Options = {}): Effect.Effect<HttpClient.HttpClient, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => {
        const node = builtins()
        if (node === undefined) throw new Error("node:http is not available in this runtime (use FetchHttpClient)")
        const agentOptions: Http.AgentOptions = { keepAlive: true, ...withoutUndefined(options.agent) }
        return { http: new node.http.Agent(agentOptions), https: new node.https.Agent(agentOptions) }
      }),
      (agents) =>
        Effect.sync(() => {
          agents.http.destroy()
          agents.https.destroy()
        })
    ),
    (agents) => fromAgents(agents)
  )

const withoutUndefined = (options: AgentOptions | undefined): Http.AgentOptions => {
  const defined: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options ?? {})) if (value !== undefined) defined[key] = value
  return defined as Http.AgentOptions
}

/** The client over the given agents (they are not destroyed by it). */
const fromAgents = (agents: { readonly http: Http.Agent; readonly https: Https.Agent }): HttpClient.HttpClient =>
  // The `AbortSignal` is not handed to node:http: interruption destroys the request through the
  // callback's cleanup, and a signal aborted after the response (the request's scope closing, once
  // the body is buffered) would destroy a socket already back in the keep-alive pool.
  HttpClient.make((request, url, _signal, fiber) => {
    const node = builtins()!
    const limit = Context.get(fiber.context, MaxResponseBytes)
    const body = bodyOf(request)
    if (body === null) {
      return Effect.fail(
        transportError(request, undefined, `the node:http client does not send ${request.body._tag} bodies`)
      )
    }
    return Effect.callback<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
      let done = false
      const fail = (cause: unknown) => {
        if (done) return
        done = true
        resume(Effect.fail(transportError(request, cause)))
      }
      const secure = url.protocol === "https:"
      let req: Http.ClientRequest
      try {
        req = (secure ? node.https.request : node.http.request)(
          url,
          {
            method: request.method,
            headers: request.headers,
            agent: secure ? agents.https : agents.http
          },
          (res) => {
            const status = res.statusCode ?? 0
            // Read now: once the body has ended, a kept-alive socket is detached from the response.
            const remoteAddress = res.socket?.remoteAddress
            const declared = declaredLength(res.headers["content-length"])
            // Stop at once and destroy the socket: nothing more of this body is read, nor kept.
            const tooLarge = (received: number) => {
              fail(new ResponseTooLarge(status, limit, received, declared))
              req.destroy()
            }
            if (declared !== undefined && declared > limit) return tooLarge(0)
            const chunks: Array<Buffer> = []
            let received = 0
            res.on("data", (chunk: Buffer) => {
              received += chunk.length
              if (received > limit) tooLarge(received)
              else chunks.push(chunk)
            })
            res.on("error", fail)
            res.on("aborted", () => fail(new Error("the response was aborted")))
            res.on("end", () => {
              if (done) return
              done = true
              const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
              const response = new BufferedResponse(request, url, status, res.headers, buffer, remoteAddress)
              // Resumed after the ticks Node queued at the end of the body, among them the one that
              // hands the socket back to the agent: a request sent at once by the resumed fiber then
              // reuses it instead of opening a second connection.
              queueMicrotask(() => resume(Effect.succeed(response)))
            })
          }
        )
      } catch (cause) {
        fail(cause)
        return
      }
      req.on("error", fail)
      req.end(body)
      return Effect.sync(() => {
        done = true
        req.destroy()
      })
    })
  })

/** {@link make} as a layer. */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient> =>
  Layer.effect(HttpClient.HttpClient, make(options))

/**
 * A small `node:http` adapter for `effect/http`'s `HttpServer`, so the emulator does not
 * need `@effect/platform-node` (which pulls undici, ws and a redis peer into a client library's
 * install). Each Node request is buffered, turned into a web `Request`, run through the app with
 * `HttpEffect.toWebHandlerWith`, and the web `Response` written back.
 *
 * The raw Node request and response are put in the request's context as {@link NodeExchange}, so a
 * handler can do what a web `Response` cannot: destroy the socket (fault injection).
 */
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Zlib from "node:zlib"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HttpEffect from "effect/http/HttpEffect"
import * as HttpServer from "effect/http/HttpServer"
import * as HttpServerError from "effect/http/HttpServerError"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as NetAddress from "effect/net/NetAddress"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"

/** The raw Node exchange of the request being handled. */
export class NodeExchange extends Context.Service<
  NodeExchange,
  {
    readonly req: Http.IncomingMessage
    readonly res: Http.ServerResponse
    /** The body as UTF-8 text (decoded once, on first call). */
    readonly text: () => string
  }
>()("promptlayer-effect/internal/NodeExchange") {}

/**
 * The request body as text: from the buffered Node body when served over node:http (one
 * `Buffer.toString`, not the web `Request`'s stream reader), else the `HttpServerRequest`'s `text`;
 * "" when it cannot be read.
 */
export const requestText: Effect.Effect<string, never, HttpServerRequest.HttpServerRequest> = Effect.flatMap(
  Effect.serviceOption(NodeExchange),
  (exchange) =>
    Option.isSome(exchange)
      ? Effect.sync(exchange.value.text)
      : Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => Effect.orElseSucceed(request.text, () => ""))
)

/** Options of {@link make}. */
export interface Options {
  readonly port: number
  readonly host: string
  /** Largest accepted request body, in bytes (after gunzip); larger ones get 413. Default 32 MiB. */
  readonly maxBodyBytes?: number | undefined
  /** Time allowed to receive a request's headers; then 408 and the connection closes. Default 10 s. */
  readonly headersTimeoutMs?: number | undefined
  /** Time allowed to receive a whole request (headers and body); then 408. Default 30 s. */
  readonly requestTimeoutMs?: number | undefined
  /** Open connections at most; further ones are closed at once. Default 512. */
  readonly maxConnections?: number | undefined
}

/** Defaults of the {@link Options} limits. */
export const defaults = {
  maxBodyBytes: 32 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 512
} as const

class BodyTooLarge extends Error {
  constructor(readonly max: number) {
    super(`Request body larger than ${max} bytes (maxBodyBytes)`)
  }
}

/**
 * Buffers the body up to `max` bytes. Past that it stops keeping chunks and rejects, but leaves the
 * request flowing so Node discards the rest and the client reads the 413 instead of a reset.
 */
const readBody = (req: Http.IncomingMessage, max: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"])
    if (Number.isFinite(declared) && declared > max) {
      reject(new BodyTooLarge(max))
      return
    }
    const chunks: Array<Buffer> = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > max) {
        req.off("data", onData)
        req.resume()
        chunks.length = 0
        reject(new BodyTooLarge(max))
        return
      }
      chunks.push(chunk)
    }
    req.on("data", onData)
    req.on("end", () => resolve(Buffer.concat(chunks)))
    req.on("error", reject)
  })

/**
 * Starts a Node HTTP server listening on `host:port` (port 0 = any free port) as an
 * `HttpServer`. The server and every open connection are closed with the scope.
 *
 * Its `address` is a `NetAddress` (`InetAddressV4`/`V6`): `address.port` is the bound port.
 *
 * @example
 * ```ts
 * const server = yield* NodeHttp.make({ port: 0, host: "127.0.0.1" })
 * yield* server.serve(app)
 * ```
 */
export const make = (
  options: Options
): Effect.Effect<HttpServer.HttpServer["Service"], HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function* () {
    const headersTimeout = options.headersTimeoutMs ?? defaults.headersTimeoutMs
    const requestTimeout = Math.max(options.requestTimeoutMs ?? defaults.requestTimeoutMs, headersTimeout)
    // Node checks both timeouts on this interval (default 30 s), which would let a slow client
    // stay far past its timeout.
    const server = Http.createServer({
      headersTimeout,
      requestTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4)))
    })
    server.maxConnections = options.maxConnections ?? defaults.maxConnections
    const sockets = new Set<Net.Socket>()
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    yield* Effect.callback<void, HttpServerError.ServeError>((resume) => {
      const onError = (cause: unknown) => resume(Effect.fail(new HttpServerError.ServeError({ cause })))
      server.once("error", onError)
      server.listen(options.port, options.host, () => {
        server.off("error", onError)
        resume(Effect.void)
      })
    })
    yield* Effect.addFinalizer(() =>
      Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
        for (const socket of sockets) socket.destroy()
      })
    )
    const address = server.address() as Net.AddressInfo
    const max = options.maxBodyBytes ?? defaults.maxBodyBytes
    return HttpServer.make({
      address: NetAddress.inetAddressFromNativeUnsafe(address.address, address.port),
      serve: (app, middleware) =>
        Effect.gen(function* () {
          const context = yield* Effect.context<never>()
          // The app runs uninterruptibly except inside route handlers (the router makes those
          // interruptible), so a client abort interrupts a handler, never the guard.
          const handler = HttpEffect.toWebHandlerWith<never, HttpServerRequest.HttpServerRequest | Scope.Scope>(
            context
          )(app, middleware)
          const onRequest = (req: Http.IncomingMessage, res: Http.ServerResponse) => {
            void handle(req, res, handler, max)
          }
          server.on("request", onRequest)
          yield* Effect.addFinalizer(() => Effect.sync(() => server.off("request", onRequest)))
        })
    })
  })

const gunzip = (body: Buffer, max: number): Buffer => {
  try {
    return Zlib.gunzipSync(body, { maxOutputLength: max })
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError) {
      throw new BodyTooLarge(max)
    }
    throw new Error("Malformed gzip request body")
  }
}

const handle = async (
  req: Http.IncomingMessage,
  res: Http.ServerResponse,
  handler: (request: Request, context?: Context.Context<never>) => Promise<Response>,
  max: number
) => {
  try {
    let body = await readBody(req, max)
    // OTLP exporters may gzip their JSON.
    const gzipped = req.headers["content-encoding"] === "gzip"
    if (gzipped) body = gunzip(body, max)
    const headers = new Headers()
    for (const [key, value] of Object.entries(req.headers)) {
      if (value === undefined || (gzipped && (key === "content-encoding" || key === "content-length"))) continue
      if (Array.isArray(value)) for (const v of value) headers.append(key, v)
      else headers.set(key, value)
    }
    const controller = new AbortController()
    res.on("close", () => {
      if (!res.writableFinished) controller.abort()
    })
    const method = req.method ?? "GET"
    const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
      method,
      headers,
      signal: controller.signal,
      ...(method === "GET" || method === "HEAD" || body.length === 0
        ? {}
        : { body: new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.length) })
    })
    let text: string | undefined
    const exchange = { req, res, text: () => (text ??= body.toString("utf8")) }
    const response = await handler(request, Context.make(NodeExchange, exchange) as Context.Context<never>)
    if (res.destroyed || res.headersSent) return
    const out = Buffer.from(await response.arrayBuffer())
    const outHeaders: Record<string, string | Array<string>> = {}
    response.headers.forEach((value, key) => {
      outHeaders[key] = value
    })
    outHeaders["content-length"] = String(out.length)
    res.writeHead(response.status, outHeaders)
    res.end(method === "HEAD" ? undefined : out)
  } catch (error) {
    if (res.destroyed) return
    if (!res.headersSent) {
      const text = JSON.stringify({ success: false, message: error instanceof Error ? error.message : "bad request" })
      res.writeHead(error instanceof BodyTooLarge ? 413 : 400, {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(text))
      })
      res.end(text)
    } else res.destroy()
  }
}

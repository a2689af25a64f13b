/**
 * The node:http `HttpClient` (PromptLayerHttp.layerNode) over real loopback HTTP: a bare
 * `node:http` server stands in for PromptLayer so each test controls the answer. Then, for both
 * transports (`layerFetch`, `layerNode`/`layerDefault`): redirects are never followed (issue 11,
 * point 2) and answers are cut at `maxResponseBytes` while they are read (point 4), against bare
 * TCP servers that stream far more than the limit.
 */
import * as NodeHttp from "node:http"
import * as Net from "node:net"
import * as Zlib from "node:zlib"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Deferred, Effect, Exit, Fiber, Layer } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { TestClock } from "effect/testing"
import { PromptLayerClient, PromptLayerConfig, PromptLayerHttp } from "promptlayer-effect"
import { PromptLayer, ResponseTooLargeError } from "promptlayer-effect/promise"

const apiKey = "pl_http_test_key_0123456789"

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: NodeHttp.IncomingHttpHeaders
  readonly body: string
  readonly remotePort: number | undefined
}

interface Running {
  readonly url: string
  readonly seen: Array<Seen>
  /** Client ports of the connections closed so far. */
  readonly closed: Array<number | undefined>
  readonly server: NodeHttp.Server
  readonly sockets: Set<Net.Socket>
}

type Handler = (req: NodeHttp.IncomingMessage, res: NodeHttp.ServerResponse, body: string) => void

/** A loopback server on port 0 whose answers `handler` writes; closed (with its sockets) with the scope. */
const server = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.callback<Running>((resume) => {
      const seen: Array<Seen> = []
      const closed: Array<number | undefined> = []
      const sockets = new Set<Net.Socket>()
      const s = NodeHttp.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8")
          seen.push({
            method: req.method ?? "",
            url: req.url ?? "",
            headers: req.headers,
            body,
            remotePort: req.socket.remotePort
          })
          handler(req, res, body)
        })
      })
      s.on("connection", (socket) => {
        sockets.add(socket)
        const port = socket.remotePort
        socket.on("close", () => {
          sockets.delete(socket)
          closed.push(port)
        })
      })
      s.listen(0, "127.0.0.1", () => {
        const address = s.address() as Net.AddressInfo
        resume(Effect.succeed({ url: `http://127.0.0.1:${address.port}`, seen, closed, server: s, sockets }))
      })
    }),
    (running) =>
      Effect.callback<void>((resume) => {
        running.server.close(() => resume(Effect.void))
        for (const socket of running.sockets) socket.destroy()
      })
  )

const json = (res: NodeHttp.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(JSON.stringify(body))
}

const logBody = {
  provider: "openai",
  model: "gpt-4o-mini",
  input: {
    type: "chat" as const,
    messages: [{ role: "user" as const, content: [{ type: "text" as const, text: "Hi" }] }]
  },
  output: {
    type: "chat" as const,
    messages: [{ role: "assistant" as const, content: [{ type: "text" as const, text: "Hello" }] }]
  },
  request_start_time: new Date("2026-01-01T00:00:00.000Z"),
  request_end_time: new Date("2026-01-01T00:00:01.000Z")
}

const clientOver = (baseUrl: string, retry: PromptLayerClient.Options["retry"] = { maxAttempts: 1 }) =>
  PromptLayerClient.layerWith({ apiKey, baseUrl, retry }).pipe(Layer.provide(PromptLayerHttp.layerNode()))

/** Waits (without sleeping) until `predicate` holds, checking on each turn of the event loop. */
const until = (predicate: () => boolean) =>
  Effect.callback<void>((resume) => {
    const check = () => (predicate() ? resume(Effect.void) : setImmediate(check))
    check()
  })

describe("PromptLayerHttp.layerNode", () => {
  it.effect("success: sends method, path, headers and JSON body; the client decodes the answer", () =>
    Effect.gen(function* () {
      const { url, seen } = yield* server((_req, res) => json(res, 200, { success: true, id: 42, request_id: 42 }))
      const response = yield* Effect.flatMap(PromptLayerClient.PromptLayerClient, (c) => c.logRequest(logBody)).pipe(
        Effect.provide(clientOver(url))
      )
      assert.strictEqual(response.id, 42)
      assert.strictEqual(seen.length, 1)
      const request = seen[0]!
      assert.strictEqual(request.method, "POST")
      assert.strictEqual(request.url, "/log-request")
      assert.strictEqual(request.headers["x-api-key"], apiKey)
      assert.strictEqual(request.headers["content-type"], "application/json")
      assert.strictEqual(request.headers["content-length"], String(Buffer.byteLength(request.body)))
      const sent = JSON.parse(request.body) as { model: string; request_start_time: string }
      assert.strictEqual(sent.model, "gpt-4o-mini")
      assert.strictEqual(sent.request_start_time, "2026-01-01T00:00:00.000Z")
    })
  )

  it.effect("status: the raw response carries status, headers and body; the client maps 503 to ServerError", () =>
    Effect.gen(function* () {
      const { url } = yield* server((_req, res) =>
        json(res, 503, { success: false, message: "overloaded" }, { "retry-after": "7", "x-extra": "a" })
      )
      const raw = yield* Effect.gen(function* () {
        const http = yield* HttpClient.HttpClient
        const response = yield* http.execute(HttpClientRequest.get(`${url}/anything`))
        return { status: response.status, headers: response.headers, body: yield* response.json }
      }).pipe(Effect.scoped, Effect.provide(PromptLayerHttp.layerNode()))
      assert.strictEqual(raw.status, 503)
      assert.strictEqual(raw.headers["retry-after"], "7")
      assert.strictEqual(raw.headers["x-extra"], "a")
      assert.deepStrictEqual(raw.body, { success: false, message: "overloaded" })

      const error = yield* Effect.flatMap(PromptLayerClient.PromptLayerClient, (c) => c.logRequest(logBody)).pipe(
        Effect.flip,
        Effect.provide(clientOver(url))
      )
      assert.strictEqual(error._tag, "ServerError")
      if (error._tag === "ServerError") {
        assert.strictEqual(error.status, 503)
        assert.strictEqual(error.retryAfterMs, 7000)
        assert.strictEqual(error.serverMessage, "overloaded")
      }
    })
  )

  it.effect(
    "transport error: a closed port is an HttpClientError (TransportError), a TransportError without the key",
    () =>
      Effect.gen(function* () {
        const { url } = yield* Effect.scoped(server((_req, res) => json(res, 200, {})))
        // the scope above has closed the server: nothing listens on that port any more
        const raw = yield* Effect.gen(function* () {
          const http = yield* HttpClient.HttpClient
          return yield* http.execute(HttpClientRequest.get(`${url}/x`))
        }).pipe(Effect.scoped, Effect.flip, Effect.provide(PromptLayerHttp.layerNode()))
        assert.strictEqual(raw._tag, "HttpClientError")
        assert.strictEqual(raw.reason._tag, "TransportError")

        const error = yield* Effect.flatMap(PromptLayerClient.PromptLayerClient, (c) => c.logRequest(logBody)).pipe(
          Effect.flip,
          Effect.provide(clientOver(url))
        )
        assert.strictEqual(error._tag, "TransportError")
        assert.include(String(error), "ECONNREFUSED")
        assert.notInclude(JSON.stringify(error), apiKey)
        assert.notInclude(String(error), apiKey)
      })
  )

  it.effect("interrupting a request destroys it: the server sees the connection closed", () =>
    Effect.gen(function* () {
      const received = yield* Deferred.make<void>()
      const { url, closed, seen } = yield* server(() => {
        Deferred.doneUnsafe(received, Exit.void)
      })
      const fiber = yield* Effect.gen(function* () {
        const http = yield* HttpClient.HttpClient
        return yield* http.execute(HttpClientRequest.get(`${url}/hang`))
      }).pipe(Effect.scoped, Effect.provide(PromptLayerHttp.layerNode()), Effect.forkChild)
      yield* Deferred.await(received)
      yield* Fiber.interrupt(fiber)
      yield* until(() => closed.length === 1)
      assert.strictEqual(seen.length, 1)
      assert.deepStrictEqual(closed, [seen[0]!.remotePort])
    })
  )

  it.effect("the per-attempt timeout (TestClock) fails with TimeoutError and aborts the request", () =>
    Effect.gen(function* () {
      const received = yield* Deferred.make<void>()
      const { url, closed } = yield* server(() => {
        Deferred.doneUnsafe(received, Exit.void)
      })
      const fiber = yield* Effect.flatMap(PromptLayerClient.PromptLayerClient, (c) => c.logRequest(logBody)).pipe(
        Effect.flip,
        Effect.provide(clientOver(url, { maxAttempts: 1, attemptTimeout: "5 seconds" })),
        Effect.forkChild
      )
      yield* Deferred.await(received)
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "TimeoutError")
      if (error._tag === "TimeoutError") assert.strictEqual(error.reason, "attempt")
      yield* until(() => closed.length === 1)
      assert.strictEqual(closed.length, 1)
    })
  )

  it.effect("keep-alive: sequential requests reuse one connection", () =>
    Effect.gen(function* () {
      const { url, seen } = yield* server((_req, res) => json(res, 200, { success: true, id: 1, request_id: 1 }))
      yield* Effect.gen(function* () {
        const client = yield* PromptLayerClient.PromptLayerClient
        for (let i = 0; i < 5; i++) yield* client.logRequest(logBody)
      }).pipe(Effect.provide(clientOver(url)))
      assert.strictEqual(seen.length, 5)
      assert.strictEqual(new Set(seen.map((s) => s.remotePort)).size, 1)
      assert.notStrictEqual(seen[0]!.headers.connection, "close")
    })
  )

  it("layerDefault picks node:http on Node", () => {
    assert.isTrue(PromptLayerHttp.nodeAvailable())
  })
})

// ---------------------------------------------------------------------------------------------
// Issue 11, point 2: no transport follows a redirect; the key never leaves the configured origin.
// ---------------------------------------------------------------------------------------------

const transports: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["layerFetch", PromptLayerHttp.layerFetch],
  ["layerNode", PromptLayerHttp.layerNode()],
  ["layerDefault", PromptLayerHttp.layerDefault]
]

/** A server that counts every connection made to it, even one that never sends a request. */
const countingServer = Effect.gen(function* () {
  const running = yield* server((_req, res) => json(res, 200, { success: true, id: 1, request_id: 1 }))
  const connections = { count: 0 }
  running.server.on("connection", () => {
    connections.count++
  })
  return { ...running, connections }
})

const scoreOver = <E>(layer: Layer.Layer<PromptLayerClient.PromptLayerClient, E>) =>
  Effect.flatMap(PromptLayerClient.PromptLayerClient, (c) => c.track.score({ request_id: 1, score: 100 })).pipe(
    Effect.flip,
    Effect.provide(layer)
  )

describe("redirects are never followed (issue 11, point 2)", () => {
  for (const [name, transport] of transports) {
    for (const status of [301, 302, 307, 308]) {
      it.effect(`${name}: a ${status} to another port is a RedirectError; the other server gets nothing`, () =>
        Effect.gen(function* () {
          const elsewhere = yield* countingServer
          const location = `${elsewhere.url}/library-track-score`
          const origin = yield* server((_req, res) => {
            res.writeHead(status, { location, "content-type": "text/plain" })
            res.end("moved")
          })
          const error = yield* scoreOver(
            PromptLayerClient.layerWith({ apiKey, baseUrl: origin.url, retry: { maxAttempts: 1 } }).pipe(
              Layer.provide(transport)
            )
          )
          assert.strictEqual(error._tag, "RedirectError")
          if (error._tag !== "RedirectError") return
          assert.strictEqual(error.status, status)
          assert.strictEqual(error.location, location)
          assert.include(error.message, `redirected (${status}) to ${location}`)
          assert.notInclude(error.message, apiKey)
          assert.notInclude(JSON.stringify(error), apiKey)
          assert.strictEqual(origin.seen.length, 1, "one attempt, not retried")
          assert.strictEqual(origin.seen[0]!.method, "POST")
          assert.strictEqual(elsewhere.seen.length, 0)
          assert.strictEqual(elsewhere.connections.count, 0, "no connection to the other origin at all")
        })
      )
    }
  }

  it.effect("PromptLayerClient.layerFetch (the README quick start) does not follow a 302 either", () =>
    Effect.gen(function* () {
      const elsewhere = yield* countingServer
      const origin = yield* server((_req, res) => {
        res.writeHead(302, { location: `${elsewhere.url}/library-track-score` })
        res.end()
      })
      const error = yield* scoreOver(PromptLayerClient.layerFetch).pipe(
        Effect.provideService(
          ConfigProvider.ConfigProvider,
          ConfigProvider.fromEnvRecord({
            PROMPTLAYER_API_KEY: apiKey,
            PROMPTLAYER_BASE_URL: origin.url,
            PROMPTLAYER_MAX_RETRIES: "0"
          })
        )
      )
      assert.strictEqual(error._tag, "RedirectError")
      assert.strictEqual(elsewhere.connections.count, 0)
    })
  )

  it.effect("layerFetch keeps a RequestInit given to it, except `redirect`", () =>
    Effect.gen(function* () {
      const elsewhere = yield* countingServer
      const origin = yield* server((_req, res) => {
        res.writeHead(307, { location: `${elsewhere.url}/library-track-score` })
        res.end()
      })
      const transport = PromptLayerHttp.layerFetch.pipe(
        Layer.provide(
          Layer.succeed(FetchHttpClient.RequestInit, { redirect: "follow", headers: { "x-from-init": "yes" } })
        )
      )
      const error = yield* scoreOver(
        PromptLayerClient.layerWith({ apiKey, baseUrl: origin.url, retry: { maxAttempts: 1 } }).pipe(
          Layer.provide(transport)
        )
      )
      assert.strictEqual(error._tag, "RedirectError")
      assert.strictEqual(origin.seen[0]!.headers["x-from-init"], "yes")
      assert.strictEqual(elsewhere.connections.count, 0)
    })
  )
})

// ---------------------------------------------------------------------------------------------
// Issue 11, point 4: the size of an answer is capped while it is read, on both transports.
// ---------------------------------------------------------------------------------------------

interface RawConnection {
  /** Bytes of body handed to the socket (with backpressure) before the connection closed. */
  readonly sent: Promise<number>
}

/**
 * A bare TCP server speaking just enough HTTP/1.1: it waits for a whole request, then writes the
 * status line and `head` and calls `body` with the socket. Each connection is recorded.
 */
const rawServer = (head: string, body: (socket: Net.Socket) => Promise<number>) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly url: string; readonly connections: Array<RawConnection>; readonly close: () => void }>(
      (resume) => {
        const connections: Array<RawConnection> = []
        const sockets = new Set<Net.Socket>()
        const s = Net.createServer((socket) => {
          sockets.add(socket)
          socket.on("error", () => {})
          socket.on("close", () => sockets.delete(socket))
          let received = Buffer.alloc(0)
          const onData = (data: Buffer) => {
            received = Buffer.concat([received, data])
            const end = received.indexOf("\r\n\r\n")
            if (end < 0) return
            const length = Number(/content-length: *(\d+)/i.exec(received.subarray(0, end).toString())?.[1] ?? 0)
            if (received.length < end + 4 + length) return
            socket.off("data", onData)
            socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n${head}\r\n`)
            connections.push({ sent: body(socket) })
          }
          socket.on("data", onData)
        })
        s.listen(0, "127.0.0.1", () => {
          const address = s.address() as Net.AddressInfo
          resume(
            Effect.succeed({
              url: `http://127.0.0.1:${address.port}`,
              connections,
              close: () => {
                s.close()
                for (const socket of sockets) socket.destroy()
              }
            })
          )
        })
      }
    ),
    (running) => Effect.sync(running.close)
  )

const MiB = 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, 0x20)

/** Writes `total` bytes of spaces, waiting for `drain` (backpressure); resolves what it wrote once the socket closes. */
const pump =
  (total: number, chunked: boolean) =>
  (socket: Net.Socket): Promise<number> =>
    new Promise((resolve) => {
      let written = 0
      const frame = chunked
        ? Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from("\r\n")])
        : CHUNK
      socket.on("close", () => resolve(written))
      const loop = () => {
        while (written < total && !socket.destroyed) {
          written += CHUNK.length
          if (!socket.write(frame)) {
            socket.once("drain", loop)
            return
          }
        }
        if (socket.destroyed) return
        if (chunked) socket.end("0\r\n\r\n")
        else socket.end()
      }
      loop()
    })

/** Writes `text` as the whole body, in one chunk of chunked encoding. */
const chunkedText = (text: string) => (socket: Net.Socket) =>
  new Promise<number>((resolve) => {
    const bytes = Buffer.from(text)
    socket.on("close", () => resolve(bytes.length))
    socket.end(Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from("\r\n0\r\n\r\n")]))
  })

const limit = 64 * 1024
/** The server offers 128 MiB; a client that stops at 64 KiB lets through at most the socket buffers. */
const offered = 128 * MiB
const boundSent = 32 * MiB

const templatesOver = (url: string, transport: Layer.Layer<HttpClient.HttpClient>, maxResponseBytes = limit) =>
  Effect.flatMap(PromptLayerClient.PromptLayerClient, (c) => c.templates.all()).pipe(
    Effect.provide(
      PromptLayerClient.layerWith({ apiKey, baseUrl: url, maxResponseBytes, retry: { maxAttempts: 1 } }).pipe(
        Layer.provide(transport)
      )
    )
  )

const sizeTransports = transports.slice(0, 2)

describe("the response size is capped while reading (issue 11, point 4)", () => {
  for (const [name, transport] of sizeTransports) {
    for (const [kind, head, chunked] of [
      ["chunked, no Content-Length", "transfer-encoding: chunked\r\n", true],
      ["no Content-Length, body until the connection closes", "", false]
    ] as const) {
      it.effect(`${name}: ${kind}: ResponseTooLargeError at the limit; the connection is dropped`, () =>
        Effect.gen(function* () {
          const raw = yield* rawServer(head, pump(offered, chunked))
          const error = yield* Effect.flip(templatesOver(raw.url, transport))
          assert.strictEqual(error._tag, "ResponseTooLargeError")
          if (error._tag !== "ResponseTooLargeError") return
          assert.strictEqual(error.maxResponseBytes, limit)
          assert.strictEqual(error.status, 200)
          assert.isUndefined(error.declaredBytes)
          assert.include(error.message, `${limit} bytes`)
          assert.strictEqual(raw.connections.length, 1)
          const sent = yield* Effect.promise(() => raw.connections[0]!.sent)
          assert.isBelow(sent, boundSent, `the server could write ${sent} of ${offered} bytes`)
        })
      )
    }

    it.effect(`${name}: a Content-Length over the limit fails before the body is read`, () =>
      Effect.gen(function* () {
        const raw = yield* rawServer(`content-length: ${offered}\r\n`, pump(offered, false))
        const error = yield* Effect.flip(templatesOver(raw.url, transport))
        assert.strictEqual(error._tag, "ResponseTooLargeError")
        if (error._tag !== "ResponseTooLargeError") return
        assert.strictEqual(error.declaredBytes, offered)
        assert.include(error.message, `Content-Length: ${offered} bytes`)
        const sent = yield* Effect.promise(() => raw.connections[0]!.sent)
        assert.isBelow(sent, boundSent)
      })
    )

    it.effect(`${name}: an answer of exactly the limit is read; one byte more is not`, () =>
      Effect.gen(function* () {
        const answer = JSON.stringify({ success: true, items: [], page: 1, per_page: 10, has_next: false, total: 0 })
        const exact = answer + " ".repeat(limit - answer.length)
        const ok = yield* rawServer("transfer-encoding: chunked\r\n", chunkedText(exact))
        const page = yield* templatesOver(ok.url, transport)
        assert.deepStrictEqual(page.items, [])
        const over = yield* rawServer("transfer-encoding: chunked\r\n", chunkedText(`${exact} `))
        const error = yield* Effect.flip(templatesOver(over.url, transport))
        assert.strictEqual(error._tag, "ResponseTooLargeError")
      })
    )
  }

  it.effect("layerFetch: a small gzip body that inflates past the limit is cut while inflating", () =>
    Effect.gen(function* () {
      const bomb = Zlib.gzipSync(Buffer.alloc(32 * MiB, 0x20))
      const raw = yield* rawServer(
        `content-encoding: gzip\r\ncontent-length: ${bomb.length}\r\n`,
        (socket) =>
          new Promise((resolve) => {
            socket.on("close", () => resolve(bomb.length))
            socket.end(bomb)
          })
      )
      assert.isBelow(bomb.length, limit, "the compressed body is under the limit: only inflating goes past it")
      const error = yield* Effect.flip(templatesOver(raw.url, PromptLayerHttp.layerFetch))
      assert.strictEqual(error._tag, "ResponseTooLargeError")
    })
  )

  it.effect("the default limit is PromptLayerConfig.DEFAULT_MAX_RESPONSE_BYTES (32 MiB) on both transports", () =>
    Effect.gen(function* () {
      assert.strictEqual(PromptLayerConfig.DEFAULT_MAX_RESPONSE_BYTES, 32 * MiB)
      for (const [, transport] of sizeTransports) {
        const raw = yield* rawServer("transfer-encoding: chunked\r\n", pump(offered, true))
        const error = yield* Effect.flip(
          Effect.flatMap(PromptLayerClient.PromptLayerClient, (c) => c.templates.all()).pipe(
            Effect.provide(
              PromptLayerClient.layerWith({ apiKey, baseUrl: raw.url, retry: { maxAttempts: 1 } }).pipe(
                Layer.provide(transport)
              )
            )
          )
        )
        assert.strictEqual(error._tag, "ResponseTooLargeError")
        if (error._tag === "ResponseTooLargeError") assert.strictEqual(error.maxResponseBytes, 32 * MiB)
        const sent = yield* Effect.promise(() => raw.connections[0]!.sent)
        assert.isBelow(sent, 32 * MiB + boundSent)
      }
    })
  )

  it.effect("the Promise bridge: new PromptLayer({ maxResponseBytes }) rejects with ResponseTooLargeError", () =>
    Effect.gen(function* () {
      assert.throws(() => new PromptLayer({ apiKey, maxResponseBytes: 0 }), /maxResponseBytes/)
      const raw = yield* rawServer("transfer-encoding: chunked\r\n", pump(offered, true))
      const promptlayer = new PromptLayer({
        apiKey,
        baseURL: raw.url,
        maxResponseBytes: limit,
        retry: { maxAttempts: 1 }
      })
      const error = yield* Effect.promise(() =>
        promptlayer.templates.all().then(
          () => undefined,
          (e: unknown) => e
        )
      )
      yield* Effect.promise(() => promptlayer.close())
      assert.instanceOf(error, ResponseTooLargeError)
      if (error instanceof ResponseTooLargeError) assert.strictEqual(error.maxResponseBytes, limit)
      const sent = yield* Effect.promise(() => raw.connections[0]!.sent)
      assert.isBelow(sent, boundSent)
    })
  )

  it.effect("layerNode on its own (no client) stops at 32 MiB: an HttpClientError whose cause names the limit", () =>
    Effect.gen(function* () {
      const raw = yield* rawServer("transfer-encoding: chunked\r\n", pump(offered, true))
      const error = yield* Effect.gen(function* () {
        const http = yield* HttpClient.HttpClient
        return yield* http.execute(HttpClientRequest.get(`${raw.url}/x`))
      }).pipe(Effect.scoped, Effect.flip, Effect.provide(PromptLayerHttp.layerNode()))
      assert.strictEqual(error._tag, "HttpClientError")
      assert.strictEqual(error.reason._tag, "TransportError")
      assert.include(String(error.reason.cause), String(32 * MiB))
    })
  )
})

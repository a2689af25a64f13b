/**
 * The node:http `HttpClient` (PromptLayerHttp.layerNode) over real loopback HTTP: a bare
 * `node:http` server stands in for PromptLayer so each test controls the answer.
 */
import * as NodeHttp from "node:http"
import type * as Net from "node:net"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, TestClock } from "effect"
import { PromptLayerClient, PromptLayerHttp } from "promptlayer-effect"

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
    Effect.async<Running>((resume) => {
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
      Effect.async<void>((resume) => {
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
  Effect.async<void>((resume) => {
    const check = () => (predicate() ? resume(Effect.void) : setImmediate(check))
    check()
  })

describe("PromptLayerHttp.layerNode", () => {
  it.scoped("success: sends method, path, headers and JSON body; the client decodes the answer", () =>
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

  it.scoped("status: the raw response carries status, headers and body; the client maps 503 to ServerError", () =>
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

  it.scoped("transport error: a closed port is a RequestError (Transport), a TransportError without the key", () =>
    Effect.gen(function* () {
      const { url } = yield* Effect.scoped(server((_req, res) => json(res, 200, {})))
      // the scope above has closed the server: nothing listens on that port any more
      const raw = yield* Effect.gen(function* () {
        const http = yield* HttpClient.HttpClient
        return yield* http.execute(HttpClientRequest.get(`${url}/x`))
      }).pipe(Effect.scoped, Effect.flip, Effect.provide(PromptLayerHttp.layerNode()))
      assert.strictEqual(raw._tag, "RequestError")
      if (raw._tag === "RequestError") assert.strictEqual(raw.reason, "Transport")

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

  it.scoped("interrupting a request destroys it: the server sees the connection closed", () =>
    Effect.gen(function* () {
      const received = yield* Deferred.make<void>()
      const { url, closed, seen } = yield* server(() => {
        Deferred.unsafeDone(received, Effect.void)
      })
      const fiber = yield* Effect.gen(function* () {
        const http = yield* HttpClient.HttpClient
        return yield* http.execute(HttpClientRequest.get(`${url}/hang`))
      }).pipe(Effect.scoped, Effect.provide(PromptLayerHttp.layerNode()), Effect.fork)
      yield* Deferred.await(received)
      yield* Fiber.interrupt(fiber)
      yield* until(() => closed.length === 1)
      assert.strictEqual(seen.length, 1)
      assert.deepStrictEqual(closed, [seen[0]!.remotePort])
    })
  )

  it.scoped("the per-attempt timeout (TestClock) fails with TimeoutError and aborts the request", () =>
    Effect.gen(function* () {
      const received = yield* Deferred.make<void>()
      const { url, closed } = yield* server(() => {
        Deferred.unsafeDone(received, Effect.void)
      })
      const fiber = yield* Effect.flatMap(PromptLayerClient.PromptLayerClient, (c) => c.logRequest(logBody)).pipe(
        Effect.flip,
        Effect.provide(clientOver(url, { maxAttempts: 1, attemptTimeout: "5 seconds" })),
        Effect.fork
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

  it.scoped("keep-alive: sequential requests reuse one connection", () =>
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

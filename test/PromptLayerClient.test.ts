/**
 * Unit tests of every PromptLayerClient operation over a scripted `HttpClient`: what is sent
 * (method, path, query, auth, body), input validation before any network call, timestamp
 * normalisation, URL-encoding of template names, pagination as a Stream, the status → error
 * table, and the spans each operation opens.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import { Headers, HttpClient } from "effect/http"
import type { PromptLayerClient, PromptLayerError } from "promptlayer-effect"
import {
  clientOver as mockClientOver,
  type MockHttp,
  mockHttp,
  type Reply,
  type SeenRequest
} from "./support/mockHttpClient.js"

const API_KEY = "pl_test_client_0123456789abcdef"

const clientOver = (mock: MockHttp) => mockClientOver(mock, API_KEY)

/** Runs `f` against a client whose server answers every request with `reply`. */
const withReply = <A, E>(reply: Reply, f: (client: PromptLayerClient.Service) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const mock = mockHttp(() => reply)
    const client = yield* clientOver(mock)
    const result = yield* Effect.result(f(client))
    return { result, requests: mock.requests }
  })

const success = { status: 200, json: { success: true } } as const
const chat = (text: string) => ({
  type: "chat" as const,
  messages: [{ role: "user", content: [{ type: "text", text }] }]
})
const logInput = {
  provider: "openai",
  model: "gpt-4o-mini",
  input: chat("Hi"),
  output: { type: "chat" as const, messages: [{ role: "assistant", content: [{ type: "text", text: "Hello" }] }] },
  request_start_time: new Date("2025-04-14T10:21:52.760Z"),
  request_end_time: new Date("2025-04-14T10:21:53.000Z")
}
const trackInput = {
  function_name: "openai.chat.completions.create",
  kwargs: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] },
  request_response: { choices: [{ message: { role: "assistant", content: "Hello" } }] },
  request_start_time: 1744626112.76,
  request_end_time: 1744626113.0
}
const template = (id: number, name = `t${id}`) => ({ id, prompt_name: name, prompt_template: chat(`template ${id}`) })

const failed = <A>(result: Result.Result<A, unknown>): PromptLayerError.PromptLayerError => {
  if (Result.isSuccess(result)) return assert.fail(`expected a failure, got ${JSON.stringify(result.success)}`)
  return result.failure as PromptLayerError.PromptLayerError
}

// =============================================================================

describe("what each operation sends", () => {
  const table: ReadonlyArray<{
    readonly name: string
    readonly run: (client: PromptLayerClient.Service) => Effect.Effect<unknown, unknown>
    readonly reply: Reply
    readonly method: string
    readonly path: string
    readonly bodyAuth: boolean
    readonly body?: Record<string, unknown>
  }> = [
    {
      name: "logRequest",
      run: (c) => c.logRequest(logInput),
      reply: { status: 201, json: { id: 11 } },
      method: "POST",
      path: "/log-request",
      bodyAuth: false,
      body: { provider: "openai", model: "gpt-4o-mini", request_start_time: "2025-04-14T10:21:52.760Z" }
    },
    {
      name: "trackRequest",
      run: (c) => c.trackRequest(trackInput),
      reply: { status: 200, json: { success: true, request_id: 12 } },
      method: "POST",
      path: "/track-request",
      bodyAuth: true,
      body: { function_name: "openai.chat.completions.create", request_end_time: "2025-04-14T10:21:53.000Z" }
    },
    {
      name: "track.score",
      run: (c) => c.track.score({ request_id: 3, score: 75, name: "accuracy" }),
      reply: success,
      method: "POST",
      path: "/library-track-score",
      bodyAuth: true,
      body: { request_id: 3, score: 75, name: "accuracy" }
    },
    {
      name: "track.metadata",
      run: (c) => c.track.metadata({ request_id: 3, metadata: { user: "u1" } }),
      reply: success,
      method: "POST",
      path: "/library-track-metadata",
      bodyAuth: true,
      body: { request_id: 3, metadata: { user: "u1" } }
    },
    {
      name: "track.prompt",
      run: (c) => c.track.prompt({ request_id: 3, prompt_name: "p", prompt_input_variables: { a: 1 }, version: 2 }),
      reply: success,
      method: "POST",
      path: "/library-track-prompt",
      bodyAuth: true,
      body: { request_id: 3, prompt_name: "p", prompt_input_variables: { a: 1 }, version: 2 }
    },
    {
      name: "track.group",
      run: (c) => c.track.group({ request_id: 3, group_id: 4 }),
      reply: success,
      method: "POST",
      path: "/track-group",
      bodyAuth: true,
      body: { request_id: 3, group_id: 4 }
    },
    {
      name: "group.create",
      run: (c) => c.group.create(),
      reply: { status: 200, json: { success: true, id: 5 } },
      method: "POST",
      path: "/create-group",
      bodyAuth: true,
      body: {}
    },
    {
      name: "templates.get",
      run: (c) => c.templates.get("greeting", { label: "prod" }),
      reply: { status: 200, json: template(6, "greeting") },
      method: "POST",
      path: "/prompt-templates/greeting",
      bodyAuth: true,
      body: { label: "prod" }
    },
    {
      name: "templates.publish",
      run: (c) => c.templates.publish({ prompt_name: "greeting", prompt_template: chat("Hi {name}") }),
      reply: { status: 201, json: template(7, "greeting") },
      method: "POST",
      path: "/rest/prompt-templates",
      bodyAuth: false
    },
    {
      name: "templates.all",
      run: (c) => c.templates.all({ per_page: 5 }),
      reply: { status: 200, json: { items: [], page: 1, per_page: 5, total: 0, has_next: false } },
      method: "GET",
      path: "/prompt-templates",
      bodyAuth: false
    }
  ]

  for (const row of table) {
    it.effect(
      `${row.name}: ${row.method} ${row.path}, X-API-KEY header${row.bodyAuth ? " and api_key in the body" : " only"}`,
      () =>
        Effect.gen(function* () {
          const { result, requests } = yield* withReply(row.reply, row.run)
          assert.isTrue(
            Result.isSuccess(result),
            `the call failed: ${Result.isFailure(result) ? String(result.failure) : ""}`
          )
          assert.strictEqual(requests.length, 1)
          const sent = requests[0]!
          assert.strictEqual(sent.method, row.method)
          assert.strictEqual(sent.url.origin, "http://127.0.0.1:9")
          assert.strictEqual(sent.url.pathname, row.path)
          assert.strictEqual(sent.headers["x-api-key"], API_KEY)
          assert.strictEqual(sent.headers.accept, "application/json")
          if (row.method === "GET") {
            assert.isUndefined(sent.body)
          } else {
            assert.strictEqual(sent.headers["content-type"], "application/json")
            const body = sent.body as Record<string, unknown>
            if (row.bodyAuth) assert.strictEqual(body.api_key, API_KEY)
            else assert.notProperty(body, "api_key")
            for (const [key, value] of Object.entries(row.body ?? {})) assert.deepStrictEqual(body[key], value, key)
          }
        })
    )
  }

  it.effect("responses come back decoded: ids, envelopes, extra fields kept", () =>
    Effect.gen(function* () {
      const logged = yield* withReply({ status: 201, json: { id: 41, engine: "gpt-4o-mini" } }, (c) =>
        c.logRequest(logInput)
      )
      assert.deepStrictEqual(Result.getOrThrow(logged.result), { id: 41, engine: "gpt-4o-mini" })
      const tracked = yield* withReply(
        { status: 200, json: { success: true, request_id: 42, prompt_blueprint: null, message: "ok" } },
        (c) => c.trackRequest(trackInput)
      )
      assert.strictEqual(Result.getOrThrow(tracked.result).request_id, 42)
      const group = yield* withReply({ status: 200, json: { success: true, id: 43 } }, (c) => c.group.create())
      assert.strictEqual(Result.getOrThrow(group.result), 43)
      const scored = yield* withReply(success, (c) => c.track.score({ request_id: 1, score: 1 }))
      assert.isUndefined(Result.getOrThrow(scored.result))
    })
  )

  it.effect("templates.publish sends the body twice, as the SDKs do, with release_labels beside", () =>
    Effect.gen(function* () {
      const input = {
        prompt_name: "greeting",
        prompt_template: chat("Hi"),
        tags: ["t"],
        commit_message: "first",
        release_labels: ["prod"]
      }
      const { requests } = yield* withReply({ status: 201, json: template(1, "greeting") }, (c) =>
        c.templates.publish(input)
      )
      const body = requests[0]!.body as Record<string, any>
      assert.deepStrictEqual(Object.keys(body).sort(), ["prompt_template", "prompt_version", "release_labels"])
      assert.deepStrictEqual(body.prompt_template, input)
      assert.deepStrictEqual(body.prompt_version, input)
      assert.deepStrictEqual(body.release_labels, ["prod"])
      const { requests: without } = yield* withReply({ status: 201, json: template(1, "greeting") }, (c) =>
        c.templates.publish({ prompt_name: "greeting", prompt_template: chat("Hi") })
      )
      assert.strictEqual((without[0]!.body as Record<string, unknown>).release_labels, null)
    })
  )

  it.effect("templates.publish accepts 200 as well as 201", () =>
    Effect.gen(function* () {
      for (const status of [200, 201]) {
        const { result } = yield* withReply({ status, json: template(8, "greeting") }, (c) =>
          c.templates.publish({ prompt_name: "greeting", prompt_template: chat("Hi") })
        )
        assert.strictEqual(Result.getOrThrow(result).id, 8)
      }
    })
  )

  it.effect("templates.all sends its parameters as the query; tags repeat", () =>
    Effect.gen(function* () {
      const { requests } = yield* withReply(
        { status: 200, json: { items: [], page: 2, per_page: 10, total: 0, has_next: false } },
        (c) => c.templates.all({ page: 2, per_page: 10, label: "prod", name: "calc", tags: ["a", "b"], status: "all" })
      )
      const query = requests[0]!.url.searchParams
      assert.strictEqual(query.get("page"), "2")
      assert.strictEqual(query.get("per_page"), "10")
      assert.strictEqual(query.get("label"), "prod")
      assert.strictEqual(query.get("name"), "calc")
      assert.deepStrictEqual(query.getAll("tags"), ["a", "b"])
      assert.strictEqual(query.get("status"), "all")
    })
  )
})

// =============================================================================

describe("validation before any network call", () => {
  const invalid: ReadonlyArray<
    readonly [string, (client: PromptLayerClient.Service) => Effect.Effect<unknown, unknown>, string]
  > = [
    ["score above 100", (c) => c.track.score({ request_id: 1, score: 101 }), "score"],
    ["score below 0", (c) => c.track.score({ request_id: 1, score: -1 }), "score"],
    ["score not an integer", (c) => c.track.score({ request_id: 1, score: 42.5 }), "score"],
    ["score as a string", (c) => c.track.score({ request_id: 1, score: "50" as any }), "score"],
    ["score NaN", (c) => c.track.score({ request_id: 1, score: Number.NaN }), "score"],
    ["score name empty", (c) => c.track.score({ request_id: 1, score: 5, name: "" }), "name"],
    ["metadata number value", (c) => c.track.metadata({ request_id: 1, metadata: { a: 1 as any } }), "metadata"],
    ["metadata null value", (c) => c.track.metadata({ request_id: 1, metadata: { a: null as any } }), "metadata"],
    [
      "metadata nested object",
      (c) => c.track.metadata({ request_id: 1, metadata: { a: { b: "c" } as any } }),
      "metadata"
    ],
    ["metadata not an object", (c) => c.track.metadata({ request_id: 1, metadata: "a=b" as any }), "metadata"],
    ["request_id 0", (c) => c.track.metadata({ request_id: 0, metadata: {} }), "request_id"],
    ["request_id negative", (c) => c.track.group({ request_id: -3, group_id: 1 }), "request_id"],
    ["request_id fractional", (c) => c.track.score({ request_id: 1.5, score: 1 }), "request_id"],
    ["request_id as a string", (c) => c.track.score({ request_id: "12" as any, score: 1 }), "request_id"],
    ["group_id 0", (c) => c.track.group({ request_id: 1, group_id: 0 }), "group_id"],
    [
      "prompt_name empty",
      (c) => c.track.prompt({ request_id: 1, prompt_name: "", prompt_input_variables: {} }),
      "prompt_name"
    ],
    [
      "prompt_name blank",
      (c) => c.track.prompt({ request_id: 1, prompt_name: "   ", prompt_input_variables: {} }),
      "prompt_name"
    ],
    [
      "prompt_input_variables missing",
      (c) => c.track.prompt({ request_id: 1, prompt_name: "p" } as any),
      "prompt_input_variables"
    ],
    ["template name empty", (c) => c.templates.get(""), ""],
    ["template id 0", (c) => c.templates.get(0), ""],
    ["template id negative", (c) => c.templates.get(-2), ""],
    ["template version 0", (c) => c.templates.get("t", { version: 0 }), "version"],
    [
      "publish with empty name",
      (c) => c.templates.publish({ prompt_name: "", prompt_template: chat("x") }),
      "prompt_name"
    ],
    [
      "publish with a commit message over 72 characters",
      (c) => c.templates.publish({ prompt_name: "t", prompt_template: chat("x"), commit_message: "c".repeat(73) }),
      "commit_message"
    ],
    ["templates.all page 0", (c) => c.templates.all({ page: 0 }), "page"],
    [
      "logRequest with string message content",
      (c) =>
        c.logRequest({
          ...logInput,
          input: { type: "chat", messages: [{ role: "user", content: "Hi" as any }] }
        }),
      "input"
    ],
    [
      "logRequest with an invalid timestamp",
      (c) => c.logRequest({ ...logInput, request_start_time: "yesterday" }),
      "request_start_time"
    ],
    ["logRequest with a score of 200", (c) => c.logRequest({ ...logInput, score: 200 }), "score"],
    ["logRequest with negative tokens", (c) => c.logRequest({ ...logInput, input_tokens: -1 }), "input_tokens"],
    ["logRequest with an unknown status", (c) => c.logRequest({ ...logInput, status: "FAILED" as any }), "status"],
    ["trackRequest without kwargs", (c) => c.trackRequest({ ...trackInput, kwargs: undefined as any }), "kwargs"],
    [
      "trackRequest without request_response",
      (c) => {
        const { request_response: _, ...rest } = trackInput
        return c.trackRequest(rest as any)
      },
      "request_response"
    ],
    [
      "trackRequest with a BigInt in kwargs (not JSON)",
      (c) => c.trackRequest({ ...trackInput, kwargs: { seed: BigInt(1) } }),
      "JSON"
    ],
    [
      "trackRequest with a cyclic request_response (not JSON)",
      (c) => {
        const cyclic: Record<string, unknown> = {}
        cyclic.self = cyclic
        return c.trackRequest({ ...trackInput, request_response: cyclic })
      },
      "JSON"
    ],
    [
      "trackRequest with numeric metadata",
      (c) => c.trackRequest({ ...trackInput, metadata: { n: 1 as any } }),
      "metadata"
    ]
  ]

  for (const [name, run, path] of invalid) {
    it.effect(`${name}: ValidationError, zero requests`, () =>
      Effect.gen(function* () {
        const { result, requests } = yield* withReply(success, run)
        const error = failed(result)
        assert.strictEqual(error._tag, "ValidationError")
        assert.strictEqual(requests.length, 0, "no request was made")
        assert.include(error.message, "invalid input")
        if (path !== "") assert.include(error.message, path)
      })
    )
  }

  it.effect("the validation message is readable: no 'Expected undefined' noise from optional fields", () =>
    Effect.gen(function* () {
      const { result } = yield* withReply(success, (c) => c.templates.get("t", { version: -1, label: " x" }))
      const error = failed(result)
      assert.include(error.message, "version: expected a positive integer id")
      assert.include(error.message, "label: expected no surrounding spaces")
      assert.notInclude(error.message, "Expected undefined")
    })
  )

  it.effect("the boundaries are accepted: score 0 and 100, request_id 1, empty metadata", () =>
    Effect.gen(function* () {
      for (const run of [
        (c: PromptLayerClient.Service) => c.track.score({ request_id: 1, score: 0 }),
        (c: PromptLayerClient.Service) => c.track.score({ request_id: 1, score: 100 }),
        (c: PromptLayerClient.Service) => c.track.metadata({ request_id: 1, metadata: {} })
      ]) {
        const { result, requests } = yield* withReply(success, run)
        assert.isTrue(Result.isSuccess(result))
        assert.strictEqual(requests.length, 1)
      }
    })
  )
})

// =============================================================================

describe("timestamps are sent as ISO-8601 strings", () => {
  const instant = "2025-04-14T10:21:52.760Z"
  const ms = Date.parse(instant)
  for (const [name, value] of [
    ["a Date", new Date(ms)],
    ["epoch milliseconds", ms],
    ["epoch seconds (float, as the Python SDK sends)", ms / 1000],
    ["an ISO string with Z", instant],
    ["an ISO string with an offset", "2025-04-14T12:21:52.760+02:00"],
    ["an ISO string without a zone (as the server echoes; read as UTC)", "2025-04-14T10:21:52.760"],
    ["epoch seconds as a numeric string", String(ms / 1000)]
  ] as const) {
    it.effect(`from ${name}`, () =>
      Effect.gen(function* () {
        const logged = yield* withReply({ status: 201, json: { id: 1 } }, (c) =>
          c.logRequest({ ...logInput, request_start_time: value, request_end_time: value })
        )
        const logBody = logged.requests[0]!.body as Record<string, unknown>
        assert.strictEqual(logBody.request_start_time, instant)
        assert.strictEqual(logBody.request_end_time, instant)
        const tracked = yield* withReply({ status: 200, json: { success: true, request_id: 1 } }, (c) =>
          c.trackRequest({ ...trackInput, request_start_time: value, request_end_time: value })
        )
        assert.strictEqual((tracked.requests[0]!.body as Record<string, unknown>).request_start_time, instant)
      })
    )
  }

  it.effect("a Date passed in is not mutated", () =>
    Effect.gen(function* () {
      const date = new Date(ms)
      yield* withReply({ status: 201, json: { id: 1 } }, (c) => c.logRequest({ ...logInput, request_start_time: date }))
      assert.strictEqual(date.getTime(), ms)
    })
  )
})

// =============================================================================

describe("templates.get URL-encodes the name", () => {
  for (const [identifier, path] of [
    ["test_template:test", "/prompt-templates/test_template%3Atest"],
    ["a b", "/prompt-templates/a%20b"],
    ["folder/name", "/prompt-templates/folder%2Fname"],
    ["what?#100%", "/prompt-templates/what%3F%23100%25"],
    ["Café ☕", "/prompt-templates/Caf%C3%A9%20%E2%98%95"],
    [42, "/prompt-templates/42"]
  ] as const) {
    it.effect(`${JSON.stringify(identifier)} → ${path}`, () =>
      Effect.gen(function* () {
        const { result, requests } = yield* withReply({ status: 200, json: template(1, String(identifier)) }, (c) =>
          c.templates.get(identifier)
        )
        assert.isTrue(Result.isSuccess(result))
        assert.strictEqual(requests[0]!.url.pathname, path)
        assert.strictEqual(requests[0]!.url.search, "")
      })
    )
  }
})

// =============================================================================

describe("templates.stream", () => {
  const pages =
    (total: number, perPage: number) =>
    (request: SeenRequest): Reply => {
      const page = Number(request.url.searchParams.get("page") ?? 1)
      const items = Array.from({ length: total }, (_, i) => template(i + 1)).slice((page - 1) * perPage, page * perPage)
      return {
        status: 200,
        json: {
          items,
          page,
          per_page: perPage,
          pages: Math.ceil(total / perPage),
          total,
          has_next: page * perPage < total,
          has_prev: page > 1
        }
      }
    }

  it.effect("reads every page in order, one request per page", () =>
    Effect.gen(function* () {
      const mock = mockHttp(pages(7, 3))
      const client = yield* clientOver(mock)
      const items = yield* Stream.runCollect(client.templates.stream({ per_page: 3, label: "prod" }))
      assert.deepStrictEqual(
        items.map((item) => item.id),
        [1, 2, 3, 4, 5, 6, 7]
      )
      assert.deepStrictEqual(
        mock.requests.map((r) => r.url.searchParams.get("page")),
        ["1", "2", "3"]
      )
      for (const request of mock.requests) {
        assert.strictEqual(request.url.searchParams.get("per_page"), "3")
        assert.strictEqual(request.url.searchParams.get("label"), "prod")
      }
    })
  )

  it.effect("starts at params.page", () =>
    Effect.gen(function* () {
      const mock = mockHttp(pages(7, 3))
      const client = yield* clientOver(mock)
      const items = yield* Stream.runCollect(client.templates.stream({ page: 2, per_page: 3 }))
      assert.deepStrictEqual(
        items.map((item) => item.id),
        [4, 5, 6, 7]
      )
    })
  )

  it.effect("is lazy: taking 2 items reads only the first page", () =>
    Effect.gen(function* () {
      const mock = mockHttp(pages(7, 3))
      const client = yield* clientOver(mock)
      const items = yield* Stream.runCollect(Stream.take(client.templates.stream({ per_page: 3 }), 2))
      assert.strictEqual(items.length, 2)
      assert.strictEqual(mock.requests.length, 1)
    })
  )

  it.effect("an empty registry is one request and no items", () =>
    Effect.gen(function* () {
      const mock = mockHttp(pages(0, 30))
      const client = yield* clientOver(mock)
      assert.strictEqual((yield* Stream.runCollect(client.templates.stream())).length, 0)
      assert.strictEqual(mock.requests.length, 1)
    })
  )

  it.effect("stops on an empty page even if the server says has_next", () =>
    Effect.gen(function* () {
      const mock = mockHttp((request) => {
        const page = Number(request.url.searchParams.get("page"))
        return {
          status: 200,
          json: { items: page === 1 ? [template(1)] : [], page, per_page: 1, total: 5, has_next: true }
        }
      })
      const client = yield* clientOver(mock)
      assert.strictEqual((yield* Stream.runCollect(client.templates.stream())).length, 1)
      assert.strictEqual(mock.requests.length, 2)
    })
  )

  it.effect("fails with the typed error of the failing page", () =>
    Effect.gen(function* () {
      const mock = mockHttp((request, index) =>
        index === 0 ? pages(7, 3)(request) : { status: 500, json: { message: "db down" } }
      )
      const client = yield* clientOver(mock)
      const result = yield* Effect.result(Stream.runCollect(client.templates.stream({ per_page: 3 })))
      const error = failed(result)
      assert.strictEqual(error._tag, "ServerError")
      assert.include(error.message, "db down")
    })
  )
})

// =============================================================================

describe("status → error", () => {
  const rows: ReadonlyArray<
    readonly [string, Reply, PromptLayerError.PromptLayerError["_tag"], ReadonlyArray<string>]
  > = [
    ["401", { status: 401, json: { message: "Invalid API key" } }, "AuthenticationError", ["401", "Invalid API key"]],
    ["403", { status: 403, json: { error: "Forbidden" } }, "AuthenticationError", ["403", "Forbidden"]],
    [
      "404",
      { status: 404, json: { success: false, message: "Request not found" } },
      "NotFoundError",
      ["404", "Request not found"]
    ],
    ["408", { status: 408, text: "" }, "TimeoutError", ["timed out (server)"]],
    [
      "409",
      { status: 409, json: { message: "External ID conflict" } },
      "InvalidRequestError",
      ["409", "External ID conflict"]
    ],
    [
      "422 (FastAPI detail)",
      {
        status: 422,
        json: { detail: [{ loc: ["body", "score"], msg: "ensure this value is less than or equal to 100", type: "x" }] }
      },
      "InvalidRequestError",
      ["422", "body.score: ensure this value is less than or equal to 100"]
    ],
    [
      "429",
      { status: 429, json: { message: "Slow down" }, headers: { "retry-after": "3" } },
      "RateLimitError",
      ["429", "retry after 3000 ms", "Slow down"]
    ],
    ["500", { status: 500, json: { message: "Internal error" } }, "ServerError", ["500", "Internal error"]],
    [
      "502 (HTML)",
      { status: 502, text: "<html>Bad Gateway</html>" },
      "ServerError",
      ["502", "<html>Bad Gateway</html>"]
    ],
    ["503", { status: 503, text: "" }, "ServerError", ["503"]],
    ["400 with a non-JSON body", { status: 400, text: "bad things" }, "InvalidRequestError", ["400", "bad things"]],
    [
      "200 with success:false",
      { status: 200, json: { success: false, message: "Invalid request_id" } },
      "InvalidRequestError",
      ["200", "Invalid request_id"]
    ],
    ["200 with a non-JSON body", { status: 200, text: "OK" }, "DecodeError", ["not JSON", "OK"]],
    ["200 with an empty body", { status: 200, text: "" }, "DecodeError", ["not JSON"]],
    ["200 with the wrong shape", { status: 200, json: { ok: 1 } }, "DecodeError", ["success", '{"ok":1}']],
    [
      "302 redirect (never followed)",
      { status: 302, text: "", headers: { location: "/elsewhere" } },
      "RedirectError",
      ["302", "/elsewhere", "not followed"]
    ]
  ]

  for (const [name, reply, tag, parts] of rows) {
    it.effect(`${name} → ${tag}`, () =>
      Effect.gen(function* () {
        const { result, requests } = yield* withReply(reply, (c) => c.track.score({ request_id: 1, score: 1 }))
        const error = failed(result)
        assert.strictEqual(error._tag, tag)
        assert.strictEqual(requests.length, 1)
        assert.include(error.message, "POST /library-track-score")
        for (const part of parts) assert.include(error.message, part)
        if ("status" in error && "status" in reply) assert.strictEqual(error.status, reply.status)
      })
    )
  }

  it.effect("a 201 body without `id` from /log-request is a DecodeError with status and excerpt", () =>
    Effect.gen(function* () {
      const { result } = yield* withReply({ status: 201, json: { request_id: 5 } }, (c) => c.logRequest(logInput))
      const error = failed(result) as PromptLayerError.DecodeError
      assert.strictEqual(error._tag, "DecodeError")
      assert.strictEqual(error.status, 201)
      assert.include(error.issue, "id")
      assert.strictEqual(error.excerpt, '{"request_id":5}')
    })
  )

  it.effect("transport failures become TransportError with the cause's description", () =>
    Effect.gen(function* () {
      const { result } = yield* withReply({ transportError: "connect ECONNREFUSED 127.0.0.1:9" }, (c) =>
        c.group.create()
      )
      const error = failed(result)
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "POST /create-group")
      assert.include(error.message, "ECONNREFUSED")
    })
  )
})

// =============================================================================

describe("spans", () => {
  /** A tracer that records every span (delegating to the default one). */
  const recording = Effect.map(Tracer.Tracer, (native) => {
    const spans: Array<Tracer.Span> = []
    const tracer = Tracer.make({
      span(options) {
        const span = native.span(options)
        spans.push(span)
        return span
      },
      ...(native.context === undefined ? {} : { context: native.context })
    })
    return { spans, tracer }
  })

  const operations: ReadonlyArray<
    readonly [string, string, Reply, (client: PromptLayerClient.Service) => Effect.Effect<unknown, unknown>]
  > = [
    ["logRequest", "POST /log-request", { status: 201, json: { id: 1 } }, (c) => c.logRequest(logInput)],
    [
      "trackRequest",
      "POST /track-request",
      { status: 200, json: { success: true, request_id: 1 } },
      (c) => c.trackRequest(trackInput)
    ],
    ["track.score", "POST /library-track-score", success, (c) => c.track.score({ request_id: 1, score: 1 })],
    [
      "track.metadata",
      "POST /library-track-metadata",
      success,
      (c) => c.track.metadata({ request_id: 1, metadata: {} })
    ],
    [
      "track.prompt",
      "POST /library-track-prompt",
      success,
      (c) => c.track.prompt({ request_id: 1, prompt_name: "p", prompt_input_variables: {} })
    ],
    ["track.group", "POST /track-group", success, (c) => c.track.group({ request_id: 1, group_id: 2 })],
    ["group.create", "POST /create-group", { status: 200, json: { success: true, id: 1 } }, (c) => c.group.create()],
    [
      "templates.get",
      "POST /prompt-templates/a%20b",
      { status: 200, json: template(1) },
      (c) => c.templates.get("a b")
    ],
    [
      "templates.publish",
      "POST /rest/prompt-templates",
      { status: 201, json: template(1) },
      (c) => c.templates.publish({ prompt_name: "t", prompt_template: chat("x") })
    ],
    [
      "templates.all",
      "GET /prompt-templates",
      { status: 200, json: { items: [], page: 1, per_page: 1, total: 0, has_next: false } },
      (c) => c.templates.all()
    ]
  ]

  for (const [operation, endpoint, reply, run] of operations) {
    it.effect(
      `${operation}: a client span PromptLayerClient.${operation} with promptlayer.endpoint = ${endpoint}`,
      () =>
        Effect.gen(function* () {
          const { spans, tracer } = yield* recording
          const { result } = yield* withReply(reply, run).pipe(Effect.withTracer(tracer))
          assert.isTrue(Result.isSuccess(result))
          const span = spans.find((s) => s.name === `PromptLayerClient.${operation}`)
          if (span === undefined) return assert.fail(`no span; spans: ${spans.map((s) => s.name).join(", ")}`)
          assert.strictEqual(span.kind, "client")
          assert.strictEqual(span.attributes.get("promptlayer.endpoint"), endpoint)
          assert.strictEqual(span.status._tag, "Ended")
          assert.notInclude(JSON.stringify([...span.attributes]), API_KEY)
        })
    )
  }

  it.effect("a failed call ends its span with the failure", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recording
      yield* withReply({ status: 404, json: { message: "nope" } }, (c) => c.templates.get("missing")).pipe(
        Effect.withTracer(tracer)
      )
      const span = spans.find((s) => s.name === "PromptLayerClient.templates.get")!
      assert.strictEqual(span.status._tag, "Ended")
      if (span.status._tag === "Ended") assert.isTrue(span.status.exit._tag === "Failure")
    })
  )

  it.effect("a call rejected by validation is traced too, with its endpoint", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recording
      const { requests } = yield* withReply(success, (c) => c.track.score({ request_id: 1, score: 500 })).pipe(
        Effect.withTracer(tracer)
      )
      assert.strictEqual(requests.length, 0)
      const span = spans.find((s) => s.name === "PromptLayerClient.track.score")
      if (span === undefined) return assert.fail("no span for a call that failed validation")
      assert.strictEqual(span.attributes.get("promptlayer.endpoint"), "POST /library-track-score")
      if (span.status._tag === "Ended") assert.isTrue(span.status.exit._tag === "Failure")
    })
  )

  it.effect("no span attribute holds the key, even when the app clears the redacted header names", () =>
    Effect.gen(function* () {
      for (const redacted of [undefined, [] as ReadonlyArray<string>, ["authorization"]]) {
        const { spans, tracer } = yield* recording
        const call = withReply(success, (c) => c.track.score({ request_id: 1, score: 1 })).pipe(
          Effect.withTracer(tracer),
          // Effect 4 records no header on HttpClient spans unless the app opts in: this app does.
          Effect.provideService(HttpClient.TracerHeaderFilter, () => true)
        )
        yield* redacted === undefined ? call : Effect.provideService(call, Headers.CurrentRedactedNames, redacted)
        const http = spans.filter((s) => s.name !== "PromptLayerClient.track.score")
        assert.isAbove(http.length, 0, "the HttpClient span was recorded")
        assert.isTrue(
          http.some((s) => [...s.attributes.keys()].some((key) => key.startsWith("http.request.header."))),
          "request headers are recorded as attributes"
        )
        for (const span of spans) {
          assert.notInclude(JSON.stringify([...span.attributes]), API_KEY, `span ${span.name}`)
        }
      }
    })
  )

  it.effect("the HTTP request runs inside the operation span", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recording
      yield* withReply({ status: 200, json: { success: true, id: 1 } }, (c) => c.group.create()).pipe(
        Effect.withTracer(tracer)
      )
      const operation = spans.find((s) => s.name === "PromptLayerClient.group.create")!
      const children = spans.filter((s) => Option.isSome(s.parent) && s.parent.value.spanId === operation.spanId)
      assert.isAbove(children.length, 0, `spans: ${spans.map((s) => `${s.name}`).join(", ")}`)
    })
  )
})

/**
 * The emulator route by route (auth, malformed JSON, wrong shapes, the server's validation rules),
 * its read API, and fault injection observed through the real client over loopback HTTP.
 */
import * as Zlib from "node:zlib"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Result, Schema } from "effect"
import { PromptLayerSchema as S } from "promptlayer-effect"
import { PromptLayerEmulator, startEmulator } from "promptlayer-effect/emulator"
import { chat, fastRetry, withClient } from "./support/emulatorClient.js"

type Started = Awaited<ReturnType<typeof startEmulator>>

const call = async (
  emulator: Pick<Started, "url">,
  method: string,
  path: string,
  options: { readonly body?: unknown; readonly raw?: string; readonly headers?: Record<string, string> } = {}
) => {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...options.headers },
    ...(options.raw !== undefined
      ? { body: options.raw }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {})
  })
  const text = await response.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

/** Runs `f` with a fresh emulator, closed afterwards. */
const withEmulator = async <A>(
  options: PromptLayerEmulator.Options,
  f: (emulator: Started) => Promise<A>
): Promise<A> => {
  const emulator = await startEmulator({ port: 0, ...options })
  try {
    return await f(emulator)
  } finally {
    await emulator.close()
  }
}

const logBody = {
  provider: "openai",
  model: "gpt-4o-mini",
  input: chat("user", "hi"),
  output: chat("assistant", "hello"),
  request_start_time: "2026-01-01T00:00:00Z",
  request_end_time: "2026-01-01T00:00:01Z"
}

const trackBody = {
  function_name: "openai.chat.completions.create",
  kwargs: { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] },
  request_response: { choices: [{ message: { role: "assistant", content: "hello" } }] },
  request_start_time: 1744624827.5,
  request_end_time: 1744624828
}

const template = {
  prompt_name: "route-template",
  prompt_template: chat("user", "Hi {name}")
}

interface RouteCase {
  readonly method: "GET" | "POST"
  readonly path: string
  readonly ok: number
  readonly valid: (ids: { request: number; group: number }) => unknown
  /** A body (POST) or query (GET) of the wrong shape → 422. */
  readonly invalid?: ((ids: { request: number; group: number }) => unknown) | undefined
  readonly invalidQuery?: string | undefined
}

const routes: ReadonlyArray<RouteCase> = [
  { method: "POST", path: "/log-request", ok: 201, valid: () => logBody, invalid: () => ({ ...logBody, model: 5 }) },
  {
    method: "POST",
    path: "/track-request",
    ok: 200,
    valid: () => trackBody,
    invalid: () => ({ function_name: "x" })
  },
  {
    method: "POST",
    path: "/rest/track-request",
    ok: 200,
    valid: () => trackBody,
    invalid: () => ({ ...trackBody, tags: "one" })
  },
  ...["/library-track-score", "/rest/track-score"].map(
    (path): RouteCase => ({
      method: "POST",
      path,
      ok: 200,
      valid: (ids) => ({ request_id: ids.request, score: 90 }),
      invalid: (ids) => ({ request_id: ids.request, score: 101 })
    })
  ),
  ...["/library-track-metadata", "/rest/track-metadata"].map(
    (path): RouteCase => ({
      method: "POST",
      path,
      ok: 200,
      valid: (ids) => ({ request_id: ids.request, metadata: { k: "v" } }),
      invalid: (ids) => ({ request_id: ids.request, metadata: { k: 1 } })
    })
  ),
  ...["/library-track-prompt", "/rest/track-prompt"].map(
    (path): RouteCase => ({
      method: "POST",
      path,
      ok: 200,
      valid: (ids) => ({ request_id: ids.request, prompt_name: "route-template", prompt_input_variables: {} }),
      invalid: (ids) => ({ request_id: ids.request })
    })
  ),
  ...["/track-group", "/rest/track-group"].map(
    (path): RouteCase => ({
      method: "POST",
      path,
      ok: 200,
      valid: (ids) => ({ request_id: ids.request, group_id: ids.group }),
      invalid: (ids) => ({ request_id: ids.request, group_id: "one" })
    })
  ),
  { method: "POST", path: "/create-group", ok: 200, valid: () => ({}) },
  {
    method: "POST",
    path: "/rest/prompt-templates",
    ok: 201,
    valid: () => ({ prompt_template: template, prompt_version: template, release_labels: null }),
    invalid: () => ({ prompt_template: { prompt_name: "x" }, prompt_version: {} })
  },
  {
    method: "POST",
    path: "/prompt-templates/route-template",
    ok: 200,
    valid: () => ({}),
    invalid: () => ({ version: "latest" })
  },
  {
    method: "GET",
    path: "/prompt-templates/route-template",
    ok: 200,
    valid: () => undefined,
    invalidQuery: "?version=0"
  },
  { method: "GET", path: "/prompt-templates", ok: 200, valid: () => undefined, invalidQuery: "?page=0" },
  {
    method: "POST",
    path: "/v1/traces",
    ok: 200,
    valid: () => ({ resourceSpans: [] }),
    invalid: () => ({ spans: [] })
  }
]

const seeded = async (emulator: Started) => {
  const log = await call(emulator, "POST", "/log-request", {
    body: logBody,
    headers: { "x-api-key": emulator.apiKey }
  })
  const group = await call(emulator, "POST", "/create-group", { body: { api_key: emulator.apiKey } })
  return { request: log.json.id as number, group: group.json.id as number }
}

const assertUnauthorized = (response: Awaited<ReturnType<typeof call>>, what: string) => {
  assert.strictEqual(response.status, 401, what)
  assert.strictEqual(response.json.success, false, what)
  assert.isString(response.json.message, what)
}

describe("routes: auth, malformed JSON, wrong shape", () => {
  for (const route of routes) {
    it(`${route.method} ${route.path}`, async () => {
      await withEmulator({ templates: [template] }, async (emulator) => {
        const ids = await seeded(emulator)
        const valid = route.valid(ids)
        const withBody = route.method === "POST" ? { body: valid } : {}
        assertUnauthorized(await call(emulator, route.method, route.path, withBody), "no key")
        assertUnauthorized(
          await call(emulator, route.method, route.path, { ...withBody, headers: { "x-api-key": "wrong" } }),
          "wrong header key"
        )
        if (route.method === "POST") {
          assertUnauthorized(
            await call(emulator, route.method, route.path, { body: { ...(valid as object), api_key: "wrong" } }),
            "wrong body key"
          )
          const malformed = await call(emulator, "POST", route.path, {
            raw: '{"request_id": 1,',
            headers: { "x-api-key": emulator.apiKey }
          })
          assert.strictEqual(malformed.status, 400)
          assert.strictEqual(malformed.json.success, false)
          // body auth, as the SDKs send it on the legacy routes
          const byBody = await call(emulator, "POST", route.path, {
            body: { ...(valid as object), api_key: emulator.apiKey }
          })
          assert.strictEqual(byBody.status, route.ok, byBody.text)
        }
        // header auth, in an unusual case
        const byHeader = await call(emulator, route.method, route.path, {
          ...withBody,
          headers: { "X-Api-KEY": emulator.apiKey }
        })
        assert.strictEqual(byHeader.status, route.ok, byHeader.text)
        if (route.invalid !== undefined || route.invalidQuery !== undefined) {
          const bad =
            route.method === "POST"
              ? await call(emulator, "POST", route.path, {
                  body: route.invalid!(ids),
                  headers: { "x-api-key": emulator.apiKey }
                })
              : await call(emulator, "GET", `${route.path}${route.invalidQuery}`, {
                  headers: { "x-api-key": emulator.apiKey }
                })
          assert.strictEqual(bad.status, 422, bad.text)
          assert.isArray(bad.json.detail)
          assert.isAbove(bad.json.detail.length, 0)
          for (const entry of bad.json.detail) {
            assert.isArray(entry.loc)
            assert.isString(entry.msg)
            assert.isString(entry.type)
          }
        }
      })
    })
  }
})

describe("validation like the real server", () => {
  it("score: an integer 0–100 (42.5, -1 and 101 are 422)", async () => {
    await withEmulator({}, async (emulator) => {
      const { request } = await seeded(emulator)
      const h = { "x-api-key": emulator.apiKey }
      for (const score of [42.5, -1, 101, "50"]) {
        const r = await call(emulator, "POST", "/library-track-score", {
          body: { request_id: request, score },
          headers: h
        })
        assert.strictEqual(r.status, 422, `score ${score}`)
        assert.deepStrictEqual(r.json.detail[0].loc, ["body", "score"])
      }
      for (const score of [0, 100]) {
        const r = await call(emulator, "POST", "/library-track-score", {
          body: { request_id: request, score },
          headers: h
        })
        assert.strictEqual(r.status, 200)
      }
    })
  })

  it("unknown request_id → 404 { success: false, message } on every tracking route", async () => {
    await withEmulator({ templates: [template] }, async (emulator) => {
      const h = { "x-api-key": emulator.apiKey }
      const { group } = await seeded(emulator)
      const bodies: Record<string, unknown> = {
        "/library-track-score": { request_id: 4242, score: 1 },
        "/library-track-metadata": { request_id: 4242, metadata: { a: "b" } },
        "/library-track-prompt": { request_id: 4242, prompt_name: "route-template", prompt_input_variables: {} },
        "/track-group": { request_id: 4242, group_id: group }
      }
      for (const [path, body] of Object.entries(bodies)) {
        const r = await call(emulator, "POST", path, { body, headers: h })
        assert.strictEqual(r.status, 404, path)
        assert.deepStrictEqual(Object.keys(r.json).sort(), ["message", "success"])
        assert.strictEqual(r.json.success, false)
        assert.include(r.json.message, "4242")
      }
    })
  })

  it("error_type must fit status (both logging routes)", async () => {
    await withEmulator({}, async (emulator) => {
      const h = { "x-api-key": emulator.apiKey }
      const cases: Array<[string | undefined, string, number]> = [
        [undefined, "PROVIDER_ERROR", 422],
        ["SUCCESS", "UNKNOWN_ERROR", 422],
        ["WARNING", "PROVIDER_TIMEOUT", 422],
        ["ERROR", "VARIABLE_MISSING_OR_EMPTY", 422],
        ["WARNING", "VARIABLE_MISSING_OR_EMPTY", 201],
        ["ERROR", "PROVIDER_RATE_LIMIT", 201],
        ["ERROR", "NOT_A_TYPE", 422]
      ]
      for (const [status, error_type, expected] of cases) {
        const body = { ...logBody, ...(status ? { status } : {}), error_type, error_message: "boom" }
        const r = await call(emulator, "POST", "/log-request", { body, headers: h })
        assert.strictEqual(r.status, expected, `${status}/${error_type}: ${r.text}`)
        const t = await call(emulator, "POST", "/track-request", { body: { ...trackBody, ...body }, headers: h })
        assert.strictEqual(t.status, expected === 201 ? 200 : 422, `track ${status}/${error_type}`)
      }
      const stored = emulator.store.requests().find((r) => r.error_type === "PROVIDER_RATE_LIMIT")
      assert.strictEqual(stored?.status, "ERROR")
      assert.strictEqual(stored?.error_message, "boom")
    })
  })

  it("metadata values must be strings; keys merge", async () => {
    await withEmulator({}, async (emulator) => {
      const h = { "x-api-key": emulator.apiKey }
      const { request } = await seeded(emulator)
      const bad = await call(emulator, "POST", "/library-track-metadata", {
        body: { request_id: request, metadata: { n: 1, ok: "x" } },
        headers: h
      })
      assert.strictEqual(bad.status, 422)
      assert.deepStrictEqual(bad.json.detail[0].loc, ["body", "metadata", "n"])
      for (const metadata of [{ a: "1" }, { a: "2", b: "3" }]) {
        await call(emulator, "POST", "/library-track-metadata", { body: { request_id: request, metadata }, headers: h })
      }
      assert.deepStrictEqual(emulator.store.request(request)?.metadata, { a: "2", b: "3" })
    })
  })

  it("accepts every timestamp format of promptlayer-api.md §1.4", async () => {
    await withEmulator({}, async (emulator) => {
      const h = { "x-api-key": emulator.apiKey }
      const formats: Array<[unknown, unknown]> = [
        ["2026-01-01T00:00:00.000Z", "2026-01-01T00:00:02.000Z"], // JS toISOString
        [1767225600.25, 1767225602.25], // Python float seconds
        [1767225600, 1767225602], // LangChain.js integer seconds
        [1767225600000, 1767225602000], // Date.now() milliseconds
        ["2026-01-01T00:00:00.000000", "2026-01-01T00:00:02.000000"], // server echo, no zone
        ["2026-01-01T01:00:00+01:00", "2026-01-01T01:00:02+01:00"] // offset
      ]
      for (const [start, end] of formats) {
        const r = await call(emulator, "POST", "/log-request", {
          body: { ...logBody, request_start_time: start, request_end_time: end },
          headers: h
        })
        assert.strictEqual(r.status, 201, `${start}: ${r.text}`)
        assert.strictEqual(emulator.store.request(r.json.id)?.latency_ms, 2000, String(start))
        assert.strictEqual(emulator.store.request(r.json.id)?.request_start_time.slice(0, 16), "2026-01-01T00:00")
      }
      const bad = await call(emulator, "POST", "/log-request", {
        body: { ...logBody, request_start_time: "yesterday" },
        headers: h
      })
      assert.strictEqual(bad.status, 422)
    })
  })

  it("ids are monotonically increasing integers shared by both logging routes", async () => {
    await withEmulator({}, async (emulator) => {
      const h = { "x-api-key": emulator.apiKey }
      const ids: Array<number> = []
      for (let i = 0; i < 3; i++) {
        ids.push((await call(emulator, "POST", "/log-request", { body: logBody, headers: h })).json.id)
        ids.push((await call(emulator, "POST", "/track-request", { body: trackBody, headers: h })).json.request_id)
      }
      assert.deepStrictEqual(ids, [1, 2, 3, 4, 5, 6])
    })
  })

  it("/v1/traces keeps OTLP JSON spans; protobuf is 415", async () => {
    await withEmulator({}, async (emulator) => {
      const h = { "x-api-key": emulator.apiKey }
      const r = await call(emulator, "POST", "/v1/traces", {
        body: {
          resourceSpans: [
            {
              resource: { attributes: [{ key: "service.name", value: { stringValue: "svc" } }] },
              scopeSpans: [
                {
                  spans: [
                    { traceId: "a".repeat(32), spanId: "b".repeat(16), name: "PromptLayer Run" },
                    { traceId: "a".repeat(32), spanId: "c".repeat(16), parentSpanId: "b".repeat(16), name: "fetch" }
                  ]
                }
              ]
            }
          ]
        },
        headers: h
      })
      assert.strictEqual(r.status, 200)
      const spans = emulator.store.traceSpans()
      assert.deepStrictEqual(
        spans.map((s) => [s.name, s.parentSpanId]),
        [
          ["PromptLayer Run", null],
          ["fetch", "b".repeat(16)]
        ]
      )
      const gzipped = await fetch(`${emulator.url}/v1/traces`, {
        method: "POST",
        headers: { ...h, "content-type": "application/json", "content-encoding": "gzip" },
        body: new Uint8Array(
          Zlib.gzipSync(
            JSON.stringify({
              resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "d", spanId: "e", name: "gz" }] }] }]
            })
          )
        )
      })
      assert.strictEqual(gzipped.status, 200)
      const listed = await call(emulator, "GET", "/emulator/spans")
      assert.deepStrictEqual(
        listed.json.items.map((s: { name: string }) => s.name),
        ["PromptLayer Run", "fetch", "gz"]
      )
      const proto = await call(emulator, "POST", "/v1/traces", {
        raw: "\u0000\u0001",
        headers: { ...h, "content-type": "application/x-protobuf" }
      })
      assert.strictEqual(proto.status, 415)
    })
  })

  it("an unknown route is a 404 JSON error", async () => {
    await withEmulator({}, async (emulator) => {
      const r = await call(emulator, "POST", "/no-such-route", { body: {}, headers: { "x-api-key": emulator.apiKey } })
      assert.strictEqual(r.status, 404)
      assert.strictEqual(r.json.success, false)
    })
  })
})

describe("read API", () => {
  it("lists requests newest first, shows one with scores, metadata, prompt and groups, counts, resets", async () => {
    await withEmulator({ templates: [template] }, async (emulator) => {
      const h = { "x-api-key": emulator.apiKey }
      const { request, group } = await seeded(emulator)
      const second = (
        await call(emulator, "POST", "/track-request", { body: { ...trackBody, tags: ["t"] }, headers: h })
      ).json.request_id as number
      await call(emulator, "POST", "/library-track-score", {
        body: { request_id: request, score: 7, name: "q" },
        headers: h
      })
      await call(emulator, "POST", "/library-track-metadata", {
        body: { request_id: request, metadata: { m: "1" } },
        headers: h
      })
      await call(emulator, "POST", "/track-group", { body: { request_id: request, group_id: group }, headers: h })
      await call(emulator, "POST", "/library-track-prompt", {
        body: { request_id: request, prompt_name: "route-template", prompt_input_variables: { name: "x" } },
        headers: h
      })
      const list = await call(emulator, "GET", "/emulator/requests")
      assert.deepStrictEqual(
        list.json.items.map((r: { id: number }) => r.id),
        [second, request]
      )
      const one = await call(emulator, "GET", `/emulator/requests/${request}`)
      assert.strictEqual(one.status, 200)
      assert.deepStrictEqual(one.json.scores, { q: 7 })
      assert.deepStrictEqual(one.json.metadata, { m: "1" })
      assert.deepStrictEqual(one.json.group_ids, [group])
      assert.strictEqual(one.json.prompt.name, "route-template")
      assert.strictEqual(one.json.status, "SUCCESS")
      assert.strictEqual(one.json.latency_ms, 1000)
      assert.deepStrictEqual(one.json.body.input, logBody.input)
      assert.strictEqual((await call(emulator, "GET", "/emulator/requests/999")).status, 404)
      const templates = await call(emulator, "GET", "/emulator/templates")
      assert.deepStrictEqual(
        templates.json.items.map((t: { prompt_name: string; versions: Array<unknown> }) => [
          t.prompt_name,
          t.versions.length
        ]),
        [["route-template", 1]]
      )
      const stats = await call(emulator, "GET", "/emulator/stats")
      assert.strictEqual(stats.json.requests, 2)
      assert.strictEqual(stats.json.groups, 1)
      assert.strictEqual(stats.json.templates, 1)
      assert.strictEqual(stats.json.calls["POST /library-track-score"], 1)
      assert.strictEqual(
        (await call(emulator, "POST", "/emulator/reset", { headers: { "x-api-key": emulator.apiKey } })).status,
        200
      )
      assert.deepStrictEqual((await call(emulator, "GET", "/emulator/requests")).json.items, [])
    })
  })
})

describe("dashboard HTML (without a browser)", () => {
  it("escapes everything it shows and links each request to its detail page", async () => {
    await withEmulator({}, async (emulator) => {
      const evil = `<img src=x onerror="alert('x')">&`
      const logged = await call(emulator, "POST", "/log-request", {
        body: { ...logBody, model: evil, tags: [evil], input: chat("user", evil) },
        headers: { "x-api-key": emulator.apiKey }
      })
      const index = await call(emulator, "GET", "/")
      assert.strictEqual(index.headers.get("content-type")?.split(";")[0], "text/html")
      assert.notInclude(index.text, "<img")
      assert.include(index.text, "&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;")
      assert.include(index.text, `href="/requests/${logged.json.id}"`)
      const detail = await call(emulator, "GET", `/requests/${logged.json.id}`)
      assert.notInclude(detail.text, "<img")
      assert.include(detail.text, "&lt;img")
      assert.strictEqual((await call(emulator, "GET", "/requests/12345")).status, 404)
    })
  })
})

// =============================================================================
// Fault injection, observed through the real client
// =============================================================================

const logOnce = (emulator: PromptLayerEmulator.RunningEmulator, retry = fastRetry) =>
  withClient(emulator, (client) => client.logRequest({ ...logBody }), { retry })

describe("fault injection through the client", () => {
  it.live("429 once (Retry-After: 0) → the client retries and succeeds", () =>
    Effect.gen(function* () {
      const emulator = yield* PromptLayerEmulator.make({
        faults: [{ route: "/log-request", status: 429, times: 1, retryAfterSeconds: 0 }]
      })
      const response = yield* logOnce(emulator)
      assert.strictEqual(emulator.store.request(response.id)?.model, "gpt-4o-mini")
      assert.strictEqual(emulator.stats().statuses["429"], 1)
      assert.strictEqual(emulator.stats().calls["POST /log-request"], 2)
    })
  )

  it.live("429 on every call → RateLimitError carrying Retry-After", () =>
    Effect.gen(function* () {
      const emulator = yield* PromptLayerEmulator.make({
        faults: [{ route: "/log-request", status: 429, retryAfterSeconds: 2 }]
      })
      const error = yield* Effect.flip(logOnce(emulator, { ...fastRetry, maxAttempts: 1 }))
      assert.strictEqual(error._tag, "RateLimitError")
      assert.strictEqual((error as { retryAfterMs?: number }).retryAfterMs, 2000)
      assert.strictEqual(emulator.store.requests().length, 0)
    })
  )

  for (const status of [500, 502, 503] as const) {
    it.live(`${status} → ServerError; ${status} twice then success with retries`, () =>
      Effect.gen(function* () {
        const emulator = yield* PromptLayerEmulator.make({
          faults: [{ route: "/log-request", status, times: 1, ...(status === 503 ? { retryAfterSeconds: 3 } : {}) }]
        })
        const error = yield* Effect.flip(logOnce(emulator, { ...fastRetry, maxAttempts: 1 }))
        assert.strictEqual(error._tag, "ServerError")
        assert.strictEqual((error as { status?: number }).status, status)
        if (status === 503) assert.strictEqual((error as { retryAfterMs?: number }).retryAfterMs, 3000)
        emulator.faults.add([{ route: "/log-request", status, times: 2, retryAfterSeconds: 0 }])
        const response = yield* logOnce(emulator)
        assert.isDefined(emulator.store.request(response.id))
        assert.strictEqual(emulator.stats().statuses[String(status)], 3)
      })
    )
  }

  it.live("a dropped connection → TransportError; with retries, success and nothing logged twice", () =>
    Effect.gen(function* () {
      const emulator = yield* PromptLayerEmulator.make({ faults: [{ route: "/log-request", drop: true, times: 1 }] })
      const error = yield* Effect.flip(logOnce(emulator, { ...fastRetry, maxAttempts: 1 }))
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual(emulator.store.requests().length, 0)
      emulator.faults.add([{ route: "/log-request", drop: true, times: 1 }])
      yield* logOnce(emulator)
      assert.strictEqual(emulator.store.requests().length, 1)
      assert.strictEqual(emulator.stats().faultsInjected, 2)
    })
  )

  it.live("a response lost after the write (dropResponse) → TransportError, yet logged; a retry logs twice", () =>
    Effect.gen(function* () {
      const emulator = yield* PromptLayerEmulator.make({
        faults: [{ route: "/log-request", dropResponse: true, times: 1 }]
      })
      const error = yield* Effect.flip(logOnce(emulator, { ...fastRetry, maxAttempts: 1 }))
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual(emulator.store.requests().length, 1)
      emulator.faults.add([{ route: "/log-request", dropResponse: true, times: 1 }])
      const response = yield* logOnce(emulator)
      assert.deepStrictEqual(
        emulator.store.requests().map((r) => r.id),
        [response.id, response.id - 1, 1]
      )
      assert.strictEqual(emulator.stats().statuses.dropped, 2)
    })
  )

  it.live("latency beyond the attempt timeout → TimeoutError(attempt); small latency → success", () =>
    Effect.gen(function* () {
      const emulator = yield* PromptLayerEmulator.make({
        faults: [{ route: "/create-group", latencyMs: 400, times: 1 }]
      })
      const error = yield* Effect.flip(
        withClient(emulator, (client) => client.group.create(), {
          retry: { ...fastRetry, maxAttempts: 1, attemptTimeout: "100 millis" }
        })
      )
      assert.strictEqual(error._tag, "TimeoutError")
      assert.strictEqual((error as { reason?: string }).reason, "attempt")
      emulator.faults.add([{ route: "/create-group", latencyMs: 30, times: 1 }])
      const started = Date.now()
      const id = yield* withClient(emulator, (client) => client.group.create())
      assert.isAtLeast(Date.now() - started, 25)
      assert.isNumber(id)
    })
  )

  it.effect("injected latency is real time even when the emulator runs under the TestClock", () =>
    Effect.gen(function* () {
      const emulator = yield* PromptLayerEmulator.make({ faults: [{ route: "/create-group", latencyMs: 20 }] })
      const response = yield* Effect.promise(() =>
        call(emulator, "POST", "/create-group", { body: { api_key: emulator.apiKey } })
      )
      assert.strictEqual(response.status, 200)
    })
  )

  it("a seeded fraction of failures is deterministic (same seed, same sequence)", async () => {
    const sequence = (seed: number) =>
      withEmulator({ seed, faults: [{ route: "/create-group", status: 503, rate: 0.5 }] }, async (emulator) => {
        const statuses: Array<number> = []
        for (let i = 0; i < 24; i++) {
          statuses.push((await call(emulator, "POST", "/create-group", { body: { api_key: emulator.apiKey } })).status)
        }
        return statuses
      })
    const a = await sequence(42)
    const b = await sequence(42)
    const c = await sequence(7)
    assert.deepStrictEqual(a, b)
    assert.notDeepEqual(a, c)
    assert.include(a, 503)
    assert.include(a, 200)
  })

  it("the control endpoint adds, lists and clears rules; rules match route and method", async () => {
    await withEmulator({}, async (emulator) => {
      const body = { api_key: emulator.apiKey }
      const headers = { "x-api-key": emulator.apiKey }
      const added = await call(emulator, "POST", "/emulator/faults", {
        body: { faults: [{ route: "/create-*", method: "POST", status: 502, times: 2 }] },
        headers
      })
      assert.strictEqual(added.status, 200)
      const statuses = []
      for (let i = 0; i < 3; i++) statuses.push((await call(emulator, "POST", "/create-group", { body })).status)
      assert.deepStrictEqual(statuses, [502, 502, 200])
      const listed = await call(emulator, "GET", "/emulator/faults")
      assert.strictEqual(listed.json.faults[0].remaining, 0)
      assert.strictEqual(listed.json.faults[0].applied, 2)
      await call(emulator, "POST", "/emulator/faults", { body: { route: "*", method: "GET", status: 500 }, headers })
      assert.strictEqual((await call(emulator, "POST", "/create-group", { body })).status, 200)
      const get = await call(emulator, "GET", "/prompt-templates", { headers: { "x-api-key": emulator.apiKey } })
      assert.strictEqual(get.status, 500)
      assert.strictEqual((await call(emulator, "DELETE", "/emulator/faults", { headers })).status, 200)
      assert.deepStrictEqual((await call(emulator, "GET", "/emulator/faults")).json.faults, [])
      const get2 = await call(emulator, "GET", "/prompt-templates", { headers: { "x-api-key": emulator.apiKey } })
      assert.strictEqual(get2.status, 200)
      const invalid = await call(emulator, "POST", "/emulator/faults", { body: { route: "/x", status: 200 }, headers })
      assert.strictEqual(invalid.status, 422)
    })
  })
})

describe("Store (the state machine shared with the in-memory test layer)", () => {
  const wire = (name: string, text: string, labels: Array<string> | null = null, format = "f-string") => {
    const body = {
      prompt_name: name,
      prompt_template: {
        type: "chat",
        messages: [{ role: "user", template_format: format, content: [{ type: "text", text }] }]
      }
    }
    return { prompt_template: body, prompt_version: body, release_labels: labels }
  }

  it("release labels move to the version that claims them and stay there otherwise", () => {
    const store = new PromptLayerEmulator.Store()
    store.publishTemplate(wire("labels", "one", ["prod"]))
    store.publishTemplate(wire("labels", "two", ["prod", "staging"]))
    store.publishTemplate(wire("labels", "three"))
    assert.strictEqual(store.getTemplate("labels", { label: "prod" }).version, 2)
    assert.strictEqual(store.getTemplate("labels").version, 3)
    const listed = store.listTemplates({ label: "staging" }) as { items: Array<{ version: number }> }
    assert.deepStrictEqual(
      listed.items.map((i) => i.version),
      [2]
    )
    assert.deepStrictEqual(store.templatesList()[0]!.labels, { prod: 2, staging: 2 })
  })

  it("publish records input_variables for f-string and jinja2; rendering keeps {{ }} escapes", () => {
    const store = new PromptLayerEmulator.Store()
    const f = store.publishTemplate(wire("vars-f", "Hi {name}, {{not_a_var}} from {place}")) as any
    assert.deepStrictEqual(f.prompt_template.input_variables, ["name", "place"])
    const j = store.publishTemplate(wire("vars-j", "{{ user.name }} likes {{ thing | upper }}", null, "jinja2")) as any
    assert.deepStrictEqual(j.prompt_template.input_variables, ["user", "thing"])
    const rendered = store.getTemplate("vars-f", { input_variables: { name: "Ada", place: 42 } }) as any
    assert.strictEqual(rendered.prompt_template.messages[0].content[0].text, "Hi Ada, {not_a_var} from 42")
    const skipped = store.getTemplate("vars-f", { input_variables: {}, skip_input_variable_rendering: true }) as any
    assert.strictEqual(skipped.prompt_template.messages[0].content[0].text, "Hi {name}, {{not_a_var}} from {place}")
  })

  it("failures carry { status, body }; attempt() returns them instead of throwing", () => {
    const store = new PromptLayerEmulator.Store()
    const missing = PromptLayerEmulator.attemptStore(() => store.trackScore({ request_id: 5, score: 1 }))
    assert.isFalse(missing.ok)
    if (!missing.ok) {
      assert.strictEqual(missing.failure.status, 404)
      assert.deepStrictEqual(missing.failure.body, { success: false, message: "Request 5 not found" })
    }
    const shape = PromptLayerEmulator.attemptStore(() => store.trackScore("nope"))
    assert.isFalse(shape.ok)
    if (!shape.ok) assert.strictEqual(shape.failure.status, 422)
    const ok = PromptLayerEmulator.attemptStore(() => store.createGroup())
    assert.deepStrictEqual(ok, { ok: true, value: { success: true, id: 1 } })
  })

  it("snapshot → JSON → restore keeps everything, and ids continue; reset starts over", () => {
    let now = Date.parse("2026-05-01T00:00:00Z")
    const store = new PromptLayerEmulator.Store({ now: () => new Date(now++) })
    const { id } = store.logRequest({ ...logBody, tags: ["a"] }) as { id: number }
    store.trackScore({ request_id: id, score: 3, name: "s" })
    store.trackMetadata({ request_id: id, metadata: { k: "v" } })
    const group = store.createGroup().id
    store.trackGroup({ request_id: id, group_id: group })
    store.publishTemplate(wire("snap", "x {y}", ["prod"]))
    store.exportTraces({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "t", spanId: "s", name: "n" }] }] }] })
    const copy = new PromptLayerEmulator.Store()
    copy.restore(JSON.parse(JSON.stringify(store.snapshot())))
    assert.deepStrictEqual(copy.requests(), store.requests())
    assert.deepStrictEqual(copy.templatesList(), store.templatesList())
    assert.deepStrictEqual(copy.traceSpans(), store.traceSpans())
    assert.deepStrictEqual(copy.counts(), store.counts())
    assert.strictEqual((copy.logRequest(logBody) as { id: number }).id, id + 1)
    assert.strictEqual(copy.createGroup().id, group + 1)
    copy.reset()
    assert.deepStrictEqual(copy.counts(), { requests: 0, groups: 0, templates: 0, versions: 0, spans: 0 })
    assert.strictEqual((copy.logRequest(logBody) as { id: number }).id, 1)
    assert.throws(() => copy.restore({ format: "other" } as never))
  })
})

describe("workflows", () => {
  const workflows: ReadonlyArray<PromptLayerEmulator.WorkflowDefinition> = [
    { name: "greet", outputs: { Config: { retries: 1 }, Greeting: "Hello {name}, {{literally}}!" } },
    { name: "echo" }
  ]
  const key = (emulator: Started) => ({ "x-api-key": emulator.apiKey })
  const results = (emulator: Started, id: number, all: boolean) =>
    call(
      emulator,
      "GET",
      `/workflow-version-execution-results?workflow_version_execution_id=${id}&return_all_outputs=${all}`,
      { headers: key(emulator) }
    )
  const decodes = (schema: Schema.Decoder<unknown>, json: unknown) => {
    const decoded = Schema.decodeUnknownResult(schema)(json)
    assert.isTrue(Result.isSuccess(decoded), `${String(Result.isFailure(decoded) && decoded.failure)}`)
  }

  it("GET /workflows/{name or id}: the workflow; 404 unknown; 401 without or with a wrong key", async () => {
    await withEmulator({ workflows }, async (emulator) => {
      const byName = await call(emulator, "GET", "/workflows/echo", { headers: key(emulator) })
      assert.strictEqual(byName.status, 200)
      decodes(S.WorkflowResponse, byName.json)
      assert.deepStrictEqual(byName.json, {
        success: true,
        workflow: { id: 2, workspace_id: 1, user_id: null, name: "echo", is_draft: false, is_deleted: false }
      })
      const byId = await call(emulator, "GET", "/workflows/1", { headers: { "X-Api-Key": emulator.apiKey } })
      assert.strictEqual(byId.json.workflow.name, "greet")
      const unknown = await call(emulator, "GET", "/workflows/nope", { headers: key(emulator) })
      assert.strictEqual(unknown.status, 404)
      assert.deepStrictEqual(unknown.json, { success: false, message: "Workflow 'nope' not found" })
      assertUnauthorized(await call(emulator, "GET", "/workflows/echo"), "no key")
      assertUnauthorized(await call(emulator, "GET", "/workflows/echo", { headers: { "x-api-key": "wrong" } }), "wrong")
    })
  })

  it("POST /workflows/{name or id}/run runs at once: outputs rendered over input_variables, polled as results", async () => {
    await withEmulator({ workflows }, async (emulator) => {
      const run = await call(emulator, "POST", "/workflows/greet/run", {
        body: { input_variables: { name: "Ada" }, metadata: { env: "test" }, return_all_outputs: false },
        headers: key(emulator)
      })
      assert.strictEqual(run.status, 201, run.text)
      decodes(S.RunWorkflowResponse, run.json)
      assert.deepStrictEqual(run.json, {
        success: true,
        message: "Workflow execution created successfully",
        warning: null,
        workflow_version_execution_id: 1
      })
      const all = await results(emulator, 1, true)
      assert.strictEqual(all.status, 200)
      decodes(S.WorkflowNodeResults, all.json)
      const node = (value: unknown) => ({
        status: "SUCCESS",
        value,
        error_message: null,
        raw_error_message: null,
        is_output_node: true
      })
      assert.deepStrictEqual(all.json, { Config: node({ retries: 1 }), Greeting: node("Hello Ada, {literally}!") })
      const final = await results(emulator, 1, false)
      assert.strictEqual(final.status, 200)
      decodes(S.WorkflowResultsResponse, final.json)
      assert.strictEqual(final.json, "Hello Ada, {literally}!")
      assert.deepStrictEqual((await results(emulator, 1, false)).json, final.json) // results can be read again
      // by id, key in the body; a workflow without outputs echoes its input variables
      const echo = await call(emulator, "POST", "/workflows/2/run", {
        body: { input_variables: { x: [1, 2] }, api_key: emulator.apiKey }
      })
      assert.strictEqual(echo.status, 201, echo.text)
      assert.strictEqual(echo.json.workflow_version_execution_id, 2)
      assert.deepStrictEqual((await results(emulator, 2, false)).json, { x: [1, 2] })
      const stored = emulator.store.workflowExecutions()
      assert.deepStrictEqual(
        stored.map((e) => [e.id, e.workflow_name, e.metadata]),
        [
          [2, "echo", null],
          [1, "greet", { env: "test" }]
        ]
      )
    })
  })

  it("run: a missing variable fails its node and is named in warning; callback_url is 202", async () => {
    await withEmulator({ workflows }, async (emulator) => {
      const run = await call(emulator, "POST", "/workflows/greet/run", { body: {}, headers: key(emulator) })
      assert.strictEqual(run.status, 201)
      assert.strictEqual(run.json.warning, "Missing input variables: name")
      const all = await results(emulator, run.json.workflow_version_execution_id, true)
      assert.strictEqual(all.json.Greeting.status, "FAILURE")
      assert.strictEqual(all.json.Greeting.error_message, "Missing input variable: name")
      assert.isNull(all.json.Greeting.value)
      assert.strictEqual(all.json.Config.status, "SUCCESS")
      assert.isNull((await results(emulator, run.json.workflow_version_execution_id, false)).json)
      const callback = await call(emulator, "POST", "/workflows/echo/run", {
        body: { callback_url: "http://127.0.0.1:9/never-called" },
        headers: key(emulator)
      })
      assert.strictEqual(callback.status, 202)
      decodes(S.RunWorkflowResponse, callback.json)
    })
  })

  it("run: versions and release labels; 404 unknown workflow, version, label; 400 both; 422 shape; 400 JSON; 401", async () => {
    await withEmulator({ workflows }, async (emulator) => {
      emulator.store.publishWorkflow({ name: "greet", outputs: { Out: "v2 {name}" }, release_labels: ["prod"] })
      emulator.store.publishWorkflow({ name: "greet", outputs: { Out: "v3 {name}" } })
      assert.deepStrictEqual(emulator.store.workflowsList()[0]!.labels, { prod: 2 })
      const finalOf = async (body: Record<string, unknown>) => {
        const run = await call(emulator, "POST", "/workflows/greet/run", {
          body: { input_variables: { name: "Ada" }, ...body },
          headers: key(emulator)
        })
        assert.strictEqual(run.status, 201, run.text)
        return (await results(emulator, run.json.workflow_version_execution_id, false)).json
      }
      assert.strictEqual(await finalOf({}), "v3 Ada")
      assert.strictEqual(await finalOf({ workflow_label_name: "prod" }), "v2 Ada")
      assert.strictEqual(await finalOf({ workflow_version_number: 1 }), "Hello Ada, {literally}!")
      const post = (path: string, body: unknown) => call(emulator, "POST", path, { body, headers: key(emulator) })
      const notFound = [
        await post("/workflows/nope/run", {}),
        await post("/workflows/greet/run", { workflow_version_number: 9 }),
        await post("/workflows/greet/run", { workflow_label_name: "staging" })
      ]
      assert.deepStrictEqual(
        notFound.map((r) => [r.status, r.json.message]),
        [
          [404, "Workflow 'nope' not found"],
          [404, "Version 9 of workflow 'greet' not found"],
          [404, "Release label 'staging' not found for workflow 'greet'"]
        ]
      )
      const both = await post("/workflows/greet/run", { workflow_label_name: "prod", workflow_version_number: 1 })
      assert.strictEqual(both.status, 400)
      assert.strictEqual(both.json.success, false)
      for (const bad of [{ input_variables: "x" }, { metadata: { k: 1 } }, { workflow_version_number: 0 }]) {
        const response = await post("/workflows/greet/run", bad)
        assert.strictEqual(response.status, 422, JSON.stringify(bad))
        assert.isAbove(response.json.detail.length, 0)
      }
      const malformed = await call(emulator, "POST", "/workflows/greet/run", { raw: "{", headers: key(emulator) })
      assert.strictEqual(malformed.status, 400)
      assertUnauthorized(await call(emulator, "POST", "/workflows/greet/run", { body: {} }), "no key")
      assertUnauthorized(
        await call(emulator, "POST", "/workflows/greet/run", { body: { api_key: "wrong" } }),
        "wrong body key"
      )
      assert.strictEqual(emulator.store.workflowExecutions().length, 3) // failed runs create no execution
    })
  })

  it("GET /workflow-version-execution-results: 404 unknown execution; 422 bad query; 401", async () => {
    await withEmulator({ workflows }, async (emulator) => {
      const unknown = await results(emulator, 717, true)
      assert.strictEqual(unknown.status, 404)
      assert.deepStrictEqual(unknown.json, { success: false, message: "Workflow version execution 717 not found" })
      for (const query of [
        "",
        "?workflow_version_execution_id=abc",
        "?workflow_version_execution_id=1&return_all_outputs=maybe"
      ]) {
        const bad = await call(emulator, "GET", `/workflow-version-execution-results${query}`, {
          headers: key(emulator)
        })
        assert.strictEqual(bad.status, 422, query)
        assert.strictEqual(bad.json.detail[0].loc[0], "query")
      }
      assertUnauthorized(
        await call(emulator, "GET", "/workflow-version-execution-results?workflow_version_execution_id=1"),
        "no key"
      )
    })
  })

  it("POST /ws-token-request-library: 201 with a fake token for the capability; 422 without one; 401", async () => {
    await withEmulator({}, async (emulator) => {
      const path = `/ws-token-request-library?capability=${encodeURIComponent("workflows:1:run:abc")}`
      const token = await call(emulator, "POST", path, { headers: key(emulator) })
      assert.strictEqual(token.status, 201)
      decodes(S.WsTokenResponse, token.json)
      const details = token.json.token_details
      assert.deepStrictEqual(details.capability, {
        "user:1": ["presence", "subscribe"],
        "workflows:1:run:abc": ["presence", "subscribe"]
      })
      assert.strictEqual(details.expires - details.issued, 3_600_000)
      const again = await call(emulator, "POST", path, { body: { api_key: emulator.apiKey } })
      assert.strictEqual(again.status, 201)
      assert.notStrictEqual(again.json.token_details.token, details.token)
      const missing = await call(emulator, "POST", "/ws-token-request-library", { headers: key(emulator) })
      assert.strictEqual(missing.status, 422)
      assert.deepStrictEqual(missing.json.detail[0].loc, ["query", "capability"])
      assertUnauthorized(await call(emulator, "POST", path), "no key")
    })
  })

  it("options: a workflow that is not a definition is an EmulatorError (Options)", async () => {
    const bad = await startEmulator({ workflows: [{ name: "" }] }).then(
      () => undefined,
      (error: unknown) => error
    )
    assert.instanceOf(bad, PromptLayerEmulator.EmulatorError)
    assert.strictEqual((bad as PromptLayerEmulator.EmulatorError).reason, "Options")
  })

  it("Store: workflows and executions survive snapshot → restore, ids continue; older snapshots restore", () => {
    const store = new PromptLayerEmulator.Store()
    store.publishWorkflow({ name: "w", outputs: { Out: "{a}" } })
    store.runWorkflow("w", { input_variables: { a: "b" } })
    const snapshot = JSON.parse(JSON.stringify(store.snapshot()))
    const copy = new PromptLayerEmulator.Store()
    copy.restore(snapshot)
    assert.deepStrictEqual(copy.workflowsList(), store.workflowsList())
    assert.deepStrictEqual(copy.workflowExecutions(), store.workflowExecutions())
    assert.strictEqual(copy.runWorkflow("1", {}).workflow_version_execution_id, 2)
    assert.strictEqual(copy.publishWorkflow({ name: "v" }).id, 2)
    // A file written before workflows were served: no workflows, executions or their counters.
    const { workflows: _w, executions: _e, next, ...rest } = snapshot
    const { workflow: _nw, execution: _ne, ...olderNext } = next
    const old = new PromptLayerEmulator.Store()
    old.restore({ ...rest, next: olderNext })
    assert.deepStrictEqual(old.workflowsList(), [])
    assert.strictEqual(old.publishWorkflow({ name: "w" }).id, 1)
    old.reset()
    assert.deepStrictEqual(old.workflowsList(), [])
  })
})

describe("lifecycle", () => {
  it.live("make is scoped: the server stops (connections refused) when the scope closes", () =>
    Effect.gen(function* () {
      const url = yield* Effect.scoped(
        Effect.gen(function* () {
          const emulator = yield* PromptLayerEmulator.make()
          const stats = yield* Effect.promise(() => fetch(`${emulator.url}/emulator/stats`))
          assert.strictEqual(stats.status, 200)
          return emulator.url
        })
      )
      const after = yield* Effect.promise(() =>
        fetch(`${url}/emulator/stats`).then(
          () => "answered",
          () => "refused"
        )
      )
      assert.strictEqual(after, "refused")
    })
  )

  it("a taken port rejects with an EmulatorError (Listen); bad options with EmulatorError (Options)", async () => {
    await withEmulator({}, async (running) => {
      const port = Number(new URL(running.url).port)
      const taken = await startEmulator({ port }).then(
        () => undefined,
        (error: unknown) => error
      )
      assert.instanceOf(taken, PromptLayerEmulator.EmulatorError)
      assert.strictEqual((taken as PromptLayerEmulator.EmulatorError).reason, "Listen")
    })
    const bad = await startEmulator({ faults: [{ route: "/x" }] }).then(
      () => undefined,
      (error: unknown) => error
    )
    assert.strictEqual((bad as PromptLayerEmulator.EmulatorError).reason, "Options")
  })
})

/**
 * The emulator's PromptLayer traces over real HTTP on loopback: `POST /spans-bulk` (atomic
 * validation, request logs for spans with `log_request`, inherited times, closed traces),
 * `GET /api/public/v2/traces/{trace_id}`, `POST .../close`, spans before their parent, the read
 * API's trace listing, the state kept in the store's snapshot, and OTLP `POST /v1/traces` against
 * closed traces (409) and its `close_after` flag.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { PromptLayerEmulator, startEmulator } from "promptlayer-effect/emulator"
import { DOCUMENTED_CONTENT_TYPES } from "../src/internal/emulator/contentBlocks.js"
import { chat } from "./support/emulatorClient.js"
import { openApiDoc, responseErrors, schemaErrors } from "./support/openApiSchemas.js"

type Started = Awaited<ReturnType<typeof startEmulator>>

const call = async (emulator: Started, method: string, path: string, body?: unknown, key = emulator.apiKey) => {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { "content-type": "application/json", "x-api-key": key },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
  })
  return { status: response.status, json: (await response.json()) as any }
}

const withEmulator = async <A>(f: (emulator: Started) => Promise<A>): Promise<A> => {
  const emulator = await startEmulator({ port: 0 })
  try {
    return await f(emulator)
  } finally {
    await emulator.close()
  }
}

const TRACE = "d4b5e2a13c8f4e9ab7d61a2b3c4d5e6f"
/** 2026-01-01T00:00:00Z in nanoseconds. */
const T0 = 1_767_225_600_000_000_000n
const ns = (ms: number) => (T0 + BigInt(ms) * 1_000_000n).toString()

const logRequest = (overrides: Record<string, unknown> = {}) => ({
  provider: "openai",
  model: "gpt-4o-mini",
  input: chat("user", "hi"),
  output: chat("assistant", "hello"),
  input_tokens: 7,
  output_tokens: 5,
  ...overrides
})

/** A valid span; times in milliseconds after T0 (sent as decimal strings of nanoseconds). */
const span = (
  spanId: string,
  options: {
    readonly trace?: string
    readonly parent?: string | null
    readonly name?: string
    readonly start?: number
    readonly end?: number
    readonly status?: string
    readonly log?: Record<string, unknown>
    readonly kind?: string
  } = {}
) => ({
  name: options.name ?? spanId,
  context: { trace_id: options.trace ?? TRACE, span_id: spanId, trace_state: "" },
  kind: options.kind ?? "SpanKind.INTERNAL",
  parent_id: options.parent ?? null,
  start_time: ns(options.start ?? 0),
  end_time: ns(options.end ?? 100),
  status: { status_code: options.status ?? "StatusCode.OK" },
  attributes: { "lc.run_type": "chain" },
  resource: { attributes: { "service.name": "test" }, schema_url: "" },
  ...(options.log === undefined ? {} : { log_request: options.log })
})

describe("POST /spans-bulk", () => {
  it("stores spans and creates a request log per log_request, ids returned by span_id", () =>
    withEmulator(async (emulator) => {
      const r = await call(emulator, "POST", "/spans-bulk", {
        spans: [
          span("aaaaaaaaaaaaaaa1", { name: "RunnableSequence", end: 900 }),
          span("aaaaaaaaaaaaaaa2", {
            name: "ChatOpenAI",
            parent: "aaaaaaaaaaaaaaa1",
            kind: "SpanKind.CLIENT",
            start: 100,
            end: 600,
            log: logRequest()
          }),
          span("aaaaaaaaaaaaaaa3", {
            name: "ChatOpenAI",
            parent: "aaaaaaaaaaaaaaa1",
            start: 650,
            end: 800,
            log: logRequest({
              request_start_time: "2025-06-01T00:00:00.000Z",
              request_end_time: "2025-06-01T00:00:02.000Z"
            })
          })
        ]
      })
      assert.strictEqual(r.status, 201)
      assert.isTrue(r.json.success)
      assert.deepStrictEqual(
        r.json.spans.map((s: any) => [s.name, s.span_id]),
        [
          ["RunnableSequence", "aaaaaaaaaaaaaaa1"],
          ["ChatOpenAI", "aaaaaaaaaaaaaaa2"],
          ["ChatOpenAI", "aaaaaaaaaaaaaaa3"]
        ]
      )
      assert.strictEqual(new Set(r.json.spans.map((s: any) => s.id)).size, 3)
      assert.deepStrictEqual(
        r.json.request_logs.map((l: any) => l.span_id),
        ["aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa3"]
      )
      assert.notProperty(r.json, "rejected_span_ids")
      assert.notProperty(r.json, "rejection_reason")

      const [inherited, explicit] = r.json.request_logs as Array<{ id: number; span_id: string }>
      const first = await call(emulator, "GET", `/emulator/requests/${inherited!.id}`)
      assert.strictEqual(first.json.span_id, "aaaaaaaaaaaaaaa2")
      assert.strictEqual(first.json.request_start_time, "2026-01-01T00:00:00.100Z")
      assert.strictEqual(first.json.request_end_time, "2026-01-01T00:00:00.600Z")
      assert.strictEqual(first.json.latency_ms, 500)
      assert.strictEqual(first.json.tokens, 12)
      const second = await call(emulator, "GET", `/emulator/requests/${explicit!.id}`)
      assert.strictEqual(second.json.span_id, "aaaaaaaaaaaaaaa3")
      assert.strictEqual(second.json.request_start_time, "2025-06-01T00:00:00.000Z")
      assert.strictEqual(second.json.latency_ms, 2000)
      assert.strictEqual((await call(emulator, "GET", "/emulator/requests")).json.items.length, 2)
    }))

  it("is atomic: one invalid span is a 422 listing every problem, and nothing is stored", () =>
    withEmulator(async (emulator) => {
      const r = await call(emulator, "POST", "/spans-bulk", {
        spans: [
          span("bbbbbbbbbbbbbbb1", { log: logRequest() }),
          { ...span("bbbbbbbbbbbbbbb2"), kind: "CLIENT" },
          span("bbbbbbbbbbbbbbb3", { log: logRequest({ provider: undefined }) }),
          span("bbbbbbbbbbbbbbb4", {
            log: logRequest({
              output: { type: "chat", messages: [{ role: "assistant", content: [{ type: "tool_use", id: "x" }] }] }
            })
          }),
          { ...span("bbbbbbbbbbbbbbb5"), start_time: 1.5, context: { trace_id: TRACE, span_id: "bbbbbbbbbbbbbbb5" } }
        ]
      })
      assert.strictEqual(r.status, 422)
      const locs = (r.json.detail as Array<{ loc: Array<string | number>; msg: string; type: string }>).map((d) =>
        d.loc.join(".")
      )
      assert.includeMembers(locs, [
        "body.spans.1.kind",
        "body.spans.2.log_request.provider",
        "body.spans.3.log_request.output.messages.0.content.0",
        "body.spans.4.start_time",
        "body.spans.4.context.trace_state"
      ])
      const kind = r.json.detail.filter((d: any) => d.loc.join(".") === "body.spans.1.kind")
      assert.strictEqual(kind.length, 1)
      assert.include(kind[0].msg, "'SpanKind.CLIENT'")
      for (const d of r.json.detail) {
        assert.isString(d.msg)
        assert.isString(d.type)
      }
      assert.deepStrictEqual((await call(emulator, "GET", "/emulator/traces")).json.items, [])
      assert.deepStrictEqual((await call(emulator, "GET", "/emulator/requests")).json.items, [])
    }))

  it("rejects a body that is not CreateSpansBulk, and a missing or wrong key", () =>
    withEmulator(async (emulator) => {
      const missing = await call(emulator, "POST", "/spans-bulk", { close_after: true })
      assert.strictEqual(missing.status, 422)
      assert.deepStrictEqual(missing.json.detail[0].loc, ["body", "spans"])
      assert.strictEqual(missing.json.detail[0].type, "missing")
      assert.strictEqual((await call(emulator, "POST", "/spans-bulk", "[1]")).status, 422)
      assert.strictEqual((await call(emulator, "POST", "/spans-bulk", "{oops")).status, 400)
      const unauthorized = await call(emulator, "POST", "/spans-bulk", { spans: [span("c1")] }, "wrong")
      assert.strictEqual(unauthorized.status, 401)
      assert.deepStrictEqual(emulator.store.traces.list(), [])
    }))

  it("times are nanoseconds: numbers and digit strings accepted, fractions and negatives not", () =>
    withEmulator(async (emulator) => {
      const r = await call(emulator, "POST", "/spans-bulk", {
        spans: [
          { ...span("ddddddddddddddd1"), start_time: "1767225600123456789", end_time: 1_767_225_601_000_000_000 },
          { ...span("ddddddddddddddd2"), start_time: 1630000000000000000, end_time: 1630000001000000000 }
        ]
      })
      assert.strictEqual(r.status, 201)
      const stored = emulator.store.traces.spansOf(TRACE)
      assert.strictEqual(stored[0]!.start_time, "1767225600123456789")
      assert.strictEqual(stored[0]!.end_time, "1767225601000000000")
      assert.strictEqual(stored[1]!.start_time, "1630000000000000000")
      const trace = await call(emulator, "GET", `/api/public/v2/traces/${TRACE}`)
      assert.strictEqual(trace.json.spans[0].start_time, "2026-01-01T00:00:00.123456789Z")
      for (const bad of [1.5, -1, "12a", "", 1e30]) {
        const rejected = await call(emulator, "POST", "/spans-bulk", { spans: [{ ...span("e1"), end_time: bad }] })
        assert.strictEqual(rejected.status, 422, String(bad))
        assert.deepStrictEqual(rejected.json.detail[0].loc, ["body", "spans", 0, "end_time"])
      }
    }))

  it("close_after closes the batch's traces; later spans for them are rejected with trace_closed", () =>
    withEmulator(async (emulator) => {
      const first = await call(emulator, "POST", "/spans-bulk", {
        spans: [span("fffffffffffffff1")],
        close_after: true
      })
      assert.strictEqual(first.status, 201)
      const other = "0123456789abcdef0123456789abcdef"
      const second = await call(emulator, "POST", "/spans-bulk", {
        spans: [
          span("fffffffffffffff2", { parent: "fffffffffffffff1", log: logRequest() }),
          span("fffffffffffffff3", { trace: other, log: logRequest() }),
          span("fffffffffffffff4", { parent: "fffffffffffffff1" })
        ]
      })
      assert.strictEqual(second.status, 201)
      assert.isTrue(second.json.success)
      assert.deepStrictEqual(second.json.rejected_span_ids, ["fffffffffffffff2", "fffffffffffffff4"])
      assert.deepStrictEqual(second.json.rejected_trace_ids, [TRACE])
      assert.strictEqual(second.json.rejection_reason, "trace_closed")
      assert.deepStrictEqual(
        second.json.spans.map((s: any) => s.span_id),
        ["fffffffffffffff3"]
      )
      assert.deepStrictEqual(
        second.json.request_logs.map((l: any) => l.span_id),
        ["fffffffffffffff3"]
      )
      assert.strictEqual((await call(emulator, "GET", "/emulator/requests")).json.items.length, 1)
      const trace = await call(emulator, "GET", `/api/public/v2/traces/${TRACE}`)
      assert.deepStrictEqual(
        trace.json.spans.map((s: any) => s.span_id),
        ["fffffffffffffff1"]
      )
    }))
})

/** An OTLP JSON export request with one span per id, all in `trace`. */
const otlp = (trace: string, ...spanIds: ReadonlyArray<string>) => ({
  resourceSpans: [
    {
      resource: { attributes: [{ key: "service.name", value: { stringValue: "test" } }] },
      scopeSpans: [{ spans: spanIds.map((spanId) => ({ traceId: trace, spanId, name: `otlp ${spanId}` })) }]
    }
  ]
})

describe("POST /v1/traces and closed traces", () => {
  const OTHER = "0123456789abcdef0123456789abcdef"

  it("a span of a trace closed by /spans-bulk close_after is refused whole with 409 { error, trace_ids }", () =>
    withEmulator(async (emulator) => {
      await call(emulator, "POST", "/spans-bulk", { spans: [span("aaaaaaaaaaaaaaa1")], close_after: true })
      const mixed = {
        resourceSpans: [
          ...otlp(OTHER, "bbbbbbbbbbbbbbb1").resourceSpans,
          ...otlp(TRACE, "bbbbbbbbbbbbbbb2").resourceSpans
        ]
      }
      const refused = await call(emulator, "POST", "/v1/traces", mixed)
      assert.strictEqual(refused.status, 409)
      assert.deepStrictEqual(refused.json, { error: `Trace already closed: ${TRACE}`, trace_ids: [TRACE] })
      assert.deepStrictEqual(responseErrors("POST", "/v1/traces", 409, refused.json), [])
      assert.deepStrictEqual(emulator.store.traceSpans(), [], "nothing of the request is kept")
      const open = await call(emulator, "POST", "/v1/traces", otlp(OTHER, "bbbbbbbbbbbbbbb1"))
      assert.strictEqual(open.status, 200)
      assert.strictEqual(emulator.store.traceSpans().length, 1)
    }))

  it("a span of a trace closed by POST .../close is refused with 409; the close route accepts an OTLP-only trace", () =>
    withEmulator(async (emulator) => {
      await call(emulator, "POST", "/spans-bulk", { spans: [span("aaaaaaaaaaaaaaa1")] })
      assert.strictEqual((await call(emulator, "POST", `/api/public/v2/traces/${TRACE}/close`)).status, 201)
      const refused = await call(emulator, "POST", "/v1/traces", otlp(TRACE, "bbbbbbbbbbbbbbb1"))
      assert.strictEqual(refused.status, 409)
      assert.deepStrictEqual(refused.json.trace_ids, [TRACE])

      assert.strictEqual((await call(emulator, "POST", "/v1/traces", otlp(OTHER, "ccccccccccccccc1"))).status, 200)
      assert.strictEqual((await call(emulator, "POST", `/api/public/v2/traces/${OTHER}/close`)).status, 201)
      assert.strictEqual((await call(emulator, "POST", "/v1/traces", otlp(OTHER, "ccccccccccccccc2"))).status, 409)
      assert.strictEqual(emulator.store.traceSpans().length, 1)
    }))

  it("?close_after=true closes the request's traces after storing them; false or absent does not; other values are 422", () =>
    withEmulator(async (emulator) => {
      const kept = await call(emulator, "POST", "/v1/traces?close_after=false", otlp(OTHER, "ddddddddddddddd1"))
      assert.strictEqual(kept.status, 200)
      assert.strictEqual((await call(emulator, "POST", "/v1/traces", otlp(OTHER, "ddddddddddddddd2"))).status, 200)
      const bad = await call(emulator, "POST", "/v1/traces?close_after=maybe", otlp(OTHER, "ddddddddddddddd3"))
      assert.strictEqual(bad.status, 422)
      assert.deepStrictEqual(bad.json.detail[0].loc, ["query", "close_after"])
      assert.strictEqual(emulator.store.traceSpans().length, 2, "a refused query keeps nothing")

      const closing = await call(emulator, "POST", "/v1/traces?close_after=true", otlp(TRACE, "eeeeeeeeeeeeeee1"))
      assert.strictEqual(closing.status, 200)
      assert.strictEqual(emulator.store.traceSpans().length, 3, "the closing request's spans are kept")
      assert.strictEqual(emulator.store.traces.closure(TRACE)?.status, "closed")
      assert.strictEqual((await call(emulator, "POST", "/v1/traces", otlp(TRACE, "eeeeeeeeeeeeeee2"))).status, 409)
      const bulk = await call(emulator, "POST", "/spans-bulk", { spans: [span("eeeeeeeeeeeeeee3")] })
      assert.deepStrictEqual(bulk.json.rejected_trace_ids, [TRACE])
      assert.strictEqual((await call(emulator, "POST", `/api/public/v2/traces/${TRACE}/close`)).status, 409)
      assert.isUndefined(emulator.store.traces.closure(OTHER), "close_after=false left the other trace open")
    }))

  it("a trace closed by close_after on /v1/traces stays closed across a restart (data file)", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "pl-otlp-"))
    const dataFile = Path.join(dir, "state.json")
    try {
      const first = await startEmulator({ port: 0, dataFile })
      try {
        const r = await call(first, "POST", "/v1/traces?close_after=1", otlp(TRACE, "fffffffffffffff1"))
        assert.strictEqual(r.status, 200)
      } finally {
        await first.close()
      }
      const second = await startEmulator({ port: 0, dataFile })
      try {
        assert.strictEqual(second.store.traceSpans().length, 1)
        assert.strictEqual((await call(second, "POST", "/v1/traces", otlp(TRACE, "fffffffffffffff2"))).status, 409)
      } finally {
        await second.close()
      }
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("traces API", () => {
  it("POST /api/public/v2/traces/{id}/close: 201 with the closure, 409 when closed, 404 when unknown", () =>
    withEmulator(async (emulator) => {
      await call(emulator, "POST", "/spans-bulk", { spans: [span("1111111111111111")] })
      const closed = await call(emulator, "POST", `/api/public/v2/traces/${TRACE}/close`)
      assert.strictEqual(closed.status, 201)
      assert.isTrue(closed.json.success)
      assert.strictEqual(closed.json.closure.trace_id, TRACE)
      assert.strictEqual(closed.json.closure.status, "closed")
      assert.match(closed.json.closure.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      const again = await call(emulator, "POST", `/api/public/v2/traces/${TRACE}/close`)
      assert.deepStrictEqual([again.status, again.json], [409, { success: false, message: "Trace already closed" }])
      assert.strictEqual((await call(emulator, "POST", "/api/public/v2/traces/nope/close")).status, 404)
      const late = await call(emulator, "POST", "/spans-bulk", { spans: [span("2222222222222222")] })
      assert.deepStrictEqual(late.json.rejected_span_ids, ["2222222222222222"])
      assert.isTrue((await call(emulator, "GET", "/emulator/traces")).json.items[0].closed)
      assert.strictEqual(
        (await call(emulator, "POST", `/api/public/v2/traces/${TRACE}/close`, undefined, "x")).status,
        401
      )
    }))

  it("GET /api/public/v2/traces/{id}: the spans with ISO times and request_log_id; 404 when unknown", () =>
    withEmulator(async (emulator) => {
      const created = await call(emulator, "POST", "/spans-bulk", {
        spans: [span("3333333333333331"), span("3333333333333332", { parent: "3333333333333331", log: logRequest() })]
      })
      const trace = await call(emulator, "GET", `/api/public/v2/traces/${TRACE}`)
      assert.strictEqual(trace.status, 200)
      assert.isTrue(trace.json.success)
      assert.strictEqual(trace.json.trace_id, TRACE)
      const [root, child] = trace.json.spans
      assert.deepInclude(root, {
        name: "3333333333333331",
        span_id: "3333333333333331",
        parent_id: null,
        request_log_id: null,
        start_time: "2026-01-01T00:00:00.000000000Z",
        end_time: "2026-01-01T00:00:00.100000000Z"
      })
      assert.strictEqual(child.parent_id, "3333333333333331")
      assert.strictEqual(child.request_log_id, created.json.request_logs[0].id)
      const unknown = await call(emulator, "GET", "/api/public/v2/traces/ffffffffffffffffffffffffffffffff")
      assert.strictEqual(unknown.status, 404)
      assert.isFalse(unknown.json.success)
      assert.strictEqual((await call(emulator, "GET", `/api/public/v2/traces/${TRACE}`, undefined, "x")).status, 401)
    }))

  it("accepts a child before its parent; the listing's root is the parent once it arrives", () =>
    withEmulator(async (emulator) => {
      await call(emulator, "POST", "/spans-bulk", {
        spans: [span("4444444444444442", { name: "tool", parent: "4444444444444441", start: 10, end: 20 })]
      })
      const orphan = (await call(emulator, "GET", "/emulator/traces")).json.items[0]
      assert.deepInclude(orphan, { name: "tool", root_span_id: "4444444444444442", span_count: 1 })
      await call(emulator, "POST", "/spans-bulk", {
        spans: [span("4444444444444441", { name: "agent", start: 0, end: 50 })]
      })
      const whole = (await call(emulator, "GET", "/emulator/traces")).json.items[0]
      assert.deepInclude(whole, { name: "agent", root_span_id: "4444444444444441", span_count: 2, duration_ms: 50 })
      const trace = await call(emulator, "GET", `/api/public/v2/traces/${TRACE}`)
      assert.deepStrictEqual(
        trace.json.spans.map((s: any) => [s.span_id, s.parent_id]),
        [
          ["4444444444444442", "4444444444444441"],
          ["4444444444444441", null]
        ]
      )
    }))

  it("the read API lists traces newest first with name, duration, status, span count and tokens", () =>
    withEmulator(async (emulator) => {
      const older = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      const newer = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
      await call(emulator, "POST", "/spans-bulk", {
        spans: [
          span("5555555555555551", { trace: older, name: "old-root", start: 0, end: 1000 }),
          span("5555555555555552", {
            trace: newer,
            name: "new-root",
            start: 5000,
            end: 5250,
            status: "StatusCode.ERROR"
          }),
          span("5555555555555553", {
            trace: newer,
            parent: "5555555555555552",
            start: 5010,
            end: 5300,
            status: "StatusCode.ERROR",
            log: logRequest({ input_tokens: 30, output_tokens: 12 })
          }),
          span("5555555555555554", { trace: newer, parent: "5555555555555552", start: 5020, end: 5030 })
        ]
      })
      const items = (await call(emulator, "GET", "/emulator/traces")).json.items
      assert.deepStrictEqual(
        items.map((t: any) => t.trace_id),
        [newer, older]
      )
      assert.deepInclude(items[0], {
        name: "new-root",
        start_time: "2026-01-01T00:00:05.000Z",
        end_time: "2026-01-01T00:00:05.300Z",
        duration_ms: 300,
        status: "StatusCode.ERROR",
        error_spans: 2,
        span_count: 3,
        tokens: 42,
        closed: false
      })
      assert.strictEqual(items[0].request_log_ids.length, 1)
      assert.deepInclude(items[1], { name: "old-root", duration_ms: 1000, status: "StatusCode.OK", tokens: 0 })
      const detail = await call(emulator, "GET", `/emulator/traces/${newer}`)
      assert.strictEqual(detail.json.spans.length, 3)
      assert.strictEqual(detail.json.closure, null)
      assert.strictEqual((await call(emulator, "GET", "/emulator/traces/unknown")).status, 404)
      await call(emulator, "POST", "/emulator/reset")
      assert.deepStrictEqual((await call(emulator, "GET", "/emulator/traces")).json.items, [])
    }))
})

describe("repeated span ids", () => {
  it("are stored again, as a retried /log-request is (no de-duplication)", () =>
    withEmulator(async (emulator) => {
      const batch = { spans: [span("8888888888888881", { log: logRequest() })] }
      const first = await call(emulator, "POST", "/spans-bulk", batch)
      const retried = await call(emulator, "POST", "/spans-bulk", batch)
      assert.notStrictEqual(first.json.spans[0].id, retried.json.spans[0].id)
      assert.notStrictEqual(first.json.request_logs[0].id, retried.json.request_logs[0].id)
      const trace = await call(emulator, "GET", `/api/public/v2/traces/${TRACE}`)
      assert.strictEqual(trace.json.spans.length, 2)
      assert.strictEqual((await call(emulator, "GET", "/emulator/traces")).json.items[0].span_count, 2)
    }))
})

describe("content blocks", () => {
  it("/log-request rejects a content block type the OpenAPI document does not define", () =>
    withEmulator(async (emulator) => {
      const base = {
        provider: "anthropic",
        model: "claude",
        input: chat("user", "hi"),
        request_start_time: "2026-01-01T00:00:00Z",
        request_end_time: "2026-01-01T00:00:01Z"
      }
      const bad = await call(emulator, "POST", "/log-request", {
        ...base,
        output: { type: "chat", messages: [{ role: "assistant", content: [{ type: "tool_use", name: "f" }] }] }
      })
      assert.strictEqual(bad.status, 422)
      assert.deepStrictEqual(bad.json.detail[0].loc, ["body", "output", "messages", 0, "content", 0])
      assert.strictEqual(bad.json.detail[0].type, "union_tag_invalid")
      assert.include(bad.json.detail[0].msg, "'tool_use'")
      const completion = await call(emulator, "POST", "/log-request", {
        ...base,
        output: { type: "completion", content: [{ type: "image", source: {} }] }
      })
      assert.deepStrictEqual(completion.json.detail[0].loc, ["body", "output", "content", 0])
      const documented = await call(emulator, "POST", "/log-request", {
        ...base,
        output: {
          type: "chat",
          messages: [
            {
              role: "assistant",
              content: [
                { type: "thinking", thinking: "hmm" },
                { type: "image_url", image_url: { url: "https://x/y.png" } },
                { type: "text", text: "ok" }
              ]
            }
          ]
        }
      })
      assert.strictEqual(documented.status, 201)
    }))
})

describe("persistence", () => {
  it("a data file keeps spans, their request logs and closed traces across restarts", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "pl-traces-"))
    const dataFile = Path.join(dir, "state.json")
    try {
      const first = await startEmulator({ port: 0, dataFile })
      let logId: number
      try {
        const created = await call(first, "POST", "/spans-bulk", {
          spans: [span("9999999999999991", { log: logRequest() })],
          close_after: true
        })
        logId = created.json.request_logs[0].id
      } finally {
        await first.close()
      }
      const second = await startEmulator({ port: 0, dataFile })
      try {
        const trace = await call(second, "GET", `/api/public/v2/traces/${TRACE}`)
        assert.strictEqual(trace.json.spans[0].request_log_id, logId)
        assert.strictEqual((await call(second, "GET", `/emulator/requests/${logId}`)).json.span_id, "9999999999999991")
        const late = await call(second, "POST", "/spans-bulk", { spans: [span("9999999999999992")] })
        assert.strictEqual(late.json.rejection_reason, "trace_closed")
      } finally {
        await second.close()
      }
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("spans and closed traces are part of the store's snapshot and restore", () => {
    const store = new PromptLayerEmulator.Store()
    const created = store.traces.createSpansBulk({
      spans: [span("6666666666666661", { log: logRequest() })],
      close_after: true
    }) as { request_logs: Array<{ id: number }> }
    const snapshot = JSON.parse(JSON.stringify(store.snapshot()))
    const restored = new PromptLayerEmulator.Store()
    restored.restore(snapshot)
    assert.deepStrictEqual(restored.traces.list(), store.traces.list())
    assert.deepStrictEqual(restored.traces.traceOfRequest(created.request_logs[0]!.id), {
      trace_id: TRACE,
      span_id: "6666666666666661"
    })
    const late = restored.traces.createSpansBulk({ spans: [span("6666666666666662")] }) as Record<string, unknown>
    assert.deepStrictEqual(late.rejected_span_ids, ["6666666666666662"])
    const next = restored.traces.createSpansBulk({ spans: [span("7777777777777771", { trace: "other" })] }) as {
      spans: Array<{ id: number }>
    }
    assert.strictEqual(next.spans[0]!.id, 2)
    const { traces: _traces, ...older } = snapshot
    const fromOldFile = new PromptLayerEmulator.Store()
    fromOldFile.restore(older)
    assert.deepStrictEqual(fromOldFile.traces.list(), [])
  })
})

describe("responses match the OpenAPI document", () => {
  it("201 CreateSpansBulkResponse (with and without rejections), TraceDetailResponse, the closure, 409, 404, 422", () =>
    withEmulator(async (emulator) => {
      assert.isNotEmpty(responseErrors("POST", "/spans-bulk", 201, { success: "yes" }), "the validator can fail")
      const example = openApiDoc.paths["/spans-bulk"]!.post.requestBody.content["application/json"].examples
      for (const name of ["withLogRequest", "inheritedTimes"]) {
        const created = await call(emulator, "POST", "/spans-bulk", example[name].value)
        assert.strictEqual(created.status, 201, name)
        assert.deepStrictEqual(responseErrors("POST", "/spans-bulk", 201, created.json), [])
      }
      const traceId = "d4b5e2a13c8f4e9ab7d61a2b3c4d5e6f"
      const trace = await call(emulator, "GET", `/api/public/v2/traces/${traceId}`)
      assert.deepStrictEqual(responseErrors("GET", "/api/public/v2/traces/{trace_id}", 200, trace.json), [])
      assert.deepStrictEqual(
        trace.json.spans.map((s: any) => s.parent_id),
        ["parent123", null]
      )
      const closed = await call(emulator, "POST", `/api/public/v2/traces/${traceId}/close`)
      assert.deepStrictEqual(responseErrors("POST", "/api/public/v2/traces/{trace_id}/close", 201, closed.json), [])
      const again = await call(emulator, "POST", `/api/public/v2/traces/${traceId}/close`)
      assert.deepStrictEqual(responseErrors("POST", "/api/public/v2/traces/{trace_id}/close", 409, again.json), [])
      const rejected = await call(emulator, "POST", "/spans-bulk", example.inheritedTimes.value)
      assert.deepStrictEqual(rejected.json.rejected_trace_ids, [traceId])
      assert.deepStrictEqual(responseErrors("POST", "/spans-bulk", 201, rejected.json), [])
      const missing = await call(emulator, "GET", "/api/public/v2/traces/unknown")
      assert.deepStrictEqual(responseErrors("GET", "/api/public/v2/traces/{trace_id}", 404, missing.json), [])
      // The document's 422 is `oneOf` HTTPValidationError | ErrorResponse, and a `detail` body matches
      // both (ErrorResponse requires nothing), so the body is checked against HTTPValidationError.
      const invalid = await call(emulator, "POST", "/spans-bulk", { spans: [{ name: 1 }] })
      assert.strictEqual(invalid.status, 422)
      assert.deepStrictEqual(schemaErrors("HTTPValidationError", invalid.json), [])
      assert.isAbove(invalid.json.detail.length, 5)
    }))

  it("the content block types the emulator accepts are exactly those the document maps", () => {
    const mapped = new Set<string>()
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) {
        for (const item of node) walk(item)
        return
      }
      if (node === null || typeof node !== "object") return
      const discriminator = (node as { discriminator?: { propertyName?: string; mapping?: object } }).discriminator
      if (discriminator?.propertyName === "type" && discriminator.mapping && "text" in discriminator.mapping) {
        for (const type of Object.keys(discriminator.mapping)) mapped.add(type)
      }
      for (const value of Object.values(node)) walk(value)
    }
    walk(openApiDoc)
    assert.deepStrictEqual([...DOCUMENTED_CONTENT_TYPES].sort(), [...mapped].sort())
  })
})

/**
 * The client's trace operations (`spans.bulk`, `spans.bulkEncoded`, `traces.get`, `traces.close`):
 * what goes on the wire (validated against the OpenAPI document's `CreateSpansBulk`, nanosecond
 * times as exact integers), how responses decode (the document's own examples), input checked
 * before the network; the same operations on `PromptLayerTest` and the Promise bridge.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { PromptLayer } from "promptlayer-effect/promise"
import { PromptLayerTest } from "promptlayer-effect/testing"
import * as PromptLayerClient from "../src/PromptLayerClient.js"
import * as S from "../src/PromptLayerSchema.js"
import { clientOver, mockHttp } from "./support/mockHttpClient.js"
import { openApiDoc, schemaErrors } from "./support/openApiSchemas.js"

const API_KEY = "pl_test_spans_0123456789"
const TRACE = "d4b5e2a13c8f4e9ab7d61a2b3c4d5e6f"

const span = (extra: Partial<S.SpanInput> = {}): S.SpanInput => ({
  name: "llm_call",
  context: { trace_id: TRACE, span_id: "a1b2c3d45e6f7a8b", trace_state: "" },
  kind: "SpanKind.CLIENT",
  parent_id: null,
  start_time: 1_764_838_000_123_456_789n,
  end_time: "1764838001987654321",
  status: { status_code: "StatusCode.OK" },
  attributes: { "llm.model": "gpt-4o-mini", nested: { a: [1, 2] } },
  resource: { attributes: { "service.name": "test" }, schema_url: "" },
  log_request: {
    provider: "openai",
    model: "gpt-4o-mini",
    input: { type: "chat", messages: [{ role: "user", content: [{ type: "text", text: "Hello!" }] }] },
    output: { type: "chat", messages: [{ role: "assistant", content: [{ type: "text", text: "Hi" }] }] },
    request_start_time: new Date("2025-12-04T08:00:00.123Z"),
    request_end_time: 1_764_835_201_987,
    tags: ["t"],
    metadata: { session_id: "s-1" }
  },
  ...extra
})

const created = {
  status: 201,
  json: {
    success: true,
    spans: [{ id: 101, name: "llm_call", span_id: "a1b2c3d45e6f7a8b" }],
    request_logs: [{ id: 12345, span_id: "a1b2c3d45e6f7a8b" }]
  }
}

describe("NanoTime", () => {
  const decode = Schema.decodeUnknownResult(S.NanoTime)

  it("keeps nanoseconds exact from a bigint, an integer, a digit string or a Date", () => {
    assert.deepStrictEqual(decode(1_764_838_000_123_456_789n), Result.succeed("1764838000123456789"))
    assert.deepStrictEqual(decode("1764838000123456789"), Result.succeed("1764838000123456789"))
    assert.deepStrictEqual(decode(1_630_000_000_000_000_000), Result.succeed("1630000000000000000"))
    assert.deepStrictEqual(decode(new Date(1_764_838_000_123)), Result.succeed("1764838000123000000"))
    assert.deepStrictEqual(decode("007"), Result.succeed("7"))
  })

  it("rejects negative, fractional, non-numeric and out-of-range times", () => {
    for (const bad of [-1, -1n, 1.5, "1.5", "", "12a", "123456789012345678901", new Date(Number.NaN), null, {}]) {
      assert.isTrue(Result.isFailure(decode(bad)), `rejects ${String(bad)}`)
    }
  })
})

describe("spans.bulk", () => {
  it.effect(
    "POST /spans-bulk: exact nanosecond integers on the wire, a body valid for CreateSpansBulk, request logs back",
    () =>
      Effect.gen(function* () {
        const mock = mockHttp(() => created)
        const client = yield* clientOver(mock, API_KEY)
        const response = yield* client.spans.bulk({ spans: [span()], close_after: false })
        assert.deepStrictEqual(response.request_logs, [{ id: 12345, span_id: "a1b2c3d45e6f7a8b" }])
        const [sent] = mock.requests
        assert.strictEqual(sent?.method, "POST")
        assert.strictEqual(sent?.url.pathname, "/spans-bulk")
        assert.strictEqual(sent?.headers["x-api-key"], API_KEY)
        assert.include(sent?.text ?? "", '"start_time":1764838000123456789')
        assert.include(sent?.text ?? "", '"end_time":1764838001987654321')
        assert.include(sent?.text ?? "", '"close_after":false')
        assert.deepStrictEqual(schemaErrors("CreateSpansBulk", sent?.body), [])
        const body = sent?.body as { spans: Array<{ log_request: Record<string, unknown>; attributes: unknown }> }
        assert.strictEqual(body.spans[0]?.log_request.request_start_time, "2025-12-04T08:00:00.123Z")
        assert.deepStrictEqual(body.spans[0]?.attributes, { "llm.model": "gpt-4o-mini", nested: { a: [1, 2] } })
      })
  )

  it.effect("invalid spans fail with a ValidationError naming the field, before any request", () =>
    Effect.gen(function* () {
      const mock = mockHttp(() => created)
      const client = yield* clientOver(mock, API_KEY)
      const error = yield* Effect.flip(
        client.spans.bulk({
          spans: [
            span({ kind: "CLIENT" as never }),
            span({ start_time: -5 }),
            span({ context: { trace_id: "", span_id: "x", trace_state: "" } })
          ]
        })
      )
      assert.strictEqual(error._tag, "ValidationError")
      assert.include(error.message, "spans.0.kind")
      assert.include(error.message, "spans.1.start_time")
      assert.include(error.message, "spans.2.context.trace_id")
      assert.lengthOf(mock.requests, 0)
    })
  )

  it.effect("bulkEncoded sends what encodeSpanResult made: the same body as spans.bulk", () =>
    Effect.gen(function* () {
      const mock = mockHttp(() => created)
      const client = yield* clientOver(mock, API_KEY)
      const encoded = PromptLayerClient.encodeSpanResult(span())
      assert.isTrue(Result.isSuccess(encoded))
      if (Result.isFailure(encoded)) return
      assert.strictEqual(encoded.success.spanId, "a1b2c3d45e6f7a8b")
      assert.strictEqual(encoded.success.traceId, TRACE)
      assert.strictEqual(encoded.success.bytes, new TextEncoder().encode(encoded.success.text).length)
      assert.deepStrictEqual(encoded.success.log?.metadata, { session_id: "s-1" })
      yield* client.spans.bulkEncoded([encoded.success, encoded.success])
      yield* client.spans.bulk({ spans: [span(), span()] })
      assert.strictEqual(mock.requests[0]?.text, mock.requests[1]?.text)
      const invalid = PromptLayerClient.encodeSpanResult(span({ status: { status_code: "OK" as never } }))
      assert.isTrue(Result.isFailure(invalid) && invalid.failure.message.includes("status.status_code"))
      const forged = yield* Effect.flip(client.spans.bulkEncoded([{ text: "{}" } as never]))
      assert.strictEqual(forged._tag, "ValidationError")
      assert.lengthOf(mock.requests, 2)
    })
  )

  it.effect("a 422 is an InvalidRequestError with the server's details; not retried", () =>
    Effect.gen(function* () {
      const mock = mockHttp(() => ({
        status: 422,
        json: { detail: [{ loc: ["body", "spans", 0, "kind"], msg: "Input should be 'SpanKind.CLIENT'", type: "x" }] }
      }))
      const client = yield* clientOver(mock, API_KEY, { maxAttempts: 3 })
      const error = yield* Effect.flip(client.spans.bulk({ spans: [span()] }))
      assert.strictEqual(error._tag, "InvalidRequestError")
      assert.include(error.message, "body.spans.0.kind")
      assert.lengthOf(mock.requests, 1)
    })
  )

  it("the document's examples decode with the response schemas", () => {
    const bulk =
      openApiDoc.paths["/spans-bulk"]!.post.responses["201"].content["application/json"].examples.created.value
    assert.strictEqual(Schema.decodeUnknownSync(S.CreateSpansBulkResponse)(bulk).request_logs?.[0]?.id, 12345)
    const trace =
      openApiDoc.paths["/api/public/v2/traces/{trace_id}"]!.get.responses["200"].content["application/json"].examples
        .trace.value
    assert.strictEqual(Schema.decodeUnknownSync(S.TraceDetailResponse)(trace).spans[0]?.request_log_id, 12345)
    const closed =
      openApiDoc.paths["/api/public/v2/traces/{trace_id}/close"]!.post.responses["201"].content["application/json"]
        .examples.closed.value
    assert.strictEqual(Schema.decodeUnknownSync(S.CloseTraceResponse)(closed).closure?.status, "closed")
    const rejected = {
      success: true,
      spans: [],
      request_logs: [],
      rejected_span_ids: ["a1"],
      rejected_trace_ids: [TRACE],
      rejection_reason: "trace_closed"
    }
    assert.deepStrictEqual(Schema.decodeUnknownSync(S.CreateSpansBulkResponse)(rejected).rejected_span_ids, ["a1"])
  })
})

describe("traces.get / traces.close", () => {
  it.effect("GET and POST .../close on the encoded trace id; 404 and 409 as typed errors", () =>
    Effect.gen(function* () {
      const mock = mockHttp((request) => {
        if (request.url.pathname.endsWith("/close")) {
          return request.url.pathname.includes("closed")
            ? { status: 409, json: { success: false, message: "Trace already closed" } }
            : { status: 201, json: { success: true, closure: { trace_id: TRACE, status: "closed" } } }
        }
        return request.url.pathname.includes("missing")
          ? { status: 404, json: { success: false, message: "Trace not found" } }
          : {
              status: 200,
              json: {
                success: true,
                trace_id: TRACE,
                spans: [{ id: 1, name: "root", span_id: "1a", parent_id: null, request_log_id: null }]
              }
            }
      })
      const client = yield* clientOver(mock, API_KEY)
      const trace = yield* client.traces.get(TRACE)
      assert.strictEqual(trace.spans[0]?.name, "root")
      assert.strictEqual(mock.requests[0]?.method, "GET")
      assert.strictEqual(mock.requests[0]?.url.pathname, `/api/public/v2/traces/${TRACE}`)
      const closed = yield* client.traces.close("a/b c")
      assert.strictEqual(closed.closure?.status, "closed")
      assert.strictEqual(mock.requests[1]?.url.pathname, "/api/public/v2/traces/a%2Fb%20c/close")
      assert.strictEqual((yield* Effect.flip(client.traces.get("missing")))._tag, "NotFoundError")
      assert.strictEqual((yield* Effect.flip(client.traces.close("closed")))._tag, "InvalidRequestError")
      assert.strictEqual((yield* Effect.flip(client.traces.get("")))._tag, "ValidationError")
      assert.lengthOf(mock.requests, 4)
    })
  )
})

describe("the trace operations on PromptLayerTest and the Promise bridge", () => {
  it("PromptLayerTest stores spans and their request logs, reads and closes traces, records the calls", async () => {
    const pl = PromptLayerTest.make()
    const promptlayer = new PromptLayer({ layer: pl.layer })
    const response = await promptlayer.spans.bulk({
      spans: [
        span(),
        span({
          context: { trace_id: TRACE, span_id: "b2", trace_state: "" },
          log_request: null,
          parent_id: "a1b2c3d45e6f7a8b",
          kind: "SpanKind.INTERNAL"
        })
      ]
    })
    assert.lengthOf(response.spans, 2)
    const requestId = response.request_logs?.[0]?.id
    assert.isDefined(requestId)
    assert.strictEqual(pl.request(requestId!)?.span_id, "a1b2c3d45e6f7a8b")
    const [summary] = pl.traces()
    assert.strictEqual(summary?.trace_id, TRACE)
    assert.strictEqual(summary?.span_count, 2)
    assert.strictEqual(
      pl.spans(TRACE)[0]?.start_time,
      "1764838000123456789",
      "exact nanoseconds through the test layer"
    )
    const trace = await promptlayer.traces.get(TRACE)
    assert.deepStrictEqual(
      trace.spans.map((s) => [s.span_id, s.parent_id]),
      [
        ["a1b2c3d45e6f7a8b", null],
        ["b2", "a1b2c3d45e6f7a8b"]
      ]
    )
    await promptlayer.traces.close(TRACE)
    const late = await promptlayer.spans.bulk({
      spans: [span({ context: { trace_id: TRACE, span_id: "c3", trace_state: "" } })]
    })
    assert.deepStrictEqual(late.rejected_span_ids, ["c3"])
    const encoded = PromptLayerClient.encodeSpanResult(
      span({ context: { trace_id: "other", span_id: "d4", trace_state: "" } })
    )
    if (Result.isSuccess(encoded)) await Effect.runPromise(pl.client.spans.bulkEncoded([encoded.success]))
    assert.strictEqual(pl.spans("other")[0]?.start_time, "1764838000123456789")
    assert.deepStrictEqual(
      pl.calls().map((call) => call.operation),
      ["spans.bulk", "traces.get", "traces.close", "spans.bulk", "spans.bulk"]
    )
    await promptlayer.close()
  })
})

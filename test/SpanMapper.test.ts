/**
 * The span mapper's output is valid by construction: the handler's run spans skip schema validation
 * (`encodeValid`, plain code), so a property test proves, for arbitrary runs (chains, tools,
 * retrievers, model calls with their request logs, errors, partial runs, events, odd metadata), that
 * every span it makes is accepted by the `CreateSpansBulk` schema and that the plain encoding sends
 * exactly what the validated path (`encodeSpanResult`) would. Also what inputs and outputs look like.
 */
import { assert, describe, it } from "@effect/vitest"
import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages"
import { ChatPromptValue } from "@langchain/core/prompt_values"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as fc from "fast-check"
import * as Blueprint from "../src/internal/blueprint.js"
import { spanIdOf, traceIdOf } from "../src/internal/runTree.js"
import * as SpanMapper from "../src/internal/spanMapper.js"
import * as PromptLayerClient from "../src/PromptLayerClient.js"
import * as S from "../src/PromptLayerSchema.js"

const text = fc.string({ maxLength: 40, unit: "grapheme" })
const longText = fc.oneof(text, fc.string({ minLength: 1000, maxLength: 40_000 }))
const key = fc.oneof(
  fc.constantFrom("thread_id", "session_id", "langgraph_node", "langgraph_step", "ls_provider"),
  text
)

/** What LangChain hands a callback: plain JSON, odd values, messages, prompt values, documents. */
const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    longText,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt(),
    fc.date({ noInvalidDate: false }),
    text.map((t) => new HumanMessage(t)),
    fc.tuple(text, text).map(([t, id]) => new AIMessage({ content: t, tool_calls: [{ id, name: "f", args: { t } }] })),
    text.map((t) => new ChatPromptValue([new SystemMessage("s"), new HumanMessage(t)])),
    text.map((t) => ({ pageContent: t, metadata: { source: t } })),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 4 })
  )
})).value

const ids = fc.uuid().map(
  (runId): SpanMapper.SpanIds => ({
    runId,
    parentRunId: undefined,
    traceId: traceIdOf(runId),
    spanId: spanIdOf(runId),
    parentSpanId: null
  })
)

const time = fc.double({ min: 1e12, max: 2e12, noNaN: true })

const info = fc.record({
  kind: fc.constantFrom("chain", "tool", "retriever", "llm", "chat_model") as fc.Arbitrary<SpanMapper.RunKind>,
  runType: fc.option(text, { nil: undefined }),
  name: text,
  tags: fc.array(fc.oneof(text, fc.constant("seq:step:1")), { maxLength: 70 }),
  metadata: fc.dictionary(key, value, { maxKeys: 6 }),
  inputs: value.map(SpanMapper.capture),
  startedAt: time,
  toolCallId: fc.option(text, { nil: undefined })
})

const outcome: fc.Arbitrary<SpanMapper.RunOutcome> = fc.oneof(
  fc.record({ _tag: fc.constant("end" as const), endedAt: time, outputs: value.map(SpanMapper.capture) }),
  fc.record({
    _tag: fc.constant("error" as const),
    endedAt: time,
    error: fc.oneof(
      text.map((t) => new Error(t)),
      value
    )
  }),
  fc.record({ _tag: fc.constant("partial" as const), endedAt: time, reason: longText })
)

const events = fc.option(
  fc.array(
    fc.record({
      name: text,
      timestamp: time.map((t) => new Date(t).toISOString()),
      attributes: fc.dictionary(text, value, { maxKeys: 3 })
    }),
    { maxLength: 3 }
  ),
  { nil: undefined }
)

// The resource's keys are the handler's own (`service.name`, ...), never user data.
const resource = fc.record({
  attributes: fc.dictionary(fc.constantFrom("service.name", "telemetry.sdk.name", "deployment.environment"), text, {
    maxKeys: 3
  }),
  schema_url: fc.constant("")
})

const messages = fc.array(
  fc.oneof(
    text.map((t) => new HumanMessage(t)),
    text.map((t) => new SystemMessage(t)),
    fc
      .tuple(text, text)
      .map(([t, id]) => new AIMessage({ content: t, tool_calls: [{ id, name: "lookup", args: { q: t } }] })),
    fc.tuple(text, text).map(([t, id]) => new ToolMessage({ content: t, tool_call_id: id }))
  ),
  { maxLength: 4 }
)

const modelLog = fc
  .record({
    kind: fc.constantFrom("chat", "llm") as fc.Arbitrary<"chat" | "llm">,
    runId: fc.uuid(),
    messages,
    prompt: longText,
    params: fc.dictionary(text, value, { maxKeys: 3 }),
    metadata: fc.dictionary(key, value, { maxKeys: 4 }),
    tags: fc.array(text, { maxLength: 4 }),
    startedAt: time,
    end: fc.oneof(
      fc.record({
        _tag: fc.constant("end" as const),
        endedAt: time,
        firstTokenAt: fc.option(time, { nil: undefined }),
        generations: fc.array(
          fc.oneof(
            text.map((t) => ({ text: t })),
            text.map((t) => ({ text: t, message: new AIMessage(t) }))
          ),
          { maxLength: 2 }
        ),
        llmOutput: fc.option(
          fc.record({ tokenUsage: fc.record({ promptTokens: fc.nat(), completionTokens: fc.nat() }) }),
          { nil: undefined }
        ),
        cached: fc.boolean()
      }),
      fc.record({
        _tag: fc.constant("error" as const),
        endedAt: time,
        firstTokenAt: fc.constant(undefined),
        error: text.map((t) => new Error(t))
      }),
      fc.record({
        _tag: fc.constant("abandoned" as const),
        endedAt: time,
        firstTokenAt: fc.constant(undefined),
        reason: text
      })
    )
  })
  .map((r) =>
    Blueprint.toLogRequest(
      {
        kind: r.kind,
        runId: r.runId,
        parentRunId: undefined,
        input: r.kind === "chat" ? r.messages : r.prompt,
        invocationParams: r.params,
        tags: r.tags,
        metadata: r.metadata,
        runName: undefined,
        serializedId: ["langchain", "chat_models", "fake", "FakeListChatModel"],
        batchSize: 1,
        startedAt: r.startedAt,
        promptIndex: undefined
      },
      r.end as Blueprint.RunEnd,
      ["bench"]
    )
  )

/** The span is valid for `CreateSpansBulk`, and the plain encoding sends what the validated path would. */
const checkSpan = (span: S.SpanInput) => {
  const decoded = Schema.decodeUnknownResult(S.CreateSpansBulk)({ spans: [span] })
  if (Result.isFailure(decoded)) assert.fail(`invalid span: ${String(decoded.failure)}`)
  const checked = PromptLayerClient.encodeSpanResult(span)
  if (Result.isFailure(checked)) assert.fail(`the validated path refused it: ${checked.failure.message}`)
  const plain = SpanMapper.encodeValid(span)
  assert.deepStrictEqual(JSON.parse(plain.text), JSON.parse(checked.success.text))
  const valid = decoded.success.spans[0]!
  assert.isTrue(
    plain.text.startsWith(`{"start_time":${valid.start_time},"end_time":${valid.end_time},`),
    "exact nanoseconds"
  )
  assert.strictEqual(plain.bytes, Buffer.byteLength(plain.text))
  assert.deepStrictEqual(
    [plain.traceId, plain.spanId, plain.log],
    [checked.success.traceId, checked.success.spanId, checked.success.log]
  )
}

describe("SpanMapper", () => {
  it("property: every chain/tool/retriever span is valid for CreateSpansBulk and encodes as the validated path would", () => {
    fc.assert(
      fc.property(ids, info, outcome, events, resource, (i, run, end, evs, res) =>
        checkSpan(SpanMapper.toSpan(i, run, end, evs, res))
      ),
      { numRuns: 300 }
    )
  })

  it("property: every model span (its request log from the blueprint) is valid and encodes as the validated path would", () => {
    fc.assert(
      fc.property(ids, info, outcome, modelLog, events, resource, (i, run, end, log, evs, res) =>
        checkSpan(SpanMapper.toModelSpan(i, run, end, log, evs, res))
      ),
      { numRuns: 300 }
    )
  })

  it("regression: messages and prompt values are written as blueprint messages, not LangChain's serialized form", () => {
    const json = (u: unknown) => JSON.parse(SpanMapper.toJson(u))
    assert.deepStrictEqual(json(new AIMessage("Paris.")), {
      role: "assistant",
      content: [{ type: "text", text: "Paris." }]
    })
    assert.deepStrictEqual(json(new ChatPromptValue([new SystemMessage("s"), new HumanMessage("q")])), {
      messages: [
        { role: "system", content: [{ type: "text", text: "s" }] },
        { role: "user", content: [{ type: "text", text: "q" }] }
      ]
    })
    assert.deepStrictEqual(json({ docs: [{ pageContent: "p", metadata: { n: 1 } }], n: 10n }), {
      docs: [{ page_content: "p", metadata: { n: 1 } }],
      n: "10"
    })
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    const shared = { x: 1 }
    assert.deepStrictEqual(json({ cyclic, left: shared, right: shared }), {
      cyclic: { a: 1, self: "[circular]" },
      left: { x: 1 },
      right: { x: 1 }
    })
  })

  it("nanosOf writes exact digits, as BigInt arithmetic would", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 4e12, noNaN: true }), (ms) => {
        const whole = Math.floor(ms)
        const fraction = Math.min(Math.round((ms - whole) * 1e6), 999_999)
        assert.strictEqual(SpanMapper.nanosOf(ms), (BigInt(whole) * 1_000_000n + BigInt(fraction)).toString())
      })
    )
  })
})

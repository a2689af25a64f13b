import * as FetchHttpClient from "effect/http/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises"
import { BaseLLM } from "@langchain/core/language_models/llms"
import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages"
import type { Serialized } from "@langchain/core/load/serializable"
import type { ChatGeneration, LLMResult } from "@langchain/core/outputs"
import { PromptTemplate } from "@langchain/core/prompts"
import { FakeLLM, FakeListChatModel, FakeStreamingChatModel, FakeStreamingLLM } from "@langchain/core/utils/testing"
import { ChatOpenAI, OpenAI } from "@langchain/openai"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { afterAll, beforeAll } from "vitest"
import * as PromptLayerClient from "../src/PromptLayerClient.js"
import { type StartedEmulator, type StoredRequest, startEmulator } from "../src/PromptLayerEmulator.js"
import type * as S from "../src/PromptLayerSchema.js"
import * as PromptLayerTracker from "../src/PromptLayerTracker.js"
import { PromptLayerCallbackHandler, type PromptLayerCallbackHandlerOptions } from "promptlayer-effect/langchain"
import { type OpenAIStub, startOpenAIStub, usageFor } from "./support/openaiStub.js"

// The emulator's stored requests are read through its HTTP read API, as a user would.
let emulator: StartedEmulator
const handlers: Array<PromptLayerCallbackHandler> = []

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 })
})

afterAll(async () => {
  // Acceptance 4: no run state left behind by any test, errors and abandoned streams included.
  for (const handler of handlers) assert.strictEqual(handler.activeRuns, 0)
  await Promise.all(handlers.map((handler) => handler.shutdown()))
  await emulator.close()
})

const handlerFor = (options: PromptLayerCallbackHandlerOptions = {}) => {
  // These tests pin the requests mode (one /log-request per model call); the traces mode has its own file.
  const handler = new PromptLayerCallbackHandler({
    apiKey: emulator.apiKey,
    baseURL: emulator.url,
    mode: "requests",
    ...options
  })
  handlers.push(handler)
  return handler
}

const stored = async (id: number): Promise<StoredRequest> => {
  const response = await fetch(`${emulator.url}/emulator/requests/${id}`)
  assert.strictEqual(response.status, 200)
  return (await response.json()) as StoredRequest
}

const storedFor = async (handler: PromptLayerCallbackHandler, runId: string) =>
  stored(await handler.requestIdFor(runId))

const text = (t: string) => [{ type: "text", text: t }]

const chatOf = (request: StoredRequest) => {
  assert.strictEqual(request.input?.type, "chat")
  assert.strictEqual(request.output?.type, "chat")
  return {
    input: (request.input as S.Prompt & { type: "chat" }).messages,
    output: (request.output as S.Prompt & { type: "chat" }).messages
  }
}

/** An LLM answering every prompt with `n` candidates (`<prompt> #k`) and a batch-level token count. */
class CandidatesLLM extends BaseLLM {
  constructor(readonly n: number) {
    super({})
  }
  _llmType() {
    return "candidates"
  }
  async _generate(prompts: Array<string>): Promise<LLMResult> {
    return {
      generations: prompts.map((p) => Array.from({ length: this.n }, (_, k) => ({ text: `${p} #${k + 1}` }))),
      llmOutput: { tokenUsage: { promptTokens: 10 * prompts.length, completionTokens: 3, totalTokens: 0 } }
    }
  }
}

describe("PromptLayerCallbackHandler over the emulator", () => {
  it("FakeListChatModel: roles, content blocks, tags, metadata, run ids, provider and model", async () => {
    const handler = handlerFor({ plTags: ["langchain", "chat"] })
    const runId = crypto.randomUUID()
    const answer = await new FakeListChatModel({ responses: ["Paris."] }).invoke(
      [new SystemMessage("You answer briefly."), new HumanMessage("Capital of France?")],
      { callbacks: [handler], runId, tags: ["geo"], metadata: { user_id: 42, session: "s-1", nested: { a: 1 } } }
    )
    assert.strictEqual(answer.content, "Paris.")
    const request = await storedFor(handler, runId)
    const { input, output } = chatOf(request)
    assert.deepStrictEqual(input, [
      { role: "system", content: text("You answer briefly.") },
      { role: "user", content: text("Capital of France?") }
    ])
    assert.deepStrictEqual(output, [{ role: "assistant", content: text("Paris.") }])
    assert.strictEqual(request.kind, "log-request")
    assert.strictEqual(request.status, "SUCCESS")
    assert.strictEqual(request.provider, "FakeListChatModel")
    assert.strictEqual(request.model, "FakeListChatModel")
    assert.deepStrictEqual(request.tags, ["langchain", "chat", "geo"])
    assert.strictEqual(request.metadata.user_id, "42")
    assert.strictEqual(request.metadata.session, "s-1")
    assert.strictEqual(request.metadata.nested, '{"a":1}')
    assert.strictEqual(request.metadata.langchain_run_id, runId)
    assert.strictEqual(request.metadata.langchain_run_name, "FakeListChatModel")
    assert.isUndefined(request.metadata.langchain_parent_run_id)
    assert.strictEqual(request.input_tokens, 0)
    assert.isAtLeast(request.latency_ms, 0)
    assert.strictEqual(handler.activeRuns, 0)
  })

  it("FakeStreamingChatModel streamed: output assembled, time to first token in metadata, no chunks kept", async () => {
    const handler = handlerFor({ plTags: ["stream"] })
    const runId = crypto.randomUUID()
    const model = new FakeStreamingChatModel({ sleep: 5, responses: [new AIMessage("Once upon a time")] })
    let streamed = ""
    for await (const chunk of await model.stream("Tell me a story", { callbacks: [handler], runId })) {
      streamed += chunk.content
    }
    assert.strictEqual(streamed, "Once upon a time")
    const request = await storedFor(handler, runId)
    const { input, output } = chatOf(request)
    assert.deepStrictEqual(input, [{ role: "user", content: text("Tell me a story") }])
    assert.deepStrictEqual(output, [{ role: "assistant", content: text("Once upon a time") }])
    const ttft = Number(request.metadata.time_to_first_token_ms)
    assert.isTrue(Number.isFinite(ttft) && ttft >= 0)
    assert.isAtMost(ttft, request.latency_ms)
    assert.match(request.metadata.first_token_at ?? "", /^\d{4}-\d\d-\d\dT/)
    assert.deepStrictEqual(request.tags, ["stream"])
  })

  it("FakeLLM and FakeStreamingLLM: completion prompts in and out", async () => {
    const handler = handlerFor({ plTags: ["langchain", "gpt4all"] })
    const runA = crypto.randomUUID()
    const runB = crypto.randomUUID()
    await new FakeLLM({ response: "there was a princess." }).invoke("Once upon a time, ", {
      callbacks: [handler],
      runId: runA
    })
    await new FakeStreamingLLM({ sleep: 1, responses: ["a dragon"] }).invoke("In a cave, ", {
      callbacks: [handler],
      runId: runB
    })
    const a = await storedFor(handler, runA)
    assert.deepStrictEqual(a.input, { type: "completion", content: text("Once upon a time, ") })
    assert.deepStrictEqual(a.output, { type: "completion", content: text("there was a princess.") })
    assert.strictEqual(a.model, "FakeLLM")
    assert.strictEqual(a.provider, "fake")
    assert.deepStrictEqual(a.tags, ["langchain", "gpt4all"])
    assert.strictEqual(a.function_name, "langchain.llms.fake.FakeLLM")
    const b = await storedFor(handler, runB)
    assert.deepStrictEqual(b.input, { type: "completion", content: text("In a cave, ") })
    assert.deepStrictEqual(b.output, { type: "completion", content: text("a dragon") })
    assert.strictEqual(b.model, "FakeStreamingLLM")
    assert.strictEqual(b.status, "SUCCESS")
  })

  it("tool calls: assistant tool calls (content []) and the tool message are kept, in input and output", async () => {
    const handler = handlerFor()
    const model = new FakeStreamingChatModel({
      responses: [new AIMessage("")],
      chunks: [
        new AIMessageChunk({
          content: "",
          tool_calls: [{ id: "call_2", name: "get_weather", args: { city: "Paris" }, type: "tool_call" }]
        })
      ]
    }).bindTools([{ name: "get_weather", description: "Weather of a city", schema: { type: "object" } }])
    const runId = crypto.randomUUID()
    const reply = await model.invoke(
      [
        new HumanMessage("Weather in Rome, then Paris?"),
        new AIMessage({
          content: "",
          tool_calls: [{ id: "call_1", name: "get_weather", args: { city: "Rome" }, type: "tool_call" }]
        }),
        new ToolMessage({ content: "sunny, 24°C", tool_call_id: "call_1", name: "get_weather" })
      ],
      { callbacks: [handler], runId }
    )
    assert.strictEqual(reply.tool_calls?.[0]?.name, "get_weather")
    const request = await storedFor(handler, runId)
    const { input, output } = chatOf(request)
    assert.deepStrictEqual(input, [
      { role: "user", content: text("Weather in Rome, then Paris?") },
      {
        role: "assistant",
        content: [],
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } }
        ]
      },
      { role: "tool", content: text("sunny, 24°C"), name: "get_weather", tool_call_id: "call_1" }
    ])
    assert.deepStrictEqual(output, [
      {
        role: "assistant",
        content: [],
        tool_calls: [
          { id: "call_2", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }
        ]
      }
    ])
    const tools = (request.body.parameters as { tools?: Array<{ function: { name: string } }> }).tools
    assert.strictEqual(tools?.[0]?.function.name, "get_weather")
  })

  it("a batch of prompts: one request per prompt, each with its own prompt and answer", async () => {
    const handler = handlerFor({ plTags: ["batch"] })
    const prompts = ["alpha", "beta", "gamma"]
    const runId = crypto.randomUUID()
    const result = await new FakeLLM({}).generate(prompts, { callbacks: [handler], runId })
    assert.strictEqual(result.generations.length, 3)
    await handler.flush()
    const logs = emulator.store.requests().filter((r) => r.tags.includes("batch"))
    assert.strictEqual(logs.length, 3)
    assert.deepStrictEqual(
      logs.map((r) => [r.input, r.output]).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
      prompts.map((p) => [
        { type: "completion", content: text(p) },
        { type: "completion", content: text(p) }
      ])
    )
    assert.strictEqual(new Set(logs.map((r) => r.metadata.langchain_run_id)).size, 3)
    assert.isTrue(logs.some((r) => r.metadata.langchain_run_id === runId))

    const chatAnswers = await new FakeListChatModel({ responses: ["one", "two"] }).batch(["first?", "second?"], {
      callbacks: [handler],
      tags: ["chat-batch"]
    })
    assert.deepStrictEqual(
      chatAnswers.map((m) => m.content),
      ["one", "two"]
    )
    await handler.flush()
    const chats = emulator.store.requests().filter((r) => r.tags.includes("chat-batch"))
    const pairs = chats.map((r) => {
      const { input, output } = chatOf(r)
      return [input[0]?.content, output[0]?.content]
    })
    assert.sameDeepMembers(pairs, [
      [text("first?"), text("one")],
      [text("second?"), text("two")]
    ])
  })

  it("n > 1 candidates: none dropped; a batch's token usage is not counted twice", async () => {
    const handler = handlerFor({ plTags: ["candidates"] })
    await new CandidatesLLM(2).generate(["p1", "p2"], { callbacks: [handler] })
    await handler.flush()
    const logs = emulator.store.requests().filter((r) => r.tags.includes("candidates"))
    assert.strictEqual(logs.length, 2)
    for (const r of logs) {
      const prompt = (r.input as unknown as { content: Array<{ text: string }> }).content[0]?.text
      assert.deepStrictEqual(r.output, {
        type: "completion",
        content: [...text(`${prompt} #1`), ...text(`${prompt} #2`)]
      })
      assert.strictEqual(r.metadata.langchain_candidates, "2")
      assert.strictEqual(r.model, "CandidatesLLM")
    }
    // LangChain hands the batch totals to the first prompt's run and {} to the others
    assert.deepStrictEqual(logs.map((r) => r.input_tokens).sort(), [0, 20])
    assert.deepStrictEqual(logs.map((r) => r.output_tokens).sort(), [0, 3])
    assert.strictEqual(logs.find((r) => r.input_tokens === 20)?.metadata.token_usage_scope, "batch")
  })

  it("a model that throws: logged with status ERROR, error_type and message; the caller gets the error", async () => {
    const handler = handlerFor({ plTags: ["errors"] })
    const runA = crypto.randomUUID()
    const runB = crypto.randomUUID()
    const errA = await new FakeListChatModel({ responses: ["never"] })
      .invoke("hi", { callbacks: [handler], runId: runA, thrownErrorString: "429 Rate limit reached for requests" })
      .catch((e: Error) => e)
    assert.instanceOf(errA, Error)
    const errB = await new FakeLLM({ thrownErrorString: "x".repeat(2000) })
      .invoke("hi", { callbacks: [handler], runId: runB })
      .catch((e: Error) => e)
    assert.instanceOf(errB, Error)
    const a = await storedFor(handler, runA)
    assert.strictEqual(a.status, "ERROR")
    assert.strictEqual(a.error_type, "PROVIDER_RATE_LIMIT")
    assert.strictEqual(a.error_message, "429 Rate limit reached for requests")
    assert.deepStrictEqual(chatOf(a).input, [{ role: "user", content: text("hi") }])
    assert.deepStrictEqual(chatOf(a).output, [])
    const b = await storedFor(handler, runB)
    assert.strictEqual(b.status, "ERROR")
    assert.strictEqual(b.error_type, "PROVIDER_ERROR")
    assert.strictEqual(b.error_message?.length, 1024)
    assert.deepStrictEqual(b.output, { type: "completion", content: [] })
    assert.strictEqual(handler.activeRuns, 0)
  })

  it("a stream abandoned after one chunk: evicted after the TTL, logged as a partial response", async () => {
    let now = Date.now()
    const handler = handlerFor({ plTags: ["abandoned"], runTtl: "1 minute", now: () => now })
    const runId = crypto.randomUUID()
    const stream = await new FakeListChatModel({ responses: ["a long answer that nobody reads"] }).stream(
      "Tell me everything",
      { callbacks: [handler], runId }
    )
    for await (const _chunk of stream) break
    await awaitAllCallbacks()
    assert.strictEqual(handler.activeRuns, 1)
    await handler.flush()
    assert.strictEqual(handler.activeRuns, 1, "not evicted before the TTL")
    now += 61_000
    await handler.flush()
    assert.strictEqual(handler.activeRuns, 0)
    assert.strictEqual(handler.stats().evicted, 1)
    const request = await storedFor(handler, runId)
    assert.strictEqual(request.status, "WARNING")
    assert.strictEqual(request.error_type, "PROVIDER_PARTIAL_RESPONSE")
    assert.match(request.error_message ?? "", /never ended/)
    assert.strictEqual(request.metadata.langchain_abandoned, "true")
    assert.deepStrictEqual(chatOf(request).input, [{ role: "user", content: text("Tell me everything") }])
    // a late end for an evicted run is ignored, not logged twice
    handler.handleLLMEnd({ generations: [] }, runId)
    assert.strictEqual(handler.stats().duplicates, 1)
  })

  it("50 concurrent invocations on one handler: each logged once with its own input, output and run id", async () => {
    const handler = handlerFor({ plTags: ["concurrent"] })
    const runs = Array.from({ length: 50 }, (_, i) => ({ i, runId: crypto.randomUUID() }))
    await Promise.all(
      runs.map(({ i, runId }) =>
        new FakeListChatModel({ responses: [`answer ${i}`], sleep: i % 7 }).invoke(`question ${i}`, {
          callbacks: [handler],
          runId,
          metadata: { index: i }
        })
      )
    )
    await handler.flush()
    const ids = await Promise.all(runs.map(({ runId }) => handler.requestIdFor(runId)))
    assert.strictEqual(new Set(ids).size, 50)
    for (const { i, runId } of runs) {
      const request = await stored(ids[i]!)
      const { input, output } = chatOf(request)
      assert.deepStrictEqual(input, [{ role: "user", content: text(`question ${i}`) }])
      assert.deepStrictEqual(output, [{ role: "assistant", content: text(`answer ${i}`) }])
      assert.strictEqual(request.metadata.langchain_run_id, runId)
      assert.strictEqual(request.metadata.index, String(i))
    }
    assert.strictEqual(handler.activeRuns, 0)
  })

  it("requestIds delivers every id to two subscribers", async () => {
    const handler = handlerFor({ plTags: ["subscribers"] })
    const seen: [Array<PromptLayerTracker.DeliveredLog>, Array<PromptLayerTracker.DeliveredLog>] = [[], []]
    const subscribers = seen.map((into) =>
      Effect.runFork(Stream.runForEach(handler.requestIds, (log) => Effect.sync(() => void into.push(log))))
    )
    // Both streams are running once each has seen a warm-up log (no timing assumption).
    while (seen.some((logs) => logs.length === 0)) {
      await new FakeListChatModel({ responses: ["warm"] }).invoke("warm-up", { callbacks: [handler] })
      await handler.flush()
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const runIds = Array.from({ length: 12 }, () => crypto.randomUUID())
    await Promise.all(
      runIds.map((runId, i) =>
        new FakeListChatModel({ responses: [`r${i}`] }).invoke(`q${i}`, { callbacks: [handler], runId, tags: ["sub"] })
      )
    )
    await handler.flush()
    const expected = (await Promise.all(runIds.map((runId) => handler.requestIdFor(runId)))).sort((a, b) => a - b)
    // Published before flush() resolved; each subscriber's fiber takes them in its own time.
    while (seen.some((logs) => logs.filter((l) => l.tags.includes("sub")).length < 12)) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    for (const logs of seen) {
      const ids = logs.filter((l) => l.tags.includes("sub")).map((l) => l.requestId)
      assert.deepStrictEqual(
        ids.sort((a, b) => a - b),
        expected
      )
    }
    const log = seen[0].find((l) => l.runId === runIds[3])
    assert.deepStrictEqual(log?.tags, ["subscribers", "sub"])
    assert.strictEqual(log?.provider, "FakeListChatModel")
    assert.strictEqual((await stored(log!.requestId)).metadata.langchain_run_id, runIds[3])
    await Promise.all(subscribers.map((fiber) => Effect.runPromise(Fiber.interrupt(fiber))))
  })

  it("plIdCallback gets each request id (sync or async); a throwing callback is counted and delivery continues", async () => {
    const seen: Array<number> = []
    const good = handlerFor({ plTags: ["cb-good"], plIdCallback: async (id) => void seen.push(id) })
    const runId = crypto.randomUUID()
    await new FakeListChatModel({ responses: ["ok"] }).invoke("hello", { callbacks: [good], runId })
    await good.flush()
    assert.deepStrictEqual(seen, [await good.requestIdFor(runId)])

    const bad = handlerFor({
      plTags: ["cb-bad"],
      concurrency: 3,
      plIdCallback: () => {
        throw new Error("callback failure")
      }
    })
    const before = bad.stats().callbackErrors
    for (let i = 0; i < 3; i++)
      await new FakeListChatModel({ responses: [`ok ${i}`] }).invoke(`hi ${i}`, { callbacks: [bad] })
    await bad.flush()
    assert.strictEqual(bad.stats().callbackErrors - before, 3)
    assert.strictEqual(emulator.store.requests().filter((r) => r.tags.includes("cb-bad")).length, 3)
  })

  it("maxResponseBytes is passed to the shared client like baseURL (option, then PROMPTLAYER_MAX_RESPONSE_BYTES); an invalid one throws", async () => {
    const tooLarge = async (handler: PromptLayerCallbackHandler) => {
      const runId = crypto.randomUUID()
      await new FakeListChatModel({ responses: ["ok"] }).invoke("hello", { callbacks: [handler], runId })
      await handler.flush()
      return handler.requestIdFor(runId).then(
        () => "delivered",
        (error: unknown) => String(error)
      )
    }
    // The emulator's /log-request answer is more than 8 bytes: refused unread, never retried.
    assert.include(await tooLarge(handlerFor({ plTags: ["limit-option"], maxResponseBytes: 8 })), "ResponseTooLarge")
    assert.strictEqual(await tooLarge(handlerFor({ plTags: ["limit-default"] })), "delivered")
    const saved = process.env.PROMPTLAYER_MAX_RESPONSE_BYTES
    try {
      process.env.PROMPTLAYER_MAX_RESPONSE_BYTES = "8"
      assert.include(await tooLarge(handlerFor({ plTags: ["limit-env"] })), "ResponseTooLarge")
      assert.strictEqual(
        await tooLarge(handlerFor({ plTags: ["limit-env-override"], maxResponseBytes: 1 << 20 })),
        "delivered",
        "the option wins over the environment"
      )
      process.env.PROMPTLAYER_MAX_RESPONSE_BYTES = "lots"
      assert.throws(() => handlerFor({ plTags: ["limit-env-bad"] }), /maxResponseBytes.*PROMPTLAYER_MAX_RESPONSE_BYTES/)
    } finally {
      if (saved === undefined) delete process.env.PROMPTLAYER_MAX_RESPONSE_BYTES
      else process.env.PROMPTLAYER_MAX_RESPONSE_BYTES = saved
    }
    assert.throws(() => handlerFor({ maxResponseBytes: 0 }), /maxResponseBytes/)
  })

  it("requestIdFor: a preset run id resolves as a Promise and as an Effect, before or after delivery", async () => {
    const handler = handlerFor()
    const runId = crypto.randomUUID()
    const early = handler.requestIdFor(runId)
    await new FakeListChatModel({ responses: ["x"] }).invoke("y", { callbacks: [handler], runId })
    const id = await early
    assert.strictEqual(await Effect.runPromise(handler.requestIdForEffect(runId)), id)
    assert.strictEqual((await stored(id)).metadata.langchain_run_id, runId)
  })

  it("prompt registry: promptlayer_prompt_* metadata links the request and is not copied into metadata", async () => {
    const handler = handlerFor({ plTags: ["registry"] })
    const runId = crypto.randomUUID()
    await new FakeListChatModel({ responses: ["Bonjour"] }).invoke("Say hi in French", {
      callbacks: [handler],
      runId,
      metadata: {
        promptlayer_prompt_name: "greeting",
        promptlayer_prompt_version: 3,
        promptlayer_prompt_input_variables: { language: "French" },
        promptlayer_prompt_label: "prod",
        team: "growth"
      }
    })
    const request = await storedFor(handler, runId)
    assert.strictEqual(request.body.prompt_name, "greeting")
    assert.strictEqual(request.body.prompt_version_number, 3)
    assert.deepStrictEqual(request.body.prompt_input_variables, { language: "French" })
    assert.strictEqual(request.metadata.team, "growth")
    assert.strictEqual(request.metadata.prompt_label, "prod")
    for (const key of Object.keys(request.metadata)) assert.notMatch(key, /^promptlayer_prompt_/)

    // a prompt template carrying the keys links the model run that follows it in a sequence
    const template = PromptTemplate.fromTemplate("Translate {text} to {language}")
    template.metadata = { promptlayer_prompt_name: "translate", promptlayer_prompt_version: 2 }
    const chainRun = crypto.randomUUID()
    await template
      .pipe(new FakeListChatModel({ responses: ["Hola"] }))
      .invoke({ text: "hello", language: "Spanish" }, { callbacks: [handler], runId: chainRun, tags: ["seq"] })
    await handler.flush()
    const linked = emulator.store.requests().find((r) => r.tags.includes("seq") && r.provider === "FakeListChatModel")
    assert.isDefined(linked)
    assert.strictEqual(linked!.body.prompt_name, "translate")
    assert.strictEqual(linked!.body.prompt_version_number, 2)
    assert.deepStrictEqual(linked!.body.prompt_input_variables, { text: "hello", language: "Spanish" })
    assert.strictEqual(linked!.metadata.langchain_parent_run_id, chainRun)
    assert.deepStrictEqual(linked!.tags, ["registry", "seq"], "LangChain's internal seq:step:N tags are left out")
  })

  it("duplicate starts and ends are ignored; an end for an unknown run is ignored", async () => {
    const handler = handlerFor({ plTags: ["dupes"] })
    const runId = crypto.randomUUID()
    const llm: Serialized = { lc: 1, type: "not_implemented", id: ["test", "Dup"] }
    handler.handleLLMStart(llm, ["once"], runId)
    handler.handleLLMStart(llm, ["twice"], runId)
    handler.handleLLMEnd({ generations: [[{ text: "done" }]] }, runId)
    handler.handleLLMEnd({ generations: [[{ text: "again" }]] }, runId)
    handler.handleLLMError(new Error("late"), runId)
    handler.handleLLMEnd({ generations: [] }, crypto.randomUUID())
    await handler.flush()
    assert.strictEqual(handler.stats().duplicates, 4)
    const logs = emulator.store.requests().filter((r) => r.tags.includes("dupes"))
    assert.strictEqual(logs.length, 1)
    assert.deepStrictEqual(logs[0]!.input, { type: "completion", content: text("once") })
    assert.deepStrictEqual(logs[0]!.output, { type: "completion", content: text("done") })
  })

  it("handle* methods never throw and never wait: a broken event is counted, the next one logs", async () => {
    const handler = handlerFor({ plTags: ["robust"] })
    const runId = crypto.randomUUID()
    const hostile = new Proxy([], {
      get() {
        throw new Error("hostile input")
      }
    }) as unknown as Array<string>
    assert.isUndefined(handler.handleLLMStart({ lc: 1, type: "not_implemented", id: ["x"] }, hostile, runId))
    assert.strictEqual(handler.stats().handlerErrors, 1)
    assert.strictEqual(handler.activeRuns, 0)
    const okRun = crypto.randomUUID()
    const before = handler.stats()
    handler.handleLLMStart({ lc: 1, type: "not_implemented", id: ["x"] }, ["fine"], okRun)
    const result = handler.handleLLMEnd({ generations: [[{ text: "yes" }]] }, okRun)
    assert.isUndefined(result, "returns synchronously, no promise to await")
    // Never waits: the log is only queued when handleLLMEnd returns; delivery happens afterwards.
    const after = handler.stats()
    assert.strictEqual(after.accepted - before.accepted, 1)
    assert.strictEqual(after.delivered, before.delivered)
    assert.strictEqual((await storedFor(handler, okRun)).status, "SUCCESS")
  })

  it("handleChatModelStreamEvent timestamps the first token; a cached answer is flagged", async () => {
    let now = Date.now()
    const handler = handlerFor({ plTags: ["events"], now: () => now })
    const runId = crypto.randomUUID()
    const llm: Serialized = { lc: 1, type: "not_implemented", id: ["langchain", "chat_models", "x", "ChatX"] }
    handler.handleChatModelStart(llm, [[new HumanMessage("hi")]], runId, undefined, {
      invocation_params: { model: "x-1" }
    })
    now += 15
    handler.handleChatModelStreamEvent({ event: "content-block-delta" }, runId)
    now += 5
    handler.handleChatModelStreamEvent({ event: "content-block-delta" }, runId)
    const generation: ChatGeneration = { text: "hey", message: new AIMessage("hey") }
    handler.handleLLMEnd({ generations: [[generation]] }, runId, undefined, [], {
      cached: true
    })
    const request = await storedFor(handler, runId)
    assert.strictEqual(Number(request.metadata.time_to_first_token_ms), 15, "the first token, not the last")
    assert.strictEqual(request.metadata.langchain_cached, "true")
    assert.strictEqual(request.model, "x-1")
    assert.strictEqual(request.provider, "x")
  })

  it("a process with undelivered logs still exits: the tracker's timers are unref'd", async () => {
    const gone = await startEmulator({ port: 0 })
    await gone.close()
    const { execFile } = await import("node:child_process")
    const started = Date.now()
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ["--import", "tsx", "test/support/exitWithPendingLog.ts", gone.url],
        // Far below the 10-minute backoff, far above a loaded machine's start-up time.
        { timeout: 50_000 },
        (error, stdout) => (error ? reject(error) : resolve(stdout))
      )
    )
    const stats = JSON.parse(out) as { retried: number; delivered: number; inFlight: number }
    assert.strictEqual(stats.retried, 1, "it was waiting on a 10-minute retry backoff")
    assert.strictEqual(stats.delivered, 0)
    assert.isBelow(Date.now() - started, 50_000)
  })

  it("handlers built with the same config share one client and one tracker; another config gets its own", async () => {
    const a = handlerFor({ plTags: ["share-a"], concurrency: 5 })
    const b = handlerFor({ plTags: ["share-b"], concurrency: 5 })
    const c = handlerFor({ plTags: ["share-c"], concurrency: 6 })
    const before = a.stats().accepted
    await new FakeListChatModel({ responses: ["1"] }).invoke("a", { callbacks: [a] })
    await new FakeListChatModel({ responses: ["2"] }).invoke("b", { callbacks: [b] })
    await a.flush()
    assert.strictEqual(a.stats().accepted - before, 2)
    assert.deepStrictEqual(a.stats(), { ...b.stats(), activeRuns: a.activeRuns })
    assert.strictEqual(c.stats().accepted, 0)
  })

  it("shutdown flushes and is idempotent; the handler works again afterwards on a fresh tracker", async () => {
    const handler = handlerFor({ plTags: ["shutdown"], concurrency: 7 })
    await new FakeListChatModel({ responses: ["bye"] }).invoke("x", { callbacks: [handler] })
    await Promise.all([handler.shutdown(), handler.shutdown()])
    await handler.shutdown()
    assert.strictEqual(emulator.store.requests().filter((r) => r.tags.includes("shutdown")).length, 1)
    await new FakeListChatModel({ responses: ["again"] }).invoke("y", { callbacks: [handler] })
    await handler.flush()
    assert.strictEqual(emulator.store.requests().filter((r) => r.tags.includes("shutdown")).length, 2)
  })

  it("after shutdown, stats(), requestIds, requestIdFor and flush() do not start a new tracker; a new LLM run does", async () => {
    const handler = handlerFor({ plTags: ["no-resurrect"], concurrency: 11 })
    const model = new FakeListChatModel({ responses: ["one", "two", "three"] })
    const firstRun = "7c1e0c43-4a31-4c8e-9a1e-3f1f4f3f0001"
    await model.invoke("1", { callbacks: [handler], runId: firstRun })
    await model.invoke("2", { callbacks: [handler] })
    const firstId = await handler.requestIdFor(firstRun)
    await handler.shutdown()
    const final = handler.stats()
    assert.strictEqual(final.accepted, 2)
    assert.strictEqual(final.delivered, 2)
    assert.deepStrictEqual(handler.stats(), final)
    const late = await Effect.runPromise(Stream.runCollect(handler.requestIds).pipe(Effect.timeoutOption("10 seconds")))
    assert.isTrue(late._tag === "Some" && late.value.length === 0, "requestIds after shutdown ends at once")
    const subscribed = await Effect.runPromise(
      Effect.scoped(Effect.flatMap(handler.subscribeRequestIds, Stream.runCollect)).pipe(
        Effect.timeoutOption("10 seconds")
      )
    )
    assert.isTrue(subscribed._tag === "Some" && subscribed.value.length === 0)
    assert.strictEqual(await handler.requestIdFor(firstRun), firstId)
    await handler.flush()
    await handler.shutdown()
    assert.deepStrictEqual(handler.stats(), final, "still the shut-down tracker's counters: no new tracker")
    await model.invoke("3", { callbacks: [handler] })
    await handler.flush()
    const fresh = handler.stats()
    assert.strictEqual(fresh.accepted, 1, "a new run started a new tracker")
    assert.strictEqual(fresh.delivered, 1)
    assert.strictEqual(emulator.store.requests().filter((r) => r.tags.includes("no-resurrect")).length, 3)
  })

  it("plain construction reads PROMPTLAYER_API_KEY / PROMPTLAYER_BASE_URL, options override them", async () => {
    const saved = { key: process.env.PROMPTLAYER_API_KEY, url: process.env.PROMPTLAYER_BASE_URL }
    try {
      process.env.PROMPTLAYER_API_KEY = emulator.apiKey
      process.env.PROMPTLAYER_BASE_URL = emulator.url
      const fromEnv = new PromptLayerCallbackHandler({ plTags: ["from-env"], mode: "requests" })
      handlers.push(fromEnv)
      const runId = crypto.randomUUID()
      await new FakeListChatModel({ responses: ["env"] }).invoke("x", { callbacks: [fromEnv], runId })
      assert.deepStrictEqual((await storedFor(fromEnv, runId)).tags, ["from-env"])
      delete process.env.PROMPTLAYER_API_KEY
      assert.throws(() => new PromptLayerCallbackHandler({ plTags: ["no-key"] }), /API key is empty/)
      process.env.PROMPTLAYER_API_KEY = "pl_wrong"
      const overridden = handlerFor({ plTags: ["override"] })
      const run2 = crypto.randomUUID()
      await new FakeListChatModel({ responses: ["opt"] }).invoke("x", { callbacks: [overridden], runId: run2 })
      assert.deepStrictEqual((await storedFor(overridden, run2)).tags, ["override"])
    } finally {
      if (saved.key === undefined) delete process.env.PROMPTLAYER_API_KEY
      else process.env.PROMPTLAYER_API_KEY = saved.key
      if (saved.url === undefined) delete process.env.PROMPTLAYER_BASE_URL
      else process.env.PROMPTLAYER_BASE_URL = saved.url
    }
  })

  it("standard file/image blocks in, reasoning out: only PromptLayer's block types are logged", async () => {
    const handler = handlerFor({ plTags: ["blocks"] })
    const runId = crypto.randomUUID()
    const pdf = "JVBERi0xLjQK"
    const question = new HumanMessage({
      contentBlocks: [
        { type: "text", text: "What is in these?" },
        { type: "file", data: pdf, mimeType: "application/pdf", metadata: { filename: "report.pdf" } },
        { type: "image", url: "https://example.com/cat.png" },
        { type: "file", fileId: "file-123" }
      ]
    })
    const model = new FakeStreamingChatModel({
      responses: [
        new AIMessage({
          contentBlocks: [
            { type: "reasoning", reasoning: "A report and a cat." },
            { type: "text", text: "A PDF report and a cat." }
          ]
        })
      ]
    })
    await model.invoke([question], { callbacks: [handler], runId })
    const request = await storedFor(handler, runId)
    const { input, output } = chatOf(request)
    const [text0, media, image, fileId] = input[0]!.content ?? []
    assert.deepStrictEqual(text0, { type: "text", text: "What is in these?" })
    assert.deepStrictEqual(media, {
      type: "media",
      media: {
        title: "report.pdf",
        type: "application/pdf",
        url: `data:application/pdf;base64,${pdf}`,
        format: "base64"
      }
    })
    assert.deepStrictEqual(image, { type: "image_url", image_url: { url: "https://example.com/cat.png" } })
    assert.strictEqual(fileId?.type, "text")
    assert.include(fileId?.text as string, "file-123")
    assert.deepStrictEqual(output, [
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "A report and a cat." },
          { type: "text", text: "A PDF report and a cat." }
        ]
      }
    ])
    assert.strictEqual(request.metadata.langchain_unmapped_blocks, "1")
    assert.strictEqual(request.metadata.langchain_unmapped_block_types, "file")
  })

  it("metadata: a Date is its ISO string; LangChain's ls_* and versions keys are not copied", async () => {
    const handler = handlerFor({ plTags: ["meta"] })
    const runId = crypto.randomUUID()
    const at = new Date("2026-03-04T05:06:07.000Z")
    const model = new FakeListChatModel({ responses: ["ok"], metadata: { deployed_at: at } })
    await model.invoke("hi", { callbacks: [handler], runId, metadata: { requested_at: at } })
    const request = await storedFor(handler, runId)
    assert.strictEqual(request.metadata.requested_at, "2026-03-04T05:06:07.000Z")
    assert.strictEqual(request.metadata.deployed_at, "2026-03-04T05:06:07.000Z")
    for (const key of Object.keys(request.metadata)) {
      assert.notMatch(key, /^ls_/)
      assert.notStrictEqual(key, "versions")
    }
  })
})

describe("PromptLayerCallbackHandler.make (the app's own layers)", () => {
  it("uses the app's tracker and client (a fake client layer) and flushes when the scope closes", async () => {
    const bodies: Array<S.LogRequestInput> = []
    // Delivery waits at this gate, opened once the test saw that nothing was delivered inline.
    let open: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const fakeClient = Layer.succeed(PromptLayerClient.PromptLayerClient, {
      logRequest: (body: S.LogRequestInput) =>
        Effect.promise(() => gate).pipe(
          Effect.map(() => {
            bodies.push(body)
            return { id: 1000 + bodies.length }
          })
        )
    } as unknown as PromptLayerClient.Service)
    const runId = crypto.randomUUID()
    const seen: Array<number> = []
    const program = Effect.gen(function* () {
      const handler = yield* PromptLayerCallbackHandler.make({
        mode: "requests",
        plTags: ["effect"],
        plIdCallback: (id) => seen.push(id)
      })
      yield* Effect.promise(() =>
        new FakeListChatModel({ responses: ["from effect"] }).invoke("hi", { callbacks: [handler], runId })
      )
      yield* Effect.promise(() => awaitAllCallbacks())
      assert.strictEqual(bodies.length, 0, "delivery happens in the background")
      open()
      return handler
    }).pipe(Effect.scoped)
    const tracker = PromptLayerTracker.layer().pipe(Layer.provide(fakeClient))
    const handler = await Effect.runPromise(
      Effect.gen(function* () {
        const h = yield* program
        assert.strictEqual(bodies.length, 1, "flushed when the handler's scope closed")
        assert.strictEqual(yield* h.requestIdForEffect(runId), 1001)
        return h
      }).pipe(Effect.provide(tracker))
    )
    assert.deepStrictEqual(seen, [1001])
    assert.deepStrictEqual(bodies[0]?.tags, ["effect"])
    assert.deepStrictEqual(bodies[0]?.output, {
      type: "chat",
      messages: [{ role: "assistant", content: text("from effect") }]
    })
    assert.strictEqual(handler.activeRuns, 0)
  })

  it("works with the real client layers against the emulator", async () => {
    const clientLayer = PromptLayerClient.layerWith({ apiKey: emulator.apiKey, baseUrl: emulator.url }).pipe(
      Layer.provide(FetchHttpClient.layer)
    )
    const runId = crypto.randomUUID()
    const id = await Effect.runPromise(
      Effect.gen(function* () {
        const handler = yield* PromptLayerCallbackHandler.make({ plTags: ["effect-emulator"], mode: "requests" })
        yield* Effect.promise(() =>
          new FakeListChatModel({ responses: ["ok"] }).invoke("hi", { callbacks: [handler], runId })
        )
        return yield* handler.requestIdForEffect(runId)
      }).pipe(Effect.scoped, Effect.provide(PromptLayerTracker.layer().pipe(Layer.provide(clientLayer))))
    )
    assert.deepStrictEqual((await stored(id)).tags, ["effect-emulator"])
  })
})

describe("@langchain/openai models over an OpenAI-compatible stub", () => {
  let stub: OpenAIStub
  beforeAll(async () => {
    stub = await startOpenAIStub()
  })
  afterAll(async () => {
    await stub.close()
  })

  const openaiOptions = () => ({ apiKey: "sk-test", configuration: { baseURL: stub.url }, maxRetries: 0 })

  it("ChatOpenAI (non-streaming): provider, model, parameters, tokens from usage_metadata", async () => {
    const handler = handlerFor({ plTags: ["chatopenai"] })
    const chat = new ChatOpenAI({ model: "gpt-4o-mini", temperature: 0, callbacks: [handler], ...openaiOptions() })
    const runId = crypto.randomUUID()
    const answer = await chat.invoke("Once upon a time in a galaxy", { runId })
    const sent = stub.requests.at(-1)!.body
    const usage = usageFor(sent)
    assert.strictEqual(
      (answer as unknown as { usage_metadata?: { input_tokens: number } }).usage_metadata?.input_tokens,
      usage.prompt_tokens
    )
    const request = await storedFor(handler, runId)
    assert.strictEqual(request.provider, "openai")
    assert.strictEqual(request.model, "gpt-4o-mini")
    assert.strictEqual(request.input_tokens, usage.prompt_tokens)
    assert.strictEqual(request.output_tokens, usage.completion_tokens)
    assert.strictEqual((request.body.parameters as { temperature?: number }).temperature, 0)
    assert.deepStrictEqual(chatOf(request).output, [{ role: "assistant", content: text(String(answer.content)) }])
    assert.deepStrictEqual(request.tags, ["chatopenai"])
  })

  it("ChatOpenAI streaming with stream_options.include_usage: tokens, model and TTFT", async () => {
    const handler = handlerFor({ plTags: ["chatopenai-stream"] })
    const chat = new ChatOpenAI({ model: "gpt-4o", streamUsage: true, callbacks: [handler], ...openaiOptions() })
    const runId = crypto.randomUUID()
    let streamed = ""
    for await (const chunk of await chat.stream("Stream me a short story please", { runId })) streamed += chunk.content
    const sent = stub.requests.at(-1)!.body
    assert.strictEqual(sent.stream, true)
    assert.deepStrictEqual(sent.stream_options, { include_usage: true })
    const usage = usageFor(sent)
    const request = await storedFor(handler, runId)
    assert.strictEqual(request.model, "gpt-4o")
    assert.strictEqual(request.provider, "openai")
    assert.strictEqual(request.input_tokens, usage.prompt_tokens)
    assert.strictEqual(request.output_tokens, usage.completion_tokens)
    assert.deepStrictEqual(chatOf(request).output, [{ role: "assistant", content: text(streamed) }])
    assert.isDefined(request.metadata.time_to_first_token_ms)
  })

  it("OpenAI (completions): completion prompt, model and tokens from llmOutput.tokenUsage", async () => {
    const handler = handlerFor({ plTags: ["openai-completion"] })
    const llm = new OpenAI({
      model: "gpt-3.5-turbo-instruct",
      temperature: 0.5,
      callbacks: [handler],
      ...openaiOptions()
    })
    const runId = crypto.randomUUID()
    const answer = await llm.invoke("Once upon a time, ", { runId })
    const sent = stub.requests.at(-1)!
    assert.strictEqual(sent.path, "/v1/completions")
    const usage = usageFor(sent.body)
    const request = await storedFor(handler, runId)
    assert.strictEqual(request.provider, "openai")
    assert.strictEqual(request.model, "gpt-3.5-turbo-instruct")
    assert.deepStrictEqual(request.input, { type: "completion", content: text("Once upon a time, ") })
    assert.deepStrictEqual(request.output, { type: "completion", content: text(answer) })
    assert.strictEqual(request.input_tokens, usage.prompt_tokens)
    assert.strictEqual(request.output_tokens, usage.completion_tokens)
    assert.strictEqual((request.body.parameters as { temperature?: number }).temperature, 0.5)
  })
})

describe("reliability", () => {
  it("with 30% 429/503 and 5% dropped connections, all 1000 invocations are delivered after flush", async () => {
    const faulty = await startEmulator({
      port: 0,
      seed: 7,
      faults: [
        { route: "/log-request", status: 429, rate: 0.15, retryAfterSeconds: 1 },
        { route: "/log-request", status: 503, rate: 0.15 },
        { route: "/log-request", drop: true, rate: 0.05 }
      ]
    })
    try {
      const handler = new PromptLayerCallbackHandler({
        mode: "requests",
        apiKey: faulty.apiKey,
        baseURL: faulty.url,
        plTags: ["reliability"],
        concurrency: 16,
        retry: {
          maxAttempts: 12,
          initialDelay: "2 millis",
          maxDelay: "20 millis",
          maxRetryAfter: "10 millis",
          attemptTimeout: "5 seconds",
          deadline: "60 seconds"
        }
      })
      const runIds = Array.from({ length: 1000 }, () => crypto.randomUUID())
      for (let start = 0; start < runIds.length; start += 100) {
        await Promise.all(
          runIds.slice(start, start + 100).map((runId, i) =>
            new FakeListChatModel({ responses: [`answer ${start + i}`] }).invoke(`question ${start + i}`, {
              callbacks: [handler],
              runId
            })
          )
        )
      }
      await handler.flush()
      const stats = handler.stats()
      assert.strictEqual(stats.delivered, 1000)
      assert.strictEqual(stats.failed, 0)
      assert.strictEqual(stats.dropped, 0)
      assert.isAbove(stats.retried, 100)
      const logged = new Map<string | undefined, StoredRequest>(
        faulty.store.requests().map((r) => [r.metadata.langchain_run_id, r])
      )
      for (const [i, runId] of runIds.entries()) {
        const request = logged.get(runId)
        assert.isDefined(request, `run ${i} missing`)
        assert.deepStrictEqual(chatOf(request!).output, [{ role: "assistant", content: text(`answer ${i}`) }])
      }
      assert.strictEqual(handler.activeRuns, 0)
      await handler.shutdown()
    } finally {
      await faulty.close()
    }
  })

  it("with PromptLayer down, memory stays under the cap and drops are counted", async () => {
    const gone = await startEmulator({ port: 0 })
    const url = gone.url
    await gone.close()
    const handler = new PromptLayerCallbackHandler({
      mode: "requests",
      apiKey: "pl_down",
      baseURL: url,
      plTags: ["down"],
      concurrency: 2,
      maxQueued: 50,
      retry: { maxAttempts: 2, initialDelay: "50 millis", jitter: false }
    })
    let peak = 0
    const total = 400
    for (let start = 0; start < total; start += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          new FakeListChatModel({ responses: ["x"] }).invoke(`q${start + i}`, { callbacks: [handler] })
        )
      )
      await awaitAllCallbacks()
      const s = handler.stats()
      peak = Math.max(peak, s.queued + s.inFlight)
    }
    const during = handler.stats()
    assert.isAtMost(peak, 50 + 2)
    assert.isAbove(during.dropped, 0)
    await handler.flush()
    const after = handler.stats()
    assert.strictEqual(after.delivered, 0)
    assert.strictEqual(after.failed + after.dropped, total)
    assert.strictEqual(after.queued + after.inFlight, 0)
    assert.strictEqual(handler.activeRuns, 0)
    await handler.shutdown()
  })
})

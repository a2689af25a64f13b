/**
 * The handler's traces mode (the default), end to end: real LangChain runnables (and a real
 * LangGraph graph) over the emulator, asserting the span trees it stored — names, kinds, parents,
 * statuses, inputs and outputs, and the request log of every model span.
 */
import { assert, describe, it } from "@effect/vitest"
import { dispatchCustomEvent } from "@langchain/core/callbacks/dispatch"
import { Document } from "@langchain/core/documents"
import { StringOutputParser } from "@langchain/core/output_parsers"
import { ChatPromptTemplate } from "@langchain/core/prompts"
import { RunnableLambda, RunnablePassthrough, RunnableSequence } from "@langchain/core/runnables"
import { tool } from "@langchain/core/tools"
import { FakeListChatModel, FakeRetriever, FakeStreamingChatModel } from "@langchain/core/utils/testing"
import { AIMessage, HumanMessage } from "@langchain/core/messages"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises"
import * as Layer from "effect/Layer"
import { createAgent } from "langchain"
import { afterAll, beforeAll } from "vitest"
import * as PromptLayerClient from "../src/PromptLayerClient.js"
import type * as S from "../src/PromptLayerSchema.js"
import * as PromptLayerTracker from "../src/PromptLayerTracker.js"
import { PromptLayerTest } from "promptlayer-effect/testing"
import { z } from "zod"
import {
  type StartedEmulator,
  type StoredRequest,
  type StoredTraceSpan,
  startEmulator
} from "../src/PromptLayerEmulator.js"
import {
  PromptLayerCallbackHandler,
  type PromptLayerCallbackHandlerOptions,
  shutdownAll
} from "promptlayer-effect/langchain"
import { ScriptedToolModel } from "./support/scriptedToolModel.js"
import { weatherAgent } from "./support/weatherAgent.js"

let emulator: StartedEmulator
const handlers: Array<PromptLayerCallbackHandler> = []

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 })
})

afterAll(async () => {
  for (const handler of handlers) assert.strictEqual(handler.activeRuns, 0, "no run state left behind")
  await Promise.all(handlers.map((handler) => handler.shutdown()))
  await emulator.close()
})

let isolation = 0

/** A handler in traces mode (the default) over the emulator; `isolated` gives it a tracker of its own. */
const handlerFor = (options: PromptLayerCallbackHandlerOptions = {}, isolated = false) => {
  const handler = new PromptLayerCallbackHandler({
    apiKey: emulator.apiKey,
    baseURL: emulator.url,
    ...(isolated ? { maxQueued: 10_000 + ++isolation } : {}),
    ...options
  })
  handlers.push(handler)
  return handler
}

const hex = (uuid: string) => uuid.replaceAll("-", "")

interface Node {
  readonly span: StoredTraceSpan
  readonly parent: StoredTraceSpan | undefined
}

/** The stored spans of a trace (read API), with each one's parent. */
const traceOf = async (traceId: string): Promise<ReadonlyArray<Node>> => {
  const response = await fetch(`${emulator.url}/emulator/traces/${traceId}`)
  assert.strictEqual(response.status, 200, `trace ${traceId} stored`)
  const { spans } = (await response.json()) as { spans: Array<StoredTraceSpan> }
  const byId = new Map(spans.map((span) => [span.span_id, span]))
  return spans.map((span) => {
    const parent = span.parent_id === null ? undefined : byId.get(span.parent_id)
    if (span.parent_id !== null) assert.isDefined(parent, `the parent of ${span.name} is in the trace`)
    return { span, parent }
  })
}

const named = (nodes: ReadonlyArray<Node>, name: string): ReadonlyArray<Node> =>
  nodes.filter((node) => node.span.name === name)

const one = (nodes: ReadonlyArray<Node>, name: string): Node => {
  const found = named(nodes, name)
  assert.lengthOf(found, 1, `one span named ${name} in ${nodes.map((n) => n.span.name).join(", ")}`)
  return found[0]!
}

const stored = async (id: number): Promise<StoredRequest> => {
  const response = await fetch(`${emulator.url}/emulator/requests/${id}`)
  assert.strictEqual(response.status, 200)
  return (await response.json()) as StoredRequest
}

const attr = (node: Node, key: string): unknown => node.span.attributes[key]
const json = (node: Node, key: string): unknown => JSON.parse(String(attr(node, key)))

const chatText = (request: StoredRequest, side: "input" | "output") => {
  const prompt = request[side]
  assert.strictEqual(prompt?.type, "chat")
  return (prompt as unknown as { messages: Array<{ role: string; content: Array<{ text?: string }> }> }).messages.map(
    (m) => `${m.role}: ${m.content.map((c) => c.text ?? "").join("")}`
  )
}

const prompt = ChatPromptTemplate.fromMessages([
  ["system", "You are terse."],
  ["human", "{question}"]
])

describe("traces mode over the emulator", () => {
  it("prompt | model | parser: one trace, the sequence at the root, three children, the model span with its request log", async () => {
    const ids: Array<number> = []
    const handler = handlerFor({ plTags: ["traces"], plIdCallback: (id) => ids.push(id) })
    const runId = crypto.randomUUID()
    const chain = prompt.pipe(new FakeListChatModel({ responses: ["Paris."] })).pipe(new StringOutputParser())
    const answer = await chain.invoke(
      { question: "Capital of France?" },
      { callbacks: [handler], runId, tags: ["geo"], metadata: { session_id: "s-1", user: 42 } }
    )
    assert.strictEqual(answer, "Paris.")
    await handler.flush()
    assert.strictEqual(await handler.traceIdFor(runId), hex(runId), "the trace id is the root run id")

    const nodes = await traceOf(hex(runId))
    assert.lengthOf(nodes, 4)
    const root = one(nodes, "RunnableSequence")
    assert.isUndefined(root.parent)
    assert.strictEqual(root.span.kind, "SpanKind.INTERNAL")
    assert.strictEqual(root.span.status.status_code, "StatusCode.OK")
    assert.deepStrictEqual(json(root, "function_input"), { question: "Capital of France?" })
    assert.strictEqual(json(root, "function_output"), "Paris.")
    assert.deepStrictEqual(attr(root, "langchain.tags"), ["geo"])
    assert.strictEqual(attr(root, "session.id"), "s-1")
    assert.strictEqual(attr(root, "langchain.metadata.user"), "42")
    assert.strictEqual(attr(root, "langchain.run_id"), runId)

    const template = one(nodes, "ChatPromptTemplate")
    const model = one(nodes, "FakeListChatModel")
    const parser = one(nodes, "StrOutputParser")
    for (const child of [template, model, parser]) {
      assert.strictEqual(child.parent?.span_id, root.span.span_id, `${child.span.name} under the sequence`)
      assert.strictEqual(child.span.status.status_code, "StatusCode.OK")
    }
    assert.strictEqual(template.span.kind, "SpanKind.INTERNAL")
    assert.strictEqual(attr(template, "langchain.chain_type"), "prompt")
    assert.strictEqual(parser.span.kind, "SpanKind.INTERNAL")
    assert.strictEqual(json(parser, "function_output"), "Paris.")
    assert.strictEqual(model.span.kind, "SpanKind.CLIENT")
    assert.isNull(template.span.request_log_id)
    assert.isNotNull(model.span.request_log_id)
    assert.isTrue(BigInt(model.span.end_time) >= BigInt(model.span.start_time))
    assert.isTrue(BigInt(model.span.start_time) >= BigInt(root.span.start_time))

    const request = await stored(model.span.request_log_id!)
    assert.deepStrictEqual(chatText(request, "input"), ["system: You are terse.", "user: Capital of France?"])
    assert.deepStrictEqual(chatText(request, "output"), ["assistant: Paris."])
    assert.deepStrictEqual(request.tags, ["traces", "geo"])
    assert.strictEqual(request.metadata.session_id, "s-1")
    assert.strictEqual(request.status, "SUCCESS")
    assert.deepStrictEqual(ids, [model.span.request_log_id])

    // requestIdFor and the DeliveredLog of the model run, now with the trace id.
    const modelRunId = String(attr(model, "langchain.run_id"))
    assert.strictEqual(await handler.requestIdFor(modelRunId), model.span.request_log_id)
    assert.strictEqual(await handler.traceIdFor(modelRunId), hex(runId))
    assert.strictEqual(handler.activeRuns, 0)
  })

  it("requestIds: one DeliveredLog per model span, with its trace and span ids", async () => {
    const handler = handlerFor({ plTags: ["stream-ids"] }, true)
    const runId = crypto.randomUUID()
    const model = new FakeListChatModel({ responses: ["a", "b"] })
    const twoCalls = RunnableLambda.from(async (q: string, config) => {
      await model.invoke(q, config)
      return model.invoke(`${q}!`, config)
    })
    const seen = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const ids = yield* handler.subscribeRequestIds
          const collected = yield* Effect.forkChild(Stream.runCollect(Stream.take(ids, 2)))
          yield* Effect.promise(() => twoCalls.invoke("q", { callbacks: [handler], runId }))
          yield* Effect.promise(() => handler.flush())
          return yield* Fiber.join(collected)
        })
      )
    )
    assert.lengthOf(seen, 2)
    for (const log of seen) {
      assert.strictEqual(log.traceId, hex(runId))
      assert.match(log.spanId ?? "", /^[0-9a-f]{16}$/)
      assert.strictEqual(log.parentRunId, runId)
      assert.deepStrictEqual(log.tags, ["stream-ids"])
      assert.strictEqual(await handler.requestIdFor(log.runId!), log.requestId)
    }
    assert.notStrictEqual(seen[0]!.spanId, seen[1]!.spanId)
  })

  it("a retriever in a RAG chain: a retriever span with the query in and the documents out", async () => {
    const handler = handlerFor()
    const runId = crypto.randomUUID()
    const retriever = new FakeRetriever({
      output: [new Document({ pageContent: "Paris is the capital of France.", metadata: { source: "atlas" } })]
    })
    const rag = RunnableSequence.from([
      {
        context: retriever.pipe((docs: Array<Document>) => docs.map((d) => d.pageContent).join("\n")),
        question: new RunnablePassthrough()
      },
      ChatPromptTemplate.fromMessages([["human", "Context: {context}\nQuestion: {question}"]]),
      new FakeListChatModel({ responses: ["Paris."] }),
      new StringOutputParser()
    ])
    assert.strictEqual(await rag.invoke("Capital of France?", { callbacks: [handler], runId }), "Paris.")
    await handler.flush()
    const nodes = await traceOf(hex(runId))
    const root = nodes.find((n) => n.parent === undefined)!
    assert.strictEqual(root.span.name, "RunnableSequence")
    const retrieverNode = one(nodes, "FakeRetriever")
    assert.strictEqual(attr(retrieverNode, "langchain.run_type"), "retriever")
    assert.strictEqual(retrieverNode.span.kind, "SpanKind.INTERNAL")
    assert.strictEqual(json(retrieverNode, "function_input"), "Capital of France?")
    assert.deepStrictEqual(json(retrieverNode, "function_output"), [
      { page_content: "Paris is the capital of France.", metadata: { source: "atlas" } }
    ])
    // retriever → its sequence → the parallel map → the root
    let up: Node | undefined = retrieverNode
    const chain: Array<string> = []
    while (up !== undefined) {
      chain.push(up.span.name)
      const parentId: string | null = up.span.parent_id
      up = nodes.find((n) => n.span.span_id === parentId)
    }
    assert.strictEqual(chain.at(-1), "RunnableSequence")
    assert.include(chain, "RunnableMap")
    const model = one(nodes, "FakeListChatModel")
    assert.strictEqual(model.parent?.span_id, root.span.span_id)
    const request = await stored(model.span.request_log_id!)
    assert.deepStrictEqual(chatText(request, "input"), [
      "user: Context: Paris is the capital of France.\nQuestion: Capital of France?"
    ])
  })

  it("a tool-calling agent loop: model, tool, model under the agent's span; a custom event on the agent's span", async () => {
    const handler = handlerFor()
    const runId = crypto.randomUUID()
    const getWeather = tool(async ({ city }: { city: string }) => `Sunny in ${city}`, {
      name: "get_weather",
      description: "The weather in a city",
      schema: z.object({ city: z.string() })
    })
    const model = new ScriptedToolModel([
      { toolCalls: [{ name: "get_weather", args: { city: "Paris" } }] },
      { text: "It is sunny." }
    ])
    const agent = RunnableLambda.from(async (question: string, config) => {
      const messages: Array<unknown> = [["human", question]]
      for (let turn = 0; turn < 3; turn++) {
        const reply = (await model.invoke(messages as never, config)) as AIMessage
        messages.push(reply)
        if (!reply.tool_calls?.length) return reply.content
        await dispatchCustomEvent("turn", { turn, calls: reply.tool_calls.length }, config)
        for (const call of reply.tool_calls) messages.push(await getWeather.invoke(call, config))
      }
      return "gave up"
    }).withConfig({ runName: "weather_agent" })
    assert.strictEqual(await agent.invoke("Weather in Paris?", { callbacks: [handler], runId }), "It is sunny.")
    await handler.flush()
    const nodes = await traceOf(hex(runId))
    const root = one(nodes, "weather_agent")
    assert.isUndefined(root.parent)
    const models = named(nodes, "ScriptedToolModel")
    assert.lengthOf(models, 2)
    const toolNode = one(nodes, "get_weather")
    for (const child of [...models, toolNode]) assert.strictEqual(child.parent?.span_id, root.span.span_id)
    assert.strictEqual(attr(toolNode, "langchain.run_type"), "tool")
    assert.strictEqual(attr(toolNode, "langchain.tool_call_id"), "call_0_0")
    assert.deepStrictEqual(json(toolNode, "function_input"), { city: "Paris" })
    assert.include(String(attr(toolNode, "function_output")), "Sunny in Paris")
    const [first, second] = [...models].sort((a, b) => (BigInt(a.span.start_time) < BigInt(b.span.start_time) ? -1 : 1))
    const firstLog = await stored(first!.span.request_log_id!)
    assert.strictEqual(
      (firstLog.output as unknown as { messages: Array<{ tool_calls?: Array<{ function: { name: string } }> }> })
        .messages[0]?.tool_calls?.[0]?.function.name,
      "get_weather"
    )
    const secondLog = await stored(second!.span.request_log_id!)
    assert.deepStrictEqual(chatText(secondLog, "output"), ["assistant: It is sunny."])
    assert.include(
      chatText(secondLog, "input").join("\n"),
      "tool: Sunny in Paris",
      "the second call saw the tool result"
    )
    assert.deepStrictEqual(
      root.span.events.map((e) => [e.name, JSON.parse(String((e.attributes as Record<string, unknown>).data))]),
      [["turn", { turn: 0, calls: 1 }]]
    )
  })

  it("a failing tool: the tool span and the spans it fails through are ERROR with the message", async () => {
    const handler = handlerFor()
    const runId = crypto.randomUUID()
    const broken = tool(
      async () => {
        throw new Error("the weather service is down")
      },
      { name: "broken_weather", description: "fails", schema: z.object({ city: z.string() }) }
    )
    const chain = RunnableLambda.from(async (city: string, config) => broken.invoke({ city }, config)).withConfig({
      runName: "uses_broken_tool"
    })
    const failure = await chain.invoke("Paris", { callbacks: [handler], runId }).then(
      () => undefined,
      (error: unknown) => error
    )
    assert.match(String(failure), /weather service is down/)
    await handler.flush()
    const nodes = await traceOf(hex(runId))
    const root = one(nodes, "uses_broken_tool")
    const toolNode = one(nodes, "broken_weather")
    assert.strictEqual(toolNode.parent?.span_id, root.span.span_id)
    for (const node of [root, toolNode]) {
      assert.strictEqual(node.span.status.status_code, "StatusCode.ERROR")
      assert.include(node.span.status.description ?? "", "the weather service is down")
      assert.include(String(attr(node, "exception.message")), "the weather service is down")
    }
    assert.isUndefined(attr(toolNode, "function_output"))
  })

  it("langsmith:hidden chains get no span; what runs under them attaches to the nearest visible ancestor", async () => {
    const handler = handlerFor()
    const runId = crypto.randomUUID()
    const model = new FakeListChatModel({ responses: ["hidden child"] })
    const hidden = RunnableLambda.from(async (q: string, config) => model.invoke(q, config)).withConfig({
      runName: "internal_plumbing",
      tags: ["langsmith:hidden"]
    })
    const inner = RunnableLambda.from(async (q: string, config) => hidden.invoke(q, config)).withConfig({
      runName: "also_hidden",
      tags: ["langsmith:hidden"]
    })
    const outer = RunnableLambda.from(async (q: string, config) => inner.invoke(q, config)).withConfig({
      runName: "visible_root"
    })
    await outer.invoke("q", { callbacks: [handler], runId })
    await handler.flush()
    const nodes = await traceOf(hex(runId))
    assert.deepStrictEqual(nodes.map((n) => n.span.name).sort(), ["FakeListChatModel", "visible_root"])
    assert.strictEqual(one(nodes, "FakeListChatModel").parent?.span_id, one(nodes, "visible_root").span.span_id)
  })

  it("inputs are captured as they were when the callback fired; oversized values are cut and listed", async () => {
    const handler = handlerFor()
    const runId = crypto.randomUUID()
    const state = { items: ["a"], essay: "x".repeat(100_000) }
    const mutator = RunnableLambda.from((s: typeof state) => {
      s.items.push("mutated later")
      return s.items.length
    }).withConfig({ runName: "mutator" })
    assert.strictEqual(await mutator.invoke(state, { callbacks: [handler], runId }), 2)
    await handler.flush()
    const root = one(await traceOf(hex(runId)), "mutator")
    const input = String(attr(root, "function_input"))
    assert.include(input, '{"items":["a"],"essay":"xxx', "the input as it was at the start")
    assert.notInclude(input, "mutated later")
    assert.isAtMost(input.length, 32_768 + 100)
    assert.match(input, /…\(cut\) \d+ more characters$/)
    assert.deepStrictEqual(attr(root, "promptlayer.truncated"), ["function_input"])
    assert.strictEqual(json(root, "function_output"), 2)
  })

  it("agent actions and finishes are events on the agent's span", async () => {
    const handler = handlerFor()
    const runId = crypto.randomUUID()
    const agent = { lc: 1 as const, type: "not_implemented" as const, id: ["langchain", "agents", "AgentExecutor"] }
    handler.handleChainStart(agent, { input: "weather?" }, runId, undefined, [], {}, undefined, "AgentExecutor")
    handler.handleAgentAction({ tool: "get_weather", toolInput: { city: "Oslo" }, log: "I should look" }, runId)
    handler.handleAgentEnd({ returnValues: { output: "Cold." }, log: "done" }, runId)
    handler.handleChainEnd({ output: "Cold." }, runId)
    await handler.flush()
    const root = one(await traceOf(hex(runId)), "AgentExecutor")
    assert.deepStrictEqual(
      root.span.events.map((e) => [e.name, e.attributes]),
      [
        ["agent_action", { tool: "get_weather", tool_input: '{"city":"Oslo"}', log: "I should look" }],
        ["agent_finish", { return_values: '{"output":"Cold."}', log: "done" }]
      ]
    )
    assert.strictEqual(json(root, "function_input"), "weather?")
  })

  it("two handler instances of one configuration on the same call (constructor and invoke callbacks): one span per run, one tree", async () => {
    const atConstruction = handlerFor({ plTags: ["constructed"] })
    const atInvoke = handlerFor({ plTags: ["invoked"] })
    const runId = crypto.randomUUID()
    const model = new FakeListChatModel({ responses: ["once"], callbacks: [atConstruction] })
    await prompt.pipe(model).invoke({ question: "q" }, { callbacks: [atInvoke], runId })
    await Promise.all([atConstruction.flush(), atInvoke.flush()])
    const nodes = await traceOf(hex(runId))
    assert.deepStrictEqual(nodes.map((n) => n.span.name).sort(), [
      "ChatPromptTemplate",
      "FakeListChatModel",
      "RunnableSequence"
    ])
    const modelNode = one(nodes, "FakeListChatModel")
    assert.strictEqual(modelNode.parent?.name, "RunnableSequence")
    assert.isAtLeast(atConstruction.stats().duplicates + atInvoke.stats().duplicates, 2, "the second start and end")
    const traces = emulator.store.traces
      .list()
      .filter((t) => t.request_log_ids.includes(modelNode.span.request_log_id!))
    assert.lengthOf(traces, 1, "the model call is logged once")
  })

  it("mode must be traces or requests", () => {
    const before = handlers.length
    assert.throws(() => handlerFor({ mode: "spans" as never }), /mode must be "traces" or "requests"/)
    assert.lengthOf(handlers, before, "no handler was made")
  })

  it("a LangGraph StateGraph agent with a tool node: one trace, a span per node, model and tool, in the right tree", async () => {
    const handler = handlerFor()
    const runId = crypto.randomUUID()
    const { graph, input } = weatherAgent("Lyon")
    const result = await graph.invoke(input, { callbacks: [handler], runId, configurable: { thread_id: "thread-7" } })
    assert.strictEqual(result.messages.at(-1)?.content, "Sunny.")
    await handler.flush()
    const nodes = await traceOf(hex(runId))
    const roots = nodes.filter((n) => n.parent === undefined)
    assert.lengthOf(roots, 1, "one root")
    const root = roots[0]!
    assert.strictEqual(root.span.name, "LangGraph")
    const agents = named(nodes, "agent")
    const toolsNodes = named(nodes, "tools")
    assert.lengthOf(agents, 2, "the agent node ran twice")
    assert.lengthOf(toolsNodes, 1)
    for (const node of [...agents, ...toolsNodes]) {
      assert.strictEqual(node.parent?.span_id, root.span.span_id, `${node.span.name} is a child of the graph`)
      assert.strictEqual(attr(node, "langgraph.node"), node.span.name)
      assert.strictEqual(attr(node, "session.thread_id"), "thread-7")
    }
    assert.deepStrictEqual(agents.map((a) => Number(attr(a, "langgraph.step"))).sort(), [1, 3], "steps kept")
    const models = named(nodes, "ScriptedToolModel")
    assert.lengthOf(models, 2)
    for (const m of models) {
      assert.include(
        agents.map((a) => a.span.span_id),
        m.parent?.span_id,
        "each model call under an agent node"
      )
      assert.isNotNull(m.span.request_log_id)
      assert.strictEqual((await stored(m.span.request_log_id!)).metadata.thread_id, "thread-7")
    }
    const toolSpan = one(nodes, "get_weather")
    assert.strictEqual(toolSpan.parent?.span_id, toolsNodes[0]!.span.span_id)
    assert.include(String(attr(toolSpan, "function_output")), "Sunny in Lyon")
    for (const node of nodes) {
      assert.notInclude((attr(node, "langchain.tags") as Array<string> | undefined) ?? [], "langsmith:hidden")
      assert.strictEqual(node.span.status.status_code, "StatusCode.OK")
    }
  })

  it("createAgent (langchain): one trace with the agent's model and tool calls", async () => {
    const handler = handlerFor()
    const runId = crypto.randomUUID()
    const lookup = tool(async ({ q }: { q: string }) => `found ${q}`, {
      name: "lookup",
      description: "Looks a thing up",
      schema: z.object({ q: z.string() })
    })
    const agent = createAgent({
      model: new ScriptedToolModel([
        { toolCalls: [{ name: "lookup", args: { q: "otters" } }] },
        { text: "Otters found." }
      ]),
      tools: [lookup]
    })
    const result = await agent.invoke({ messages: [new HumanMessage("Find otters")] }, { callbacks: [handler], runId })
    assert.strictEqual(result.messages.at(-1)?.content, "Otters found.")
    await handler.flush()
    const nodes = await traceOf(hex(runId))
    assert.lengthOf(
      nodes.filter((n) => n.parent === undefined),
      1
    )
    assert.lengthOf(named(nodes, "ScriptedToolModel"), 2)
    const lookupSpan = one(nodes, "lookup")
    assert.deepStrictEqual(json(lookupSpan, "function_input"), { q: "otters" })
    for (const m of named(nodes, "ScriptedToolModel")) assert.isNotNull(m.span.request_log_id)
  })

  it("200 concurrent traces on one handler: no cross-talk between trees, inputs or request logs", async () => {
    const handler = handlerFor({}, true)
    const chain = prompt.pipe(new FakeListChatModel({ responses: ["ok"] })).pipe(new StringOutputParser())
    const runs = Array.from({ length: 200 }, (_, i) => ({ i, runId: crypto.randomUUID() }))
    await Promise.all(
      runs.map(({ i, runId }) => chain.invoke({ question: `question ${i}` }, { callbacks: [handler], runId }))
    )
    await handler.flush()
    const stats = handler.stats()
    assert.strictEqual(stats.delivered, 800)
    assert.strictEqual(stats.failed + stats.dropped, 0)
    assert.isAtMost(stats.batches, 800 / 2, "batched: far fewer requests than spans")
    for (const { i, runId } of runs) {
      const nodes = await traceOf(hex(runId))
      assert.lengthOf(nodes, 4)
      const root = one(nodes, "RunnableSequence")
      assert.deepStrictEqual(json(root, "function_input"), { question: `question ${i}` })
      for (const node of nodes) {
        if (node !== root) assert.strictEqual(node.parent?.span_id, root.span.span_id)
        assert.strictEqual(node.span.trace_id, hex(runId))
      }
      const model = one(nodes, "FakeListChatModel")
      const request = await stored(model.span.request_log_id!)
      assert.deepStrictEqual(chatText(request, "input"), ["system: You are terse.", `user: question ${i}`])
      assert.strictEqual(request.metadata.langchain_parent_run_id, runId)
    }
  })

  it("a stream abandoned mid-way: the open runs are logged as partial at shutdown (model log WARNING)", async () => {
    const handler = handlerFor({}, true)
    const runId = crypto.randomUUID()
    const chain = prompt.pipe(
      new FakeStreamingChatModel({
        sleep: 1,
        responses: [new AIMessage("Once upon a time there was a very long story")]
      })
    )
    const stream = await chain.stream({ question: "story" }, { callbacks: [handler], runId })
    for await (const _chunk of stream) break
    await awaitAllCallbacks()
    assert.isAbove(handler.activeRuns, 0, "the abandoned runs are still open")
    await handler.shutdown()
    assert.strictEqual(handler.activeRuns, 0)
    const nodes = await traceOf(hex(runId))
    const model = one(nodes, "FakeStreamingChatModel")
    const root = one(nodes, "RunnableSequence")
    for (const node of [root, model]) {
      assert.strictEqual(node.span.status.status_code, "StatusCode.UNSET")
      assert.include(node.span.status.description ?? "", "partial")
      assert.strictEqual(attr(node, "langchain.partial"), true)
    }
    assert.strictEqual(model.parent?.span_id, root.span.span_id)
    const request = await stored(model.span.request_log_id!)
    assert.strictEqual(request.status, "WARNING")
    assert.strictEqual(request.error_type, "PROVIDER_PARTIAL_RESPONSE")
    assert.strictEqual(request.metadata.langchain_abandoned, "true")
    assert.isAtLeast(handler.stats().evicted, 2)
  })

  it("a run idle longer than runTtl is logged as partial by flush(), and its late end is ignored", async () => {
    let now = Date.now()
    const handler = handlerFor({ runTtl: "1 minute", now: () => now }, true)
    const runId = crypto.randomUUID()
    const parentRunId = crypto.randomUUID()
    handler.handleChainStart(
      { lc: 1, type: "not_implemented", id: ["test", "Stuck"] },
      { q: 1 },
      parentRunId,
      undefined
    )
    handler.handleChatModelStart(
      { lc: 1, type: "not_implemented", id: ["test", "StuckModel"] },
      [[new HumanMessage("hello")]],
      runId,
      parentRunId
    )
    now += 61_000
    await handler.flush()
    assert.strictEqual(handler.activeRuns, 0)
    handler.handleLLMEnd({ generations: [[{ text: "late" }]] }, runId)
    const nodes = await traceOf(hex(parentRunId))
    assert.deepStrictEqual(nodes.map((n) => n.span.name).sort(), ["Stuck", "StuckModel"])
    const request = await stored(one(nodes, "StuckModel").span.request_log_id!)
    assert.strictEqual(request.status, "WARNING")
    assert.isAtLeast(handler.stats().duplicates, 1, "the late end is counted, not logged")
  })
})

describe("traces mode: batches and faults over the emulator", () => {
  const span = (traceId: string, n: number, log?: ReturnType<typeof logBody>): S.SpanInput => ({
    name: `span ${n}`,
    context: { trace_id: traceId, span_id: n.toString(16).padStart(16, "0"), trace_state: "" },
    kind: "SpanKind.INTERNAL" as const,
    parent_id: null,
    start_time: 1_764_838_000_123_456_789n + BigInt(n),
    end_time: 1_764_838_001_123_456_789n,
    status: { status_code: "StatusCode.OK" as const },
    attributes: { n },
    resource: { attributes: { "service.name": "test" }, schema_url: "" },
    ...(log === undefined ? {} : { log_request: log })
  })

  const logBody = (status: "SUCCESS" | "WARNING", errorType?: "PROVIDER_TIMEOUT"): S.LogRequestInput => ({
    provider: "openai",
    model: "gpt-4o-mini",
    input: { type: "chat" as const, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] },
    output: { type: "chat" as const, messages: [{ role: "assistant", content: [{ type: "text", text: "yo" }] }] },
    request_start_time: 1_764_838_000_123,
    request_end_time: 1_764_838_001_123,
    status,
    ...(errorType === undefined ? {} : { error_type: errorType })
  })

  const withTracker = <A>(f: (tracker: PromptLayerTracker.Service) => Effect.Effect<A, unknown, never>): Promise<A> =>
    Effect.runPromise(
      Effect.scoped(Effect.flatMap(PromptLayerTracker.PromptLayerTracker, f)).pipe(
        Effect.provide(
          PromptLayerTracker.layer({ maxBatchSpans: 50, batchDelay: "1 second" }).pipe(
            Layer.provide(
              PromptLayerClient.layerWith({ apiKey: emulator.apiKey, baseUrl: emulator.url, retry: { maxAttempts: 1 } })
            ),
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
    )

  it("one invalid span in a batch (the server refuses the whole batch): every other span is stored, the bad one counted as failed", async () => {
    const traceId = crypto.randomUUID().replaceAll("-", "")
    const stats = await withTracker((tracker) =>
      Effect.gen(function* () {
        for (let n = 1; n <= 20; n++) {
          // Span 13's log has an error type the server allows only with ERROR: valid for the client, a 422 for the server.
          const bad = n === 13
          tracker.offerSpan({
            runId: `run-${n}`,
            build: () =>
              span(
                traceId,
                n,
                n % 4 === 1 || bad
                  ? logBody(bad ? "WARNING" : "SUCCESS", bad ? "PROVIDER_TIMEOUT" : undefined)
                  : undefined
              )
          })
        }
        yield* tracker.flush
        const failure = yield* Effect.flip(tracker.requestIdFor("run-13"))
        assert.strictEqual(failure.reason, "failed")
        assert.match(failure.detail ?? "", /422/)
        const good = yield* tracker.requestIdFor("run-5")
        assert.isAbove(good, 0)
        return yield* tracker.stats
      })
    )
    assert.strictEqual(stats.failed, 1)
    assert.strictEqual(stats.delivered, 19)
    assert.isAtLeast(stats.batches, 2, "the batch was split")
    const stored = emulator.store.traces.spansOf(traceId)
    assert.deepStrictEqual(
      stored.map((s) => Number(s.attributes.n)).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1).filter((n) => n !== 13)
    )
  })

  it("spans of a closed trace are rejected: counted, reported, never retried", async () => {
    const traceId = crypto.randomUUID().replaceAll("-", "")
    const stats = await withTracker((tracker) =>
      Effect.gen(function* () {
        tracker.offerSpan({ build: () => span(traceId, 1) })
        yield* tracker.flush
        const client = yield* Effect.provide(
          PromptLayerClient.PromptLayerClient,
          PromptLayerClient.layerWith({ apiKey: emulator.apiKey, baseUrl: emulator.url }).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        )
        yield* client.traces.close(traceId)
        tracker.offerSpan({ runId: "late-model", build: () => span(traceId, 2, logBody("SUCCESS")) })
        tracker.offerSpan({ build: () => span(traceId, 3) })
        yield* tracker.flush
        const failure = yield* Effect.flip(tracker.requestIdFor("late-model"))
        assert.strictEqual(failure.reason, "rejected")
        return yield* tracker.stats
      })
    )
    assert.strictEqual(stats.rejected, 2)
    assert.strictEqual(stats.delivered, 1)
    assert.strictEqual(stats.failed, 0)
    assert.lengthOf(emulator.store.traces.spansOf(traceId), 1)
  })
})

describe("traces mode: shutdownAll (what the shutdown hooks run)", () => {
  it("logs the open runs of every handler of every shared backend as partial before shutting down", async () => {
    const first = handlerFor({}, true)
    const second = handlerFor({ plTags: ["second"] })
    const runs = [crypto.randomUUID(), crypto.randomUUID()]
    const chain = { lc: 1 as const, type: "not_implemented" as const, id: ["test", "Pending"] }
    first.handleChainStart(chain, { q: 1 }, runs[0]!, undefined)
    second.handleChainStart(chain, { q: 2 }, runs[1]!, undefined)
    assert.strictEqual(first.activeRuns + second.activeRuns, 2)
    await shutdownAll()
    assert.strictEqual(first.activeRuns + second.activeRuns, 0)
    for (const runId of runs) {
      const root = one(await traceOf(hex(runId)), "Pending")
      assert.strictEqual(root.span.status.status_code, "StatusCode.UNSET")
      assert.strictEqual(attr(root, "langchain.partial"), true)
      assert.include(root.span.status.description ?? "", "the handler shut down")
    }
  })
})

describe("traces mode: make() handlers over PromptLayerTest", () => {
  it("closing one handler's scope logs its own open runs as partial, not those of another handler on the same tracker", async () => {
    const pl = PromptLayerTest.make()
    const chain = { lc: 1 as const, type: "not_implemented" as const, id: ["test", "Work"] }
    const [mine, theirs] = [crypto.randomUUID(), crypto.randomUUID()]
    const program = Effect.gen(function* () {
      const other = yield* PromptLayerCallbackHandler.make()
      other.handleChainStart(chain, { who: "theirs" }, theirs, undefined)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const handler = yield* PromptLayerCallbackHandler.make()
          handler.handleChainStart(chain, { who: "mine" }, mine, undefined)
        })
      )
      assert.strictEqual(other.activeRuns, 1, "the other handler's run is still open")
      assert.strictEqual(pl.spans(hex(mine))[0]?.status.status_code, "StatusCode.UNSET")
      assert.lengthOf(pl.spans(hex(theirs)), 0)
      other.handleChainEnd({ output: "done" }, theirs)
      yield* other.flushEffect
      assert.strictEqual(pl.spans(hex(theirs))[0]?.status.status_code, "StatusCode.OK")
    })
    await Effect.runPromise(
      program.pipe(Effect.scoped, Effect.provide(PromptLayerTracker.layer().pipe(Layer.provide(pl.layer))))
    )
  })
})

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
import { FakeListChatModel, FakeRetriever } from "@langchain/core/utils/testing"
import type { AIMessage } from "@langchain/core/messages"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { afterAll, beforeAll } from "vitest"
import { z } from "zod"
import {
  type StartedEmulator,
  type StoredRequest,
  type StoredTraceSpan,
  startEmulator
} from "../src/PromptLayerEmulator.js"
import { PromptLayerCallbackHandler, type PromptLayerCallbackHandlerOptions } from "promptlayer-effect/langchain"
import { ScriptedToolModel } from "./support/scriptedToolModel.js"

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
          const collected = yield* Effect.fork(Stream.runCollect(Stream.take(ids, 2)))
          yield* Effect.promise(() => twoCalls.invoke("q", { callbacks: [handler], runId }))
          yield* Effect.promise(() => handler.flush())
          return Chunk.toReadonlyArray(yield* Fiber.join(collected))
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
})

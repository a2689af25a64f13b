/**
 * The handler's redaction (`hideInputs`, `hideOutputs`, `mask`) end to end: real LangChain
 * runnables over the emulator, in both modes. Each test sends raw values of its own and searches
 * the emulator's whole stored data (its store snapshot) for them: nothing masked or hidden may
 * reach it. Fail-closed cases check the marker and the `redactionFailures` counter.
 */
import { assert, describe, it } from "@effect/vitest"
import { dispatchCustomEvent } from "@langchain/core/callbacks/dispatch"
import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages"
import { StringOutputParser } from "@langchain/core/output_parsers"
import { ChatPromptTemplate } from "@langchain/core/prompts"
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables"
import { tool } from "@langchain/core/tools"
import { FakeListChatModel } from "@langchain/core/utils/testing"
import * as Effect from "effect/Effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Layer from "effect/Layer"
import { afterAll, beforeAll } from "vitest"
import { z } from "zod"
import { ScriptedToolModel } from "./support/scriptedToolModel.js"
import {
  type StartedEmulator,
  type StoredRequest,
  type StoredTraceSpan,
  startEmulator
} from "../src/PromptLayerEmulator.js"
import {
  PromptLayerCallbackHandler,
  type PromptLayerCallbackHandlerOptions,
  PromptLayerRedaction
} from "../src/langchain.js"
import * as PromptLayerClient from "../src/PromptLayerClient.js"
import * as PromptLayerTracker from "../src/PromptLayerTracker.js"

let emulator: StartedEmulator
const handlers: Array<PromptLayerCallbackHandler> = []

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 })
})

afterAll(async () => {
  await Promise.all(handlers.map((handler) => handler.shutdown()))
  await emulator.close()
})

const handlerFor = (options: PromptLayerCallbackHandlerOptions) => {
  const handler = new PromptLayerCallbackHandler({ apiKey: emulator.apiKey, baseURL: emulator.url, ...options })
  handlers.push(handler)
  return handler
}

let serial = 0

/** Raw values unique to one test: an e-mail address, a card number and an API key. */
const secretsOf = () => {
  const n = ++serial
  return {
    email: `jane.doe${n}@example.com`,
    card: "4111 1111 1111 1111",
    key: `sk-test${n}abcdefghijklmnopqrstuvwxyz0123`,
    word: `zebra${n}quux`
  }
}

/** The emulator's whole stored data (requests, spans, traces, templates) as one text. */
const everything = () => JSON.stringify(emulator.store.snapshot())

/** Fails naming every raw value found in the emulator's store. */
const assertNothingStored = (values: ReadonlyArray<string>) => {
  const all = everything()
  const leaked = values.filter((value) => all.includes(value) || all.includes(JSON.stringify(value).slice(1, -1)))
  assert.deepStrictEqual(leaked, [], "raw values found in the emulator's stored data")
}

const hex = (uuid: string) => uuid.replaceAll("-", "")

type Span = StoredTraceSpan

const traceOf = async (runId: string): Promise<ReadonlyArray<Span>> => {
  const response = await fetch(`${emulator.url}/emulator/traces/${hex(runId)}`)
  assert.strictEqual(response.status, 200)
  return ((await response.json()) as { spans: Array<Span> }).spans
}

const spanNamed = (spans: ReadonlyArray<Span>, name: string): Span => {
  const found = spans.find((span) => span.name === name)
  assert.isDefined(found, `span ${name} in ${spans.map((s) => s.name).join(", ")}`)
  return found!
}

const stored = async (id: number): Promise<StoredRequest> => {
  const response = await fetch(`${emulator.url}/emulator/requests/${id}`)
  assert.strictEqual(response.status, 200)
  return (await response.json()) as StoredRequest
}

/** The texts of a stored prompt, `role: text` per message (or the completion's text). */
const texts = (prompt: unknown): Array<string> => {
  const p = prompt as {
    type: string
    messages?: Array<{ role: string; content: Array<{ text?: string }> }>
    content?: Array<{ text?: string }>
  }
  if (p.type === "completion") return [(p.content ?? []).map((c) => c.text ?? "").join("")]
  return (p.messages ?? []).map((m) => `${m.role}: ${(m.content ?? []).map((c) => c.text ?? "").join("")}`)
}

const chatPrompt = ChatPromptTemplate.fromMessages([
  ["system", "You help {customer}."],
  ["human", "{question}"]
])

describe("redaction over the emulator", () => {
  it("traces mode: mask reaches inputs, outputs, template variables, metadata, tool arguments and errors", async () => {
    const s = secretsOf()
    const handler = handlerFor({ mask: PromptLayerRedaction.maskCommon })
    const model = new FakeListChatModel({ responses: [`Card ${s.card} is on file for ${s.email}.`] })
    const chain = RunnableSequence.from([chatPrompt, model, new StringOutputParser()]).withConfig({
      runName: "support"
    })
    const runId = crypto.randomUUID()
    const answer = await chain.invoke(
      { customer: s.email, question: `My key is ${s.key}` },
      { callbacks: [handler], runId, metadata: { contact: s.email } }
    )
    assert.include(answer, s.card, "the LLM call itself is not redacted")

    const lookup = tool(async ({ email }) => `account of ${email}`, {
      name: "lookup",
      description: "finds an account",
      schema: z.object({ email: z.string() })
    })
    const toolRun = crypto.randomUUID()
    await lookup.invoke({ email: s.email }, { callbacks: [handler], runId: toolRun })

    const failing = RunnableLambda.from((_: string) => {
      throw new Error(`no account for ${s.email}`)
    }).withConfig({ runName: "failing" })
    const failedRun = crypto.randomUUID()
    await failing.invoke("x", { callbacks: [handler], runId: failedRun }).then(
      () => assert.fail("the lambda throws"),
      () => undefined
    )
    await handler.flush()

    assertNothingStored([s.email, s.key, s.card, "4111111111111111"])
    const spans = await traceOf(runId)
    const root = spanNamed(spans, "support")
    assert.deepStrictEqual(JSON.parse(String(root.attributes.function_input)), {
      customer: "[email]",
      question: "My key is [secret]"
    })
    assert.strictEqual(JSON.parse(String(root.attributes.function_output)), "Card [card] is on file for [email].")
    assert.strictEqual(root.attributes["langchain.metadata.contact"], "[email]")
    assert.strictEqual(root.attributes["langchain.name"], "support", "names are not masked")
    const modelSpan = spanNamed(spans, "FakeListChatModel")
    const log = await stored(modelSpan.request_log_id ?? -1)
    assert.deepStrictEqual(texts(log.input), ["system: You help [email].", "user: My key is [secret]"])
    assert.deepStrictEqual(texts(log.output), ["assistant: Card [card] is on file for [email]."])
    assert.strictEqual(log.metadata?.contact, "[email]")

    const toolSpan = spanNamed(await traceOf(toolRun), "lookup")
    assert.deepStrictEqual(JSON.parse(String(toolSpan.attributes.function_input)), { email: "[email]" })
    assert.strictEqual(JSON.parse(String(toolSpan.attributes.function_output)), "account of [email]")

    const failedSpan = spanNamed(await traceOf(failedRun), "failing")
    assert.strictEqual(failedSpan.attributes["exception.message"], "Error: no account for [email]")
    assert.strictEqual(failedSpan.status?.description, "Error: no account for [email]")
    assert.strictEqual(handler.stats().redactionFailures, 0)
  })

  it("traces mode: mask reaches a model's tool call arguments, tool results and span events", async () => {
    const s = secretsOf()
    const handler = handlerFor({ mask: PromptLayerRedaction.maskCommon })
    const model = new ScriptedToolModel([{ toolCalls: [{ name: "lookup", args: { email: s.email, note: s.word } }] }])
    const agent = RunnableLambda.from(async (question: string, config) => {
      await dispatchCustomEvent("lookup_requested", { email: s.email }, config)
      const call = await model.invoke(
        [
          new HumanMessage(question),
          new AIMessage({ content: "", tool_calls: [{ id: "c1", name: "lookup", args: { email: s.email } }] }),
          new ToolMessage({ tool_call_id: "c1", content: `found ${s.email}` })
        ],
        config
      )
      return call.tool_calls?.length ?? 0
    }).withConfig({ runName: "agent" })
    const runId = crypto.randomUUID()
    await agent.invoke(`who is ${s.email}?`, { callbacks: [handler], runId })
    await handler.flush()

    assertNothingStored([s.email])
    const spans = await traceOf(runId)
    const root = spanNamed(spans, "agent")
    const event = root.events.find((e) => e.name === "lookup_requested")
    assert.isDefined(event, "the custom event is on the agent's span")
    assert.deepStrictEqual(JSON.parse(String((event!.attributes as Record<string, unknown>).data)), {
      email: "[email]"
    })
    const log = await stored(spanNamed(spans, "ScriptedToolModel").request_log_id ?? -1)
    const input = log.input as unknown as {
      messages: Array<{ role: string; tool_calls?: Array<{ function: { name: string; arguments: string } }> }>
    }
    assert.deepStrictEqual(JSON.parse(input.messages[1]!.tool_calls![0]!.function.arguments), { email: "[email]" })
    assert.strictEqual(input.messages[1]!.tool_calls![0]!.function.name, "lookup", "tool names are not masked")
    assert.deepStrictEqual(texts(log.input).slice(-1), ["tool: found [email]"])
    const output = log.output as unknown as typeof input
    assert.deepStrictEqual(JSON.parse(output.messages[0]!.tool_calls![0]!.function.arguments), {
      email: "[email]",
      note: s.word
    })
  })

  it("requests mode: mask reaches the /log-request body (messages, template variables, metadata, errors)", async () => {
    const s = secretsOf()
    const handler = handlerFor({ mode: "requests", mask: PromptLayerRedaction.maskCommon })
    const model = new FakeListChatModel({ responses: [`Your key ${s.key} is revoked`] })
    const runId = crypto.randomUUID()
    await model.invoke([new SystemMessage(`Customer ${s.email}`), new HumanMessage(`Card ${s.card}`)], {
      callbacks: [handler],
      runId,
      metadata: { contact: s.email }
    })
    const failedRun = crypto.randomUUID()
    await model
      .invoke("hi", { callbacks: [handler], runId: failedRun, thrownErrorString: `quota of ${s.email} exceeded` })
      .then(
        () => assert.fail("the model throws"),
        () => undefined
      )
    await handler.flush()

    assertNothingStored([s.email, s.key, s.card])
    const log = await stored(await handler.requestIdFor(runId))
    assert.deepStrictEqual(texts(log.input), ["system: Customer [email]", "user: Card [card]"])
    assert.deepStrictEqual(texts(log.output), ["assistant: Your key [secret] is revoked"])
    assert.strictEqual(log.metadata?.contact, "[email]")
    assert.strictEqual(log.metadata?.langchain_run_id, runId, "run ids are not changed by the maskers")
    const failed = await stored(await handler.requestIdFor(failedRun))
    assert.strictEqual(failed.status, "ERROR")
    assert.include(String(failed.error_message), "quota of [email] exceeded")
  })

  for (const mode of ["traces", "requests"] as const) {
    it(`${mode} mode: a mask that throws or returns a non-string fails closed, counted`, async () => {
      const s = secretsOf()
      const handler = handlerFor({
        mode,
        mask: (text) => {
          if (text.includes(s.word)) throw new Error("masker bug")
          if (text.includes(s.email)) return 42 as unknown as string
          return text
        }
      })
      const model = new FakeListChatModel({ responses: [`reply to ${s.email}`] })
      const runId = crypto.randomUUID()
      await model.invoke([new HumanMessage(`tell ${s.word}`)], { callbacks: [handler], runId })
      await handler.flush()

      assertNothingStored([s.word, s.email])
      const log = await stored(await handler.requestIdFor(runId))
      assert.deepStrictEqual(texts(log.input), [`user: ${PromptLayerRedaction.REDACTION_FAILED}`])
      assert.deepStrictEqual(texts(log.output), [`assistant: ${PromptLayerRedaction.REDACTION_FAILED}`])
      assert.strictEqual(handler.stats().redactionFailures, 2)
      assert.strictEqual(handler.stats().failed, 0, "the log itself is delivered")
    })
  }

  it("traces mode: hideInputs and hideOutputs as booleans hide spans' and logs' inputs and outputs", async () => {
    const s = secretsOf()
    const handler = handlerFor({ hideInputs: true, hideOutputs: true })
    const model = new FakeListChatModel({ responses: [`answer ${s.word}`] })
    const chain = RunnableSequence.from([chatPrompt, model, new StringOutputParser()]).withConfig({
      runName: "hidden"
    })
    const runId = crypto.randomUUID()
    await chain.invoke({ customer: s.email, question: s.key }, { callbacks: [handler], runId })
    await handler.flush()

    assertNothingStored([s.email, s.key, s.word])
    const spans = await traceOf(runId)
    const root = spanNamed(spans, "hidden")
    assert.strictEqual(JSON.parse(String(root.attributes.function_input)), PromptLayerRedaction.HIDDEN)
    assert.strictEqual(JSON.parse(String(root.attributes.function_output)), PromptLayerRedaction.HIDDEN)
    const log = await stored(spanNamed(spans, "FakeListChatModel").request_log_id ?? -1)
    assert.deepStrictEqual(texts(log.input), ["user: [hidden]"])
    assert.deepStrictEqual(texts(log.output), ["assistant: [hidden]"])
    assert.strictEqual(handler.stats().redactionFailures, 0)
  })

  it("requests mode: hideInputs as a function sends what it returns; hideOutputs only hides outputs", async () => {
    const s = secretsOf()
    const seen: Array<unknown> = []
    const handler = handlerFor({
      mode: "requests",
      hideInputs: (prompt) => {
        seen.push(prompt)
        const chat = prompt as { type: string; messages: Array<{ role: string }> }
        return { ...chat, messages: chat.messages.filter((m) => m.role !== "system") }
      },
      hideOutputs: true
    })
    const model = new FakeListChatModel({ responses: [`secret answer ${s.word}`] })
    const runId = crypto.randomUUID()
    await model.invoke([new SystemMessage(`internal rules for ${s.email}`), new HumanMessage("hello")], {
      callbacks: [handler],
      runId
    })
    await handler.flush()

    assertNothingStored([s.email, s.word])
    const log = await stored(await handler.requestIdFor(runId))
    assert.deepStrictEqual(texts(log.input), ["user: hello"])
    assert.deepStrictEqual(texts(log.output), ["assistant: [hidden]"])
    assert.lengthOf(seen, 1)
    assert.strictEqual((seen[0] as { type: string }).type, "chat", "the function gets the prompt blueprint")
  })

  it("traces mode: a hide function gets a chain's parsed input and its result is masked too", async () => {
    const s = secretsOf()
    const handler = handlerFor({
      hideInputs: (input) =>
        typeof input === "object" && input !== null && "customer" in input ? { ...input, customer: "someone" } : input,
      mask: PromptLayerRedaction.maskEmails
    })
    const echo = RunnableLambda.from((input: { customer: string; note: string }) => input.note).withConfig({
      runName: "echo"
    })
    const runId = crypto.randomUUID()
    await echo.invoke({ customer: `Jane Doe ${s.word}`, note: `cc ${s.email}` }, { callbacks: [handler], runId })
    await handler.flush()

    assertNothingStored([s.word, s.email])
    const span = spanNamed(await traceOf(runId), "echo")
    assert.deepStrictEqual(JSON.parse(String(span.attributes.function_input)), {
      customer: "someone",
      note: "cc [email]"
    })
    assert.strictEqual(JSON.parse(String(span.attributes.function_output)), "cc [email]")
  })

  for (const mode of ["traces", "requests"] as const) {
    it(`${mode} mode: a hide function that throws or returns what cannot be sent fails closed, counted`, async () => {
      const s = secretsOf()
      const handler = handlerFor({
        mode,
        hideInputs: () => ({ type: "chat", messages: "not an array" }),
        hideOutputs: () => {
          throw new Error("hide bug")
        }
      })
      const model = new FakeListChatModel({ responses: [`out ${s.word}`] })
      const runId = crypto.randomUUID()
      await model.invoke(`in ${s.email}`, { callbacks: [handler], runId })
      await handler.flush()

      assertNothingStored([s.word, s.email])
      const log = await stored(await handler.requestIdFor(runId))
      assert.deepStrictEqual(texts(log.input), [`user: ${PromptLayerRedaction.REDACTION_FAILED}`])
      assert.deepStrictEqual(texts(log.output), [`assistant: ${PromptLayerRedaction.REDACTION_FAILED}`])
      assert.strictEqual(handler.stats().redactionFailures, 2)
    })
  }

  it("traces mode: a hide function returning a value that is not JSON fails closed on a chain's span", async () => {
    const s = secretsOf()
    const handler = handlerFor({ hideOutputs: () => 10n })
    const echo = RunnableLambda.from((text: string) => `${text}!`).withConfig({ runName: "bigint" })
    const runId = crypto.randomUUID()
    await echo.invoke(s.word, { callbacks: [handler], runId })
    await handler.flush()

    const span = spanNamed(await traceOf(runId), "bigint")
    assert.strictEqual(JSON.parse(String(span.attributes.function_input)), s.word, "inputs are not hidden")
    assert.strictEqual(JSON.parse(String(span.attributes.function_output)), PromptLayerRedaction.REDACTION_FAILED)
    assert.notInclude(everything(), `${s.word}!`)
    assert.strictEqual(handler.stats().redactionFailures, 1)
  })

  for (const mode of ["traces", "requests"] as const) {
    it(`${mode} mode: maskers and hide functions never run inside a LangChain callback`, async () => {
      const s = secretsOf()
      const stacks: Array<string> = []
      // Whole stacks: a callback's frame is deep below LangChain's dispatch.
      const stack = () => {
        const limit = Error.stackTraceLimit
        Error.stackTraceLimit = 500
        const text = new Error().stack ?? ""
        Error.stackTraceLimit = limit
        return text
      }
      const record = (text: string) => {
        stacks.push(stack())
        return text
      }
      const handler = handlerFor({
        mode,
        mask: record,
        hideInputs: (value) => {
          stacks.push(stack())
          return value
        }
      })
      const model = new FakeListChatModel({ responses: ["ok"] })
      await RunnableSequence.from([chatPrompt, model]).invoke(
        { customer: s.email, question: "q" },
        { callbacks: [handler] }
      )
      await handler.flush()
      assert.isAbove(stacks.length, 0, "the maskers ran")
      const inCallback = stacks.filter((stack) => /\.handle[A-Z]\w+ /.test(stack))
      assert.deepStrictEqual(inCallback, [])
    })
  }

  it("PromptLayerCallbackHandler.make over the app's tracker redacts too", async () => {
    const s = secretsOf()
    const clientLayer = PromptLayerClient.layerWith({ apiKey: emulator.apiKey, baseUrl: emulator.url }).pipe(
      Layer.provide(FetchHttpClient.layer)
    )
    const runId = crypto.randomUUID()
    const id = await Effect.runPromise(
      Effect.gen(function* () {
        const handler = yield* PromptLayerCallbackHandler.make({
          mode: "requests",
          mask: PromptLayerRedaction.maskEmails
        })
        yield* Effect.promise(() =>
          new FakeListChatModel({ responses: ["ok"] }).invoke(`hi ${s.email}`, { callbacks: [handler], runId })
        )
        return yield* handler.requestIdForEffect(runId)
      }).pipe(Effect.scoped, Effect.provide(PromptLayerTracker.layer().pipe(Layer.provide(clientLayer))))
    )
    assertNothingStored([s.email])
    assert.deepStrictEqual(texts((await stored(id)).input), ["user: hi [email]"])
  })

  it("a bad option throws at construction, naming it", () => {
    assert.throws(
      () => new PromptLayerCallbackHandler({ hideInputs: "yes" as unknown as boolean }),
      /hideInputs must be a boolean or a function/
    )
    assert.throws(
      () => new PromptLayerCallbackHandler({ hideOutputs: 1 as unknown as boolean }),
      /hideOutputs must be a boolean or a function/
    )
    assert.throws(
      () => new PromptLayerCallbackHandler({ mask: "[redacted]" as unknown as PromptLayerRedaction.Masker }),
      /mask must be a function/
    )
  })
})

describe("redaction with sampling", () => {
  it("keepErrors: a sampled-out trace held and then sent because it failed is masked too", async () => {
    const secrets = secretsOf()
    const handler = handlerFor({ mask: PromptLayerRedaction.maskCommon, sampleRate: 0, keepErrors: true })
    const runId = crypto.randomUUID()
    const chain = RunnableLambda.from(async (input: string, config) => {
      await new FakeListChatModel({ responses: [`reply to ${secrets.email}`] }).invoke(input, config)
      throw new Error(`failed for card ${secrets.card}`)
    })
    await chain
      .invoke(`my key is ${secrets.key} and my mail ${secrets.email}`, { callbacks: [handler], runId })
      .catch(() => undefined)
    await handler.flush()
    assert.strictEqual(handler.stats().keptErrorTraces, 1, "the failed trace was held, then sent")
    const spans = await traceOf(runId)
    assert.isAtLeast(spans.length, 2, "the chain's and the model's spans were stored")
    assertNothingStored([secrets.email, secrets.key, secrets.card])
  })
})

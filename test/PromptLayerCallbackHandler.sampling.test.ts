/**
 * Sampling (`sampleRate`, `keepErrors`) end to end: real LangChain runnables (a chain running a
 * model and a tool, some failing) over the emulator, asserting what it STORED: whole traces kept or
 * dropped, `keepErrors` keeping exactly the traces where a run failed, the bounds of held traces,
 * the requests mode, and the counters. Run ids are preset, so which traces a rate keeps is known
 * from the decision function (`internal/sampling.ts`, tested on its own in Sampling.test.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { FakeListChatModel } from "@langchain/core/utils/testing"
import { RunnableLambda, type RunnableConfig } from "@langchain/core/runnables"
import { tool } from "@langchain/core/tools"
import { afterAll, beforeAll } from "vitest"
import { z } from "zod"
import { isSampled } from "../src/internal/sampling.js"
import {
  type StartedEmulator,
  type StoredRequest,
  type StoredTraceSpan,
  startEmulator
} from "../src/PromptLayerEmulator.js"
import { PromptLayerCallbackHandler, type PromptLayerCallbackHandlerOptions } from "promptlayer-effect/langchain"
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

/** A handler over the emulator with a tracker of its own (so that its counters are its own). */
const handlerFor = (options: PromptLayerCallbackHandlerOptions) => {
  const handler = new PromptLayerCallbackHandler({
    apiKey: emulator.apiKey,
    baseURL: emulator.url,
    maxQueued: 20_000 + ++isolation,
    ...options
  })
  handlers.push(handler)
  return handler
}

const hex = (uuid: string) => uuid.replaceAll("-", "")

/** A fresh run id whose trace `rate` keeps (`kept`) or drops. */
const runIdSampled = (rate: number, kept: boolean): string => {
  for (;;) {
    const id = crypto.randomUUID()
    if (isSampled(hex(id), rate) === kept) return id
  }
}

/** The spans the emulator stored for a trace; `[]` when it has none (404). */
const spansOf = async (traceId: string): Promise<ReadonlyArray<StoredTraceSpan>> => {
  const response = await fetch(`${emulator.url}/emulator/traces/${traceId}`)
  if (response.status === 404) return []
  assert.strictEqual(response.status, 200)
  return ((await response.json()) as { spans: Array<StoredTraceSpan> }).spans
}

/** The stored span names of one trace, sorted; `[]` when the emulator has no such trace. */
const namesOf = async (traceId: string): Promise<ReadonlyArray<string>> =>
  (await spansOf(traceId)).map((span) => span.name).sort()

const lookup = tool(
  async ({ city }: { city: string }) => {
    if (city === "Atlantis") throw new Error("no such city")
    return `sunny in ${city}`
  },
  { name: "lookup", description: "The weather in a city.", schema: z.object({ city: z.string() }) }
)

interface Question {
  readonly city: string
  /** The model call fails, and with it the whole chain. */
  readonly modelFails?: boolean
  /** Model calls before the tool (one by default). */
  readonly models?: number
  /** Waited for after the first model call (to keep traces open together). */
  readonly gate?: Promise<void>
}

/**
 * The chain under test: a lambda (the root) calling a chat model, then a tool whose failure (for
 * "Atlantis") it catches, so that the chain succeeds with a failed run inside it.
 */
const pipeline = RunnableLambda.from(async (q: Question, config?: RunnableConfig) => {
  const answers: Array<string> = []
  for (let i = 0; i < (q.models ?? 1); i++) {
    const model = new FakeListChatModel({ responses: [`answer ${i}`] })
    const options = q.modelFails ? { ...config, thrownErrorString: "model down" } : config
    answers.push(String((await model.invoke(`weather in ${q.city}?`, options)).content))
    if (i === 0 && q.gate !== undefined) await q.gate
  }
  let weather: string
  try {
    weather = await lookup.invoke({ city: q.city }, config)
  } catch {
    weather = "unknown"
  }
  return `${answers.join(", ")} / ${weather}`
}).withConfig({ runName: "pipeline" })

const fullTrace = ["FakeListChatModel", "lookup", "pipeline"]

/** Runs the pipeline as one trace with root run id `runId`; a failing chain resolves to "failed". */
const run = (handler: PromptLayerCallbackHandler, runId: string, q: Question): Promise<string> =>
  pipeline.invoke(q, { callbacks: [handler], runId }).catch(() => "failed")

describe("sampleRate in traces mode", () => {
  it("keeps or drops whole traces by their id, sends nothing of a dropped one (failed or not), and counts them", async () => {
    const rate = 0.5
    const handler = handlerFor({ sampleRate: rate })
    const kept = Array.from({ length: 8 }, () => runIdSampled(rate, true))
    const dropped = Array.from({ length: 8 }, () => runIdSampled(rate, false))
    // Interleaved, some with a failed tool (Atlantis) or a failed model: failures change nothing without keepErrors.
    const all = [...kept, ...dropped]
    const modelFails = (i: number) => i % 4 === 2
    const answers = await Promise.all(
      all.map((runId, i) =>
        run(handler, runId, { city: i % 4 === 1 ? "Atlantis" : "Paris", modelFails: modelFails(i) })
      )
    )
    assert.include(answers, "failed")
    await handler.flush()

    for (const [i, runId] of kept.entries()) {
      const expected = modelFails(i) ? ["FakeListChatModel", "pipeline"] : fullTrace
      assert.deepStrictEqual(await namesOf(hex(runId)), expected, `trace ${runId} kept whole`)
      assert.strictEqual(await handler.traceIdFor(runId), hex(runId))
    }
    for (const runId of dropped) {
      assert.deepStrictEqual(await namesOf(hex(runId)), [], "no span of a sampled-out trace reached the emulator")
      assert.isUndefined(await handler.traceIdFor(runId), "nothing recorded for a sampled-out trace")
    }
    const stats = handler.stats()
    assert.strictEqual(stats.sampledOutTraces, 8)
    assert.strictEqual(stats.sampledOutModelCalls, 8)
    assert.strictEqual(stats.keptErrorTraces, 0)
    assert.strictEqual(stats.accepted, 8 * 3 - 2, "only the kept traces' spans were offered (two without a tool span)")
    assert.strictEqual(stats.delivered, 8 * 3 - 2)
    assert.strictEqual(stats.duplicates, 0, "the ends of sampled-out runs are recognised, not counted as duplicates")
    assert.strictEqual(stats.activeRuns, 0)
  })

  it("sampleRate 0 sends nothing; without the option every trace is sent", async () => {
    const none = handlerFor({ sampleRate: 0 })
    const every = handlerFor({})
    const ids = Array.from({ length: 4 }, () => crypto.randomUUID())
    const others = Array.from({ length: 4 }, () => crypto.randomUUID())
    await Promise.all([
      ...ids.map((runId) => run(none, runId, { city: "Paris" })),
      ...others.map((runId) => run(every, runId, { city: "Paris" }))
    ])
    await Promise.all([none.flush(), every.flush()])
    for (const runId of ids) assert.deepStrictEqual(await namesOf(hex(runId)), [])
    assert.strictEqual(none.stats().sampledOutTraces, 4)
    assert.strictEqual(none.stats().accepted, 0)
    for (const runId of others) assert.deepStrictEqual(await namesOf(hex(runId)), fullTrace)
    assert.strictEqual(every.stats().sampledOutTraces, 0)
  })
})

describe("keepErrors", () => {
  it("sends exactly the sampled-out traces where a run failed, whole, and counts the others", async () => {
    const handler = handlerFor({ sampleRate: 0, keepErrors: true })
    const ok = [crypto.randomUUID(), crypto.randomUUID()]
    const toolFailed = [crypto.randomUUID(), crypto.randomUUID()]
    const modelFailed = [crypto.randomUUID(), crypto.randomUUID()]
    const answers = await Promise.all([
      ...ok.map((runId) => run(handler, runId, { city: "Paris" })),
      ...toolFailed.map((runId) => run(handler, runId, { city: "Atlantis" })),
      ...modelFailed.map((runId) => run(handler, runId, { city: "Paris", modelFails: true }))
    ])
    assert.deepStrictEqual(answers.slice(0, 4), [
      "answer 0 / sunny in Paris",
      "answer 0 / sunny in Paris",
      "answer 0 / unknown",
      "answer 0 / unknown"
    ])
    assert.deepStrictEqual(answers.slice(4), ["failed", "failed"])
    await handler.flush()

    for (const runId of ok) assert.deepStrictEqual(await namesOf(hex(runId)), [], "sampled out, no failure: not sent")
    for (const runId of toolFailed) {
      // The chain succeeded, but its tool failed: the whole trace is sent, root and model included.
      assert.deepStrictEqual(await namesOf(hex(runId)), fullTrace)
      const spans = await spansOf(hex(runId))
      const status = Object.fromEntries(spans.map((span) => [span.name, span.status.status_code]))
      assert.deepStrictEqual(status, {
        pipeline: "StatusCode.OK",
        FakeListChatModel: "StatusCode.OK",
        lookup: "StatusCode.ERROR"
      })
    }
    for (const runId of modelFailed) {
      // The model failed, then its chain: no tool ran.
      assert.deepStrictEqual(await namesOf(hex(runId)), ["FakeListChatModel", "pipeline"])
    }
    const stats = handler.stats()
    assert.strictEqual(stats.sampledOutTraces, 6)
    assert.strictEqual(stats.keptErrorTraces, 4)
    assert.strictEqual(stats.sampledOutModelCalls, 2, "the model calls of the two discarded traces")
    assert.strictEqual(stats.sampledOutUnheld, 0)
    assert.strictEqual(stats.heldTraces, 0, "nothing held once the roots ended")
    assert.strictEqual(stats.heldSpans, 0)
    assert.strictEqual(stats.delivered, 2 * 3 + 2 * 2)
  })

  it("keeps traces with a failure at a rate between 0 and 1 too, and sends the sampled-in ones as usual", async () => {
    const rate = 0.5
    const handler = handlerFor({ sampleRate: rate, keepErrors: true })
    const inOk = runIdSampled(rate, true)
    const outOk = runIdSampled(rate, false)
    const outFailed = runIdSampled(rate, false)
    await Promise.all([
      run(handler, inOk, { city: "Paris" }),
      run(handler, outOk, { city: "Paris" }),
      run(handler, outFailed, { city: "Atlantis" })
    ])
    await handler.flush()
    assert.deepStrictEqual(await namesOf(hex(inOk)), fullTrace)
    assert.deepStrictEqual(await namesOf(hex(outOk)), [])
    assert.deepStrictEqual(await namesOf(hex(outFailed)), fullTrace)
    assert.strictEqual(handler.stats().sampledOutTraces, 2)
    assert.strictEqual(handler.stats().keptErrorTraces, 1)
  })

  it("maxHeldTraces: a sampled-out trace beyond it is not held (dropped even if it fails), and counted", async () => {
    const handler = handlerFor({ sampleRate: 0, keepErrors: true, maxHeldTraces: 1 })
    let open!: () => void
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const first = crypto.randomUUID()
    const second = crypto.randomUUID()
    const both = Promise.all([
      run(handler, first, { city: "Atlantis", gate }),
      run(handler, second, { city: "Atlantis", gate })
    ])
    // Both roots are open (each waits at the gate after its model call) before either ends.
    await handler.traceIdFor(first)
    open()
    await both
    await handler.flush()
    assert.deepStrictEqual(await namesOf(hex(first)), fullTrace, "the held trace failed: sent")
    assert.deepStrictEqual(await namesOf(hex(second)), [], "not held: dropped, failure or not")
    const stats = handler.stats()
    assert.strictEqual(stats.sampledOutUnheld, 1)
    assert.strictEqual(stats.keptErrorTraces, 1)
    assert.strictEqual(stats.sampledOutModelCalls, 1)
  })

  it("maxHeldSpans: a held trace that would exceed it is given up (its spans discarded), and counted", async () => {
    const handler = handlerFor({ sampleRate: 0, keepErrors: true, maxHeldSpans: 2 })
    const big = crypto.randomUUID()
    const small = crypto.randomUUID()
    // Three model spans are held before the tool fails: the third would exceed the bound.
    await run(handler, big, { city: "Atlantis", models: 3 })
    await run(handler, small, { city: "Atlantis" })
    await handler.flush()
    assert.deepStrictEqual(await namesOf(hex(big)), [])
    assert.deepStrictEqual(
      await namesOf(hex(small)),
      fullTrace,
      "the bound is on spans held at once: freed by the first"
    )
    const stats = handler.stats()
    assert.strictEqual(stats.sampledOutUnheld, 1)
    assert.strictEqual(stats.sampledOutModelCalls, 3)
    assert.strictEqual(stats.heldSpans, 0)
  })
})

describe("keepErrors with a LangGraph agent (hidden runs, a tool error caught by ToolNode)", () => {
  /** A graph: agent (a scripted tool-calling model) → tools (ToolNode) → agent → end. */
  const agent = (city: string) => weatherAgent(city, "Done.")

  it("sends the failed agent's trace whole (as a rate-1 handler does) and nothing of the successful one", async () => {
    const everything = handlerFor({})
    const errorsOnly = handlerFor({ sampleRate: 0, keepErrors: true })
    const reference = crypto.randomUUID()
    const failed = crypto.randomUUID()
    const succeeded = crypto.randomUUID()
    // A fresh agent per run: its scripted model plays its script once.
    for (const [city, handler, runId] of [
      ["Atlantis", everything, reference],
      ["Atlantis", errorsOnly, failed],
      ["Paris", errorsOnly, succeeded]
    ] as const) {
      const { graph, input } = agent(city)
      await graph.invoke(input, { callbacks: [handler], runId })
    }
    await Promise.all([everything.flush(), errorsOnly.flush()])

    const names = await namesOf(hex(reference))
    assert.include(names, "get_weather")
    assert.isAtLeast(names.length, 5, names.join(", "))
    assert.deepStrictEqual(await namesOf(hex(failed)), names, "the same spans as without sampling")
    assert.deepStrictEqual(await namesOf(hex(succeeded)), [])
    const stats = errorsOnly.stats()
    assert.strictEqual(stats.sampledOutTraces, 2)
    assert.strictEqual(stats.keptErrorTraces, 1)
    assert.strictEqual(stats.sampledOutModelCalls, 2, "the two model calls of the successful agent")
    assert.strictEqual(stats.heldTraces, 0)
    assert.strictEqual(stats.heldSpans, 0)
  })
})

describe("sampleRate in requests mode", () => {
  const logsUnder = async (parentRunId: string): Promise<ReadonlyArray<StoredRequest>> => {
    const response = await fetch(`${emulator.url}/emulator/requests`)
    const { items } = (await response.json()) as { items: Array<StoredRequest> }
    return items.filter((request) => request.metadata.langchain_parent_run_id === parentRunId)
  }

  it("keeps or drops the model calls of a chain together, by the trace of the chain's root", async () => {
    const rate = 0.5
    const handler = handlerFor({ mode: "requests", sampleRate: rate })
    const kept = [runIdSampled(rate, true), runIdSampled(rate, true)]
    const dropped = [runIdSampled(rate, false), runIdSampled(rate, false)]
    await Promise.all([...kept, ...dropped].map((runId) => run(handler, runId, { city: "Paris", models: 2 })))
    await handler.flush()
    for (const runId of kept) assert.lengthOf(await logsUnder(runId), 2, "both model calls of a kept chain")
    for (const runId of dropped) assert.lengthOf(await logsUnder(runId), 0, "no model call of a dropped chain")
    assert.strictEqual(handler.stats().sampledOutTraces, 4, "requests mode counts sampled-out model calls")
    assert.strictEqual(handler.stats().sampledOutModelCalls, 4)
    assert.strictEqual(handler.stats().duplicates, 0)
  })

  it("with keepErrors, logs the failed model calls of sampled-out chains only", async () => {
    const handler = handlerFor({ mode: "requests", sampleRate: 0, keepErrors: true })
    const ok = crypto.randomUUID()
    const failed = crypto.randomUUID()
    await Promise.all([run(handler, ok, { city: "Paris" }), run(handler, failed, { city: "Paris", modelFails: true })])
    await handler.flush()
    assert.lengthOf(await logsUnder(ok), 0)
    const logs = await logsUnder(failed)
    assert.lengthOf(logs, 1)
    assert.strictEqual(logs[0]?.status, "ERROR")
    assert.strictEqual(handler.stats().keptErrorTraces, 1)
    assert.strictEqual(handler.stats().sampledOutModelCalls, 1)
  })
})

describe("requestIdFor of a sampled-out model call", () => {
  /** The outcome of a `requestIdFor`; "hung" if it neither resolved nor rejected within 20 s (it should at once). */
  const reasonOf = (promise: Promise<number>): Promise<unknown> => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const hung = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("hung"), 20_000)
    })
    const outcome = promise.then(
      (id) => `delivered ${id}`,
      (error: { reason?: string }) => error.reason
    )
    return Promise.race([outcome, hung]).finally(() => clearTimeout(timer))
  }

  it("rejects with reason 'sampled' (it never hangs), and resolves for a kept one", async () => {
    const rate = 0.5
    for (const mode of ["traces", "requests"] as const) {
      const handler = handlerFor({ mode, sampleRate: rate })
      const kept = runIdSampled(rate, true)
      const dropped = runIdSampled(rate, false)
      for (const runId of [kept, dropped]) {
        await new FakeListChatModel({ responses: ["hi"] }).invoke("hello", { callbacks: [handler], runId })
      }
      assert.strictEqual(await reasonOf(handler.requestIdFor(dropped)), "sampled", mode)
      assert.match(String(await reasonOf(handler.requestIdFor(kept))), /^delivered \d+$/, mode)
    }
  })

  it("keepErrors: rejects with 'sampled' once the held trace is discarded; a failed one has its id", async () => {
    for (const mode of ["traces", "requests"] as const) {
      const handler = handlerFor({ mode, sampleRate: 0, keepErrors: true })
      const ok = crypto.randomUUID()
      const failed = crypto.randomUUID()
      await new FakeListChatModel({ responses: ["hi"] }).invoke("hello", { callbacks: [handler], runId: ok })
      await new FakeListChatModel({ responses: ["hi"] })
        .invoke("hello", { callbacks: [handler], runId: failed, thrownErrorString: "down" } as never)
        .catch(() => undefined)
      assert.strictEqual(await reasonOf(handler.requestIdFor(ok)), "sampled", mode)
      assert.match(String(await reasonOf(handler.requestIdFor(failed))), /^delivered \d+$/, mode)
    }
  })
})

describe("requestIdForEffect while a sampled-out trace is held (keepErrors, traces mode)", () => {
  it("asked before the root ends, it rejects with 'sampled' once the trace is discarded, and resolves once one is sent", async () => {
    const handler = handlerFor({ sampleRate: 0, keepErrors: true })
    const asked: Array<Promise<unknown>> = []
    const chain = (fail: boolean) =>
      RunnableLambda.from(async (input: string, config?: RunnableConfig) => {
        const modelRunId = crypto.randomUUID()
        await new FakeListChatModel({ responses: ["hi"] }).invoke(input, { ...config, runId: modelRunId })
        // Asked while the model's span is held: the root has not ended, nothing is decided yet
        // (requestIdForEffect does not wait for LangChain's background callbacks).
        asked.push(
          Effect.runPromise(handler.requestIdForEffect(modelRunId)).then(
            (id) => `delivered ${id}`,
            (error: { reason?: string }) => error.reason
          )
        )
        if (fail) throw new Error("the chain failed after the model call")
        return "done"
      })
    await chain(false).invoke("hello", { callbacks: [handler] })
    await chain(true)
      .invoke("hello", { callbacks: [handler] })
      .catch(() => undefined)
    await handler.flush()
    // Before the fix, the first waited in the tracker for a log that would never come: it hung.
    const outcomes = await Promise.all(asked)
    assert.strictEqual(outcomes[0], "sampled")
    assert.match(String(outcomes[1]), /^delivered \d+$/)
  })
})

describe("sampling options", () => {
  it("a bad option throws at construction, naming it", () => {
    const bad: ReadonlyArray<readonly [PromptLayerCallbackHandlerOptions, RegExp]> = [
      [{ sampleRate: 1.5 }, /sampleRate must be a number from 0 to 1, got 1.5/],
      [{ sampleRate: -1 }, /sampleRate/],
      [{ sampleRate: Number.NaN }, /sampleRate/],
      [{ sampleRate: "0.5" as unknown as number }, /sampleRate/],
      [{ keepErrors: "yes" as unknown as boolean }, /keepErrors must be a boolean/],
      [{ maxHeldTraces: 0 }, /maxHeldTraces must be a positive integer/],
      [{ maxHeldSpans: 1.5 }, /maxHeldSpans must be a positive integer/]
    ]
    for (const [options, message] of bad) {
      assert.throws(() => new PromptLayerCallbackHandler({ apiKey: "k", ...options }), message)
    }
  })
})

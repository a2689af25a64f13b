/**
 * Bad input, property-based (fast-check): arbitrary values into every public operation of the
 * Effect client, the Promise bridge, the config and retry-policy constructors, and the LangChain
 * handler's callbacks — odd messages, huge strings, cycles, `undefined` metadata, non-string
 * metadata values, NaN scores, bad dates. The outcome is always a typed error or a logged request:
 * never a defect, an unhandled rejection, a thrown callback or a hang; and the API key never
 * appears in any output (console, stdout/stderr, error messages, what the emulator stored).
 */
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages"
import { FakeListChatModel } from "@langchain/core/utils/testing"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import fc from "fast-check"
import { startEmulator } from "promptlayer-effect/emulator"
import { PromptLayerCallbackHandler } from "promptlayer-effect/langchain"
import { PromptLayer } from "promptlayer-effect/promise"
import * as PromptLayerClient from "../src/PromptLayerClient.js"
import * as PromptLayerConfig from "../src/PromptLayerConfig.js"
import type { StartedEmulator } from "../src/PromptLayerEmulator.js"
import { isPromptLayerError } from "../src/PromptLayerError.js"
import * as PromptLayerRetryPolicy from "../src/PromptLayerRetryPolicy.js"

const SECRET = "pl_sk_PROPERTY_TEST_SECRET_9f3a7c1e5b2d"
const RUNS = 100
// A hang, not slowness: far above what one call takes with the machine loaded by other processes.
const HANG_MS = 30_000

// -----------------------------------------------------------------------------
// Output capture: everything written while the properties run is searched for the key.
// -----------------------------------------------------------------------------

const captured: Array<string> = []
const unhandled: Array<unknown> = []
const capture = () => {
  const restore: Array<() => void> = []
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream)
    stream.write = ((chunk: unknown, ...rest: Array<unknown>) => {
      captured.push(String(chunk))
      return (write as (...args: Array<unknown>) => boolean)(chunk, ...rest)
    }) as typeof stream.write
    restore.push(() => {
      stream.write = write
    })
  }
  for (const method of ["log", "info", "warn", "error", "debug", "trace", "group", "groupCollapsed"] as const) {
    const original = console[method]
    console[method] = (...args: Array<unknown>) => {
      captured.push(args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : safeString(a))).join(" "))
    }
    restore.push(() => {
      console[method] = original
    })
  }
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  process.on("unhandledRejection", onUnhandled)
  restore.push(() => process.off("unhandledRejection", onUnhandled))
  return () => {
    for (const r of restore.reverse()) r()
  }
}

const safeString = (u: unknown): string => {
  try {
    return typeof u === "string" ? u : (JSON.stringify(u) ?? String(u))
  } catch {
    try {
      return String(u)
    } catch {
      return "<unprintable>"
    }
  }
}

/** Everything an error exposes as text. */
const errorText = (error: unknown): string => {
  if (error instanceof Error) {
    return [error.message, error.stack ?? "", safeString(error), String(error)].join("\n")
  }
  return safeString(error)
}

const assertNoKey = (text: string, where: string) => {
  assert.isFalse(text.includes(SECRET), `the API key appeared in ${where}`)
}

// -----------------------------------------------------------------------------
// Arbitraries
// -----------------------------------------------------------------------------

const huge = "x".repeat(300_000)
const cyclic = () => {
  const a: Record<string, unknown> = { role: "user", content: "loop" }
  a.self = a
  a.content = [{ type: "text", text: "t", parent: a }]
  return a
}

/** Values that break naive code. */
const odd: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ withBigInt: true, withBoxedValues: true, withMap: true, withSet: true, withNullPrototype: true }),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -1,
    1e308,
    new Date(Number.NaN),
    "not a date",
    "",
    huge,
    undefined,
    null,
    Symbol("s"),
    () => 1
  ),
  fc.constant(null).map(() => cyclic())
)

const text = (role: string, value: unknown) => ({ role, content: [{ type: "text", text: value }] })

/** Mostly `good`, sometimes an odd value. */
const mostly = <A>(good: fc.Arbitrary<A>): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: odd, weight: 1 })

/** Log-request bodies: mostly the right shape, with one or more fields replaced by odd values. */
const logBody: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    provider: mostly(fc.constant("openai")),
    model: mostly(fc.oneof(fc.constant("gpt-4o-mini"), fc.string())),
    input: fc.oneof(
      fc.constant({ type: "chat", messages: [text("user", "hi")] }),
      fc.string().map((s) => ({ type: "chat", messages: [text("user", s)] })),
      fc.constant({ type: "chat", messages: [text("user", huge)] }),
      fc.constant({ type: "completion", content: [{ type: "text", text: "hi" }] }),
      odd.map((o) => ({ type: "chat", messages: [text("user", o)] })),
      odd
    ),
    output: mostly(fc.constant({ type: "chat", messages: [text("assistant", "yo")] })),
    request_start_time: mostly(fc.oneof(fc.constant(Date.now()), fc.date({ noInvalidDate: false }))),
    request_end_time: mostly(fc.oneof(fc.constant(Date.now() + 5), fc.date({ noInvalidDate: false }))),
    tags: mostly(fc.array(fc.string())),
    metadata: fc.oneof(
      fc.constant(undefined),
      fc.dictionary(fc.string(), fc.string()),
      fc.dictionary(fc.string(), odd),
      odd
    ),
    score: mostly(fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constant(Number.NaN))),
    input_tokens: mostly(fc.nat())
  },
  { requiredKeys: ["provider", "model", "input", "output", "request_start_time", "request_end_time"] }
)

const trackBody: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    request_id: fc.oneof(fc.integer({ min: -5, max: 5 }), odd),
    score: fc.oneof(fc.integer({ min: -10, max: 110 }), fc.constant(Number.NaN), odd),
    name: fc.oneof(fc.string(), odd),
    metadata: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.dictionary(fc.string(), odd), odd),
    prompt_name: fc.oneof(fc.string(), odd),
    prompt_input_variables: fc.oneof(fc.dictionary(fc.string(), fc.string()), odd),
    version: fc.oneof(fc.nat(), odd),
    label: fc.oneof(fc.string(), odd),
    group_id: fc.oneof(fc.integer({ min: -5, max: 5 }), odd)
  },
  { requiredKeys: [] }
)

const templateBody: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    prompt_name: fc.oneof(fc.string(), odd),
    prompt_template: fc.oneof(
      fc.constant({ type: "chat", input_variables: [], messages: [text("user", "hi {x}")] }),
      odd
    ),
    tags: fc.oneof(fc.array(fc.string()), odd),
    release_labels: fc.oneof(fc.array(fc.string()), odd)
  }),
  odd
)

const identifier: fc.Arbitrary<unknown> = fc.oneof(fc.string(), fc.integer(), odd)

// -----------------------------------------------------------------------------
// Setup
// -----------------------------------------------------------------------------

let emulator: StartedEmulator

const withEmulator = async (f: () => Promise<void>) => {
  emulator = await startEmulator({ port: 0, apiKey: SECRET })
  const restore = capture()
  try {
    await f()
  } finally {
    restore()
    await emulator.close()
  }
  for (const line of captured) assertNoKey(line, "console or stdout/stderr output")
  assertNoKey(safeString(emulator.store.requests()), "what the emulator stored")
  assert.deepStrictEqual(
    unhandled.map((u) => errorText(u).slice(0, 200)),
    [],
    "no unhandled rejection"
  )
}

const clientLayer = () =>
  PromptLayerClient.layerWith({
    apiKey: SECRET,
    baseUrl: emulator.url,
    retry: { maxAttempts: 1, attemptTimeout: "3 seconds" }
  }).pipe(Layer.provide(FetchHttpClient.layer))

/** A typed PromptLayer error or a success, within HANG_MS; never a defect. */
const checkExit = (exit: Exit.Exit<unknown, unknown>, operation: string) => {
  if (Exit.isSuccess(exit)) return
  const failure = Cause.findErrorOption(exit.cause)
  assert.isTrue(
    failure._tag === "Some" && isPromptLayerError(failure.value),
    `${operation}: expected a typed PromptLayerError, got ${Cause.pretty(exit.cause).slice(0, 300)}`
  )
  if (failure._tag === "Some") assertNoKey(errorText(failure.value), `the ${operation} error`)
}

type Outcome =
  | { readonly _tag: "delivered"; readonly requestId: number }
  | { readonly _tag: "failed" | "dropped" | "shutdown" | "rejected" | "sampled"; readonly detail: string }
  | { readonly _tag: "unknown" }

/** What the handler's tracker remembers of a run after a flush: synchronous, or unknown if never accepted. */
const outcomeOf = (handler: PromptLayerCallbackHandler, runId: string): Outcome => {
  const exit = Effect.runSyncExit(Effect.result(handler.requestIdForEffect(runId)))
  if (Exit.isFailure(exit)) return { _tag: "unknown" }
  return Result.isSuccess(exit.value)
    ? { _tag: "delivered", requestId: exit.value.success }
    : { _tag: exit.value.failure.reason, detail: exit.value.failure.detail ?? "" }
}

// -----------------------------------------------------------------------------
// Properties
// -----------------------------------------------------------------------------

describe("Reliability: arbitrary input never crashes, hangs or leaks the key", () => {
  it("Effect API: every PromptLayerClient operation answers with a success or a typed error", () =>
    withEmulator(async () => {
      const runtime = ManagedRuntime.make(clientLayer())
      const client = await runtime.runPromise(PromptLayerClient.PromptLayerClient)
      const run = async (operation: string, effect: Effect.Effect<unknown, unknown>) => {
        const exit = await runtime.runPromise(
          Effect.exit(
            effect.pipe(
              Effect.timeoutOrElse({
                duration: HANG_MS,
                orElse: () => Effect.fail(new Error(`${operation} hung`))
              })
            )
          )
        )
        checkExit(exit, operation)
        return exit
      }
      const any = <A>(value: unknown) => value as A
      let logged = 0
      await fc.assert(
        fc.asyncProperty(logBody, async (body) => {
          const exit = await run("logRequest", client.logRequest(any(body)))
          if (Exit.isSuccess(exit)) logged++
        }),
        { numRuns: RUNS * 2 }
      )
      assert.isAbove(logged, 0, "some generated bodies were valid and logged")
      await fc.assert(
        fc.asyncProperty(odd, async (body) => {
          await run("logRequest(odd)", client.logRequest(any(body)))
          await run("trackRequest", client.trackRequest(any(body)))
        }),
        { numRuns: RUNS }
      )
      await fc.assert(
        fc.asyncProperty(trackBody, async (body) => {
          await run("track.score", client.track.score(any(body)))
          await run("track.metadata", client.track.metadata(any(body)))
          await run("track.prompt", client.track.prompt(any(body)))
          await run("track.group", client.track.group(any(body)))
        }),
        { numRuns: RUNS }
      )
      await fc.assert(
        fc.asyncProperty(templateBody, identifier, odd, async (template, name, params) => {
          await run("templates.publish", client.templates.publish(any(template)))
          await run("templates.get", client.templates.get(any(name), any(params)))
          await run("templates.all", client.templates.all(any(params)))
          await run("templates.stream", Stream.runCollect(Stream.take(client.templates.stream(any(params)), 5)))
          await run("group.create", client.group.create())
        }),
        { numRuns: RUNS }
      )
      await runtime.dispose()
    }))

  it("config and retry-policy constructors: a Left or a RangeError for bad options, never a crash or the key", () =>
    withEmulator(async () => {
      fc.assert(
        fc.property(odd, odd, (apiKey, baseUrl) => {
          const result = PromptLayerConfig.make({ apiKey: apiKey as string, baseUrl: baseUrl as string })
          if (Result.isFailure(result)) assertNoKey(result.failure, "a config error")
          else assertNoKey(safeString(result.success), "a built config")
        }),
        { numRuns: RUNS * 3 }
      )
      fc.assert(
        fc.property(
          fc.dictionary(fc.constantFrom("maxAttempts", "initialDelay", "attemptTimeout", "deadline", "maxDelay"), odd),
          (options) => {
            try {
              PromptLayerRetryPolicy.make(options as PromptLayerRetryPolicy.Options)
            } catch (error) {
              // Documented: impossible values throw a RangeError at construction; other junk is a decode error from Duration.
              assert.instanceOf(error, Error)
            }
          }
        ),
        { numRuns: RUNS * 3 }
      )
    }))

  it("Promise bridge: every method resolves or rejects with a typed error (never an untyped rejection)", () =>
    withEmulator(async () => {
      const pl = new PromptLayer({ apiKey: SECRET, baseURL: emulator.url, retry: { maxAttempts: 1 } })
      const settle = async (operation: string, call: () => Promise<unknown>) => {
        let timer: ReturnType<typeof setTimeout> | undefined
        const outcome = await Promise.race([
          Promise.resolve()
            .then(call)
            .then(
              () => "resolved" as const,
              (error: unknown) => {
                assert.isTrue(isPromptLayerError(error), `${operation} rejected with ${errorText(error).slice(0, 200)}`)
                assertNoKey(errorText(error), `the ${operation} rejection`)
                return "rejected" as const
              }
            ),
          new Promise<"hung">((resolve) => {
            timer = setTimeout(() => resolve("hung"), HANG_MS)
          })
        ])
        clearTimeout(timer)
        assert.notStrictEqual(outcome, "hung", `${operation} hung`)
        return outcome
      }
      const any = <A>(value: unknown) => value as A
      let resolved = 0
      await fc.assert(
        fc.asyncProperty(logBody, async (body) => {
          if ((await settle("logRequest", () => pl.logRequest(any(body)))) === "resolved") resolved++
        }),
        { numRuns: RUNS * 2 }
      )
      assert.isAbove(resolved, 0)
      await fc.assert(
        fc.asyncProperty(odd, trackBody, templateBody, identifier, async (body, track, template, name) => {
          await settle("trackRequest", () => pl.trackRequest(any(body)))
          await settle("track.score", () => pl.track.score(any(track)))
          await settle("track.metadata", () => pl.track.metadata(any(track)))
          await settle("track.prompt", () => pl.track.prompt(any(track)))
          await settle("track.group", () => pl.track.group(any(track)))
          await settle("group.create", () => pl.group.create())
          await settle("templates.publish", () => pl.templates.publish(any(template)))
          await settle("templates.get", () => pl.templates.get(any(name), any(body)))
          await settle("templates.all", () => pl.templates.all(any(body)))
        }),
        { numRuns: RUNS }
      )
      await pl.close()
      // Constructor: bad options throw at once with a readable message, never the key.
      fc.assert(
        fc.property(odd, (baseURL) => {
          try {
            new PromptLayer({ apiKey: SECRET, baseURL: baseURL as string })
          } catch (error) {
            assert.instanceOf(error, Error)
            assertNoKey(errorText(error), "a constructor error")
          }
        }),
        { numRuns: RUNS }
      )
    }))

  it("handler callbacks: arbitrary arguments never throw; every accepted log is delivered or counted as failed", () =>
    withEmulator(async () => {
      // One attempt per log, so a log is never sent twice; a generous attempt timeout, because a log
      // whose attempt times out after the server stored it is stored yet counted as failed.
      const handler = new PromptLayerCallbackHandler({
        mode: "requests",
        apiKey: SECRET,
        baseURL: emulator.url,
        plTags: ["props"],
        retry: { maxAttempts: 1, attemptTimeout: "60 seconds" }
      })
      const runIds: Array<string> = []
      const message = fc.oneof(
        fc.string().map((s) => new HumanMessage(s)),
        fc.constant(new HumanMessage(huge)),
        fc.constant(new SystemMessage({ content: [{ type: "text", text: "sys" }] })),
        fc.constant(new AIMessage({ content: "", tool_calls: [{ id: "c1", name: "f", args: { a: 1 } }] })),
        fc.constant(new ToolMessage({ content: "result", tool_call_id: "c1" })),
        odd
      )
      let n = 0
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(message, { maxLength: 3 }), { maxLength: 3 }),
          odd,
          odd,
          fc.oneof(fc.constant(undefined), fc.dictionary(fc.string(), odd), odd),
          odd,
          async (messages, llm, extra, metadata, output) => {
            const runId = `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`
            const llmRun = `00000000-0000-4000-9000-${String(n).padStart(12, "0")}`
            // A batch of k prompts is k logs: the run id, then `:1`, `:2`, ... for the others.
            runIds.push(runId, `${runId}:1`, `${runId}:2`, llmRun, `${llmRun}:1`)
            const call = (f: () => unknown) => assert.doesNotThrow(() => f())
            call(() =>
              handler.handleChatModelStart(
                llm as never,
                messages as never,
                runId,
                undefined,
                extra as never,
                [],
                metadata as never
              )
            )
            call(() => handler.handleLLMNewToken(output as never, undefined as never, runId))
            if (n % 3 === 0) call(() => handler.handleLLMError(output, runId))
            else call(() => handler.handleLLMEnd(output as never, runId))
            call(() => handler.handleLLMStart(llm as never, [output, huge] as never, llmRun, undefined, extra as never))
            call(() => handler.handleLLMEnd({ generations: [[{ text: "done" }]] } as never, llmRun))
            call(() => handler.handleChainStart(llm as never, output as never, runId, runId, [], metadata as never))
          }
        ),
        { numRuns: RUNS }
      )
      // A real model with odd metadata and messages.
      const model = new FakeListChatModel({ responses: ["ok"] })
      const cyc = cyclic()
      for (const [i, metadata] of [
        undefined,
        { a: Number.NaN, b: {}, c: undefined, d: cyc, e: new Date(Number.NaN) }
      ].entries()) {
        const runId = `10000000-0000-4000-8000-${String(i).padStart(12, "0")}`
        runIds.push(runId)
        const answer = await model.invoke([new HumanMessage(huge), new HumanMessage({ content: [] })], {
          callbacks: [handler],
          metadata: metadata as never,
          runId
        })
        assert.strictEqual(answer.content, "ok")
      }
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([
        handler.flush(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("flush hung")), HANG_MS * 4)
        })
      ])
      clearTimeout(timer)
      const stats = handler.stats()
      assert.strictEqual(stats.activeRuns, 0)
      assert.strictEqual(stats.queued + stats.inFlight, 0)
      assert.strictEqual(stats.accepted, stats.delivered + stats.failed, "each accepted log ended delivered or failed")
      assert.isAbove(stats.delivered, 0)
      // Delivery is at least once: a log whose only attempt timed out after the server stored it is
      // stored although the tracker counts it as failed. So, per log (its run id, `:n` for the n-th
      // prompt of a batch): stored at most once; every delivered log stored under its request id;
      // a stored log that is not delivered failed with a TimeoutError, nothing else.
      const outcomes = new Map(runIds.map((runId) => [runId, outcomeOf(handler, runId)]))
      const delivered = [...outcomes.values()].filter((o) => o._tag === "delivered")
      assert.strictEqual(delivered.length, stats.delivered, "every delivered log is one of the generated runs")
      const stored = emulator.store.requests().filter((r) => r.tags.includes("props"))
      const keys = stored.map(
        (r) =>
          `${r.metadata.langchain_run_id}${r.metadata.langchain_prompt_index && r.metadata.langchain_prompt_index !== "0" ? `:${r.metadata.langchain_prompt_index}` : ""}`
      )
      assert.strictEqual(new Set(keys).size, stored.length, "no log stored twice")
      const storedIds = new Set(stored.map((r) => r.id))
      for (const o of delivered) assert.isTrue(storedIds.has(o.requestId), `delivered log ${o.requestId} is stored`)
      let storedButFailed = 0
      for (const [i, row] of stored.entries()) {
        const outcome = outcomes.get(keys[i]!)
        if (outcome?._tag === "delivered") {
          assert.strictEqual(outcome.requestId, row.id, `${keys[i]}: stored under the id the tracker reported`)
        } else {
          assert.strictEqual(outcome?._tag, "failed", `${keys[i]}: stored, so it was accepted`)
          assert.match(
            outcome?._tag === "failed" ? outcome.detail : "",
            /TimeoutError/,
            `${keys[i]}: stored but failed`
          )
          storedButFailed++
        }
      }
      assert.strictEqual(stored.length, stats.delivered + storedButFailed)
      assert.isAtMost(storedButFailed, stats.failed)
      await handler.shutdown()
    }))

  it("the handler never throws out of LangChain's own dispatch either (awaited callbacks)", () =>
    withEmulator(async () => {
      const handler = new PromptLayerCallbackHandler({
        mode: "requests",
        apiKey: SECRET,
        baseURL: emulator.url,
        plTags: ["awaited"]
      })
      handler.awaitHandlers = true
      const model = new FakeListChatModel({ responses: ["a", "b"] })
      await fc.assert(
        fc.asyncProperty(fc.string(), odd, async (prompt, metadata) => {
          const answer = await model.invoke(prompt, { callbacks: [handler], metadata: metadata as never })
          assert.include(["a", "b"], answer.content)
        }),
        { numRuns: RUNS }
      )
      await handler.flush()
      const stats = handler.stats()
      assert.strictEqual(stats.delivered, RUNS)
      assert.strictEqual(stats.failed + stats.dropped, 0)
      const stored = emulator.store.requests().filter((r) => r.tags.includes("awaited"))
      assert.strictEqual(Chunk.size(Chunk.fromIterable(emulator.store.requests())), stored.length, "nothing else")
      assert.strictEqual(new Set(stored.map((r) => r.metadata.langchain_run_id)).size, RUNS, "every run stored")
      // At least once: only an attempt that timed out after the server stored it, then retried, stores a log twice.
      assert.isAtMost(stored.length - RUNS, stats.retried)
      await handler.shutdown()
    }))
})

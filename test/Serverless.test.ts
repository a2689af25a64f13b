/**
 * Serverless delivery: a real child process (test/support/serverless-child.ts) runs a "function"
 * that answers requests with a LangChain chain traced by the handler, and the test freezes it
 * between requests (SIGSTOP, then SIGCONT after twice the attempt timeout: no timer runs
 * meanwhile), as Lambda, Vercel or Cloud Run freeze an instance once its response is sent. Then
 * the emulator's store says what arrived: nothing lost, nothing twice.
 *
 * The freeze while a batch is in flight goes through a proxy in this process: it forwards the
 * function's first `/spans-bulk` call to the emulator (which stores it), stops the child, and only
 * then writes the response, so the child resumes with the response waiting in its socket and the
 * attempt's timeout long overdue. Without a freeze-aware attempt timeout, that timeout fires
 * first on resume and the retry stores the batch twice (the real server does not de-duplicate
 * span ids: promptlayer-traces.md §2).
 *
 * No case depends on the machine's speed: the test waits for the child's lines and the proxy's
 * events; the only fixed time is the length of the freeze, which only has to exceed the attempt
 * timeout.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises"
import { ChatPromptTemplate } from "@langchain/core/prompts"
import { RunnableLambda } from "@langchain/core/runnables"
import { FakeListChatModel } from "@langchain/core/utils/testing"
import * as Effect from "effect/Effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Layer from "effect/Layer"
import { PromptLayerCallbackHandler } from "promptlayer-effect/langchain"
import { afterAll } from "vitest"
import * as SpanDelivery from "../src/internal/spanDelivery.js"
import * as PromptLayerClient from "../src/PromptLayerClient.js"
import { type StartedEmulator, type StoredTraceSpan, startEmulator } from "../src/PromptLayerEmulator.js"
import * as PromptLayerTracker from "../src/PromptLayerTracker.js"
import { watchOutput } from "./support/childOutput.js"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")

/**
 * The child's attempt timeout (far above a loopback round trip on a loaded machine: no attempt may
 * time out before the freeze); the freeze lasts twice as long.
 */
const ATTEMPT_TIMEOUT_MS = 3000
const FREEZE_MS = 2 * ATTEMPT_TIMEOUT_MS
/** Spans per request: the sequence, the prompt template, the chat model, the lambda. */
const SPANS_PER_TRACE = 4

const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) child.kill("SIGKILL")
})

interface Child {
  readonly child: ChildProcess
  readonly send: (command: string) => void
  readonly waitFor: (prefix: string) => Promise<string>
  readonly closed: Promise<number | null>
}

const startChild = (url: string, apiKey: string, pattern: string, mode: "traces" | "requests" = "traces"): Child => {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      Path.join(root, "test/support/serverless-child.ts"),
      url,
      apiKey,
      pattern,
      String(ATTEMPT_TIMEOUT_MS),
      mode
    ],
    { cwd: root, stdio: ["pipe", "pipe", "pipe"] }
  )
  children.add(child)
  child.once("exit", () => children.delete(child))
  const { exited, waitFor } = watchOutput(child)
  const closed = exited.then(({ code }) => code)
  return { child, send: (command) => child.stdin!.write(`${command}\n`), waitFor, closed }
}

interface ChildStats {
  readonly accepted: number
  readonly delivered: number
  readonly failed: number
  readonly dropped: number
  readonly retried: number
  readonly batches: number
}

const statsOf = (line: string): ChildStats => JSON.parse(line.slice(line.indexOf("{"))) as ChildStats

/** Whether a process is stopped (state `T`), from /proc where there is one, else from `ps`. */
const isStopped = (pid: number): boolean => {
  const stat = `/proc/${pid}/stat`
  if (Fs.existsSync(stat)) return Fs.readFileSync(stat, "utf8").split(") ")[1]?.startsWith("T") === true
  return execFileSync("ps", ["-o", "state=", "-p", String(pid)])
    .toString()
    .trim()
    .startsWith("T")
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Stops the child's process and resolves once it is stopped: from then on it runs nothing. */
const freeze = async (child: ChildProcess): Promise<void> => {
  child.kill("SIGSTOP")
  while (!isStopped(child.pid!)) await sleep(5)
}

const thaw = (child: ChildProcess) => child.kill("SIGCONT")

/**
 * A proxy in front of the emulator that counts the delivery calls (`/spans-bulk`, `/log-request`)
 * and, for the first one, runs `beforeResponse` after the emulator answered and before the answer
 * is written back.
 */
const startProxy = async (target: string, beforeResponse: () => Promise<void>) => {
  let deliveries = 0
  let responded: () => void = () => {}
  const firstResponded = new Promise<void>((resolve) => {
    responded = resolve
  })
  const server = Http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", async () => {
      const isDelivery = /\/(spans-bulk|log-request)$/.test(req.url ?? "")
      const first = isDelivery && ++deliveries === 1
      const headers = { ...req.headers }
      delete headers.host
      delete headers.connection
      const answer = await fetch(`${target}${req.url}`, {
        method: req.method ?? "GET",
        headers: headers as Record<string, string>,
        body: chunks.length === 0 ? null : Buffer.concat(chunks)
      })
      const body = Buffer.from(await answer.arrayBuffer())
      if (first) await beforeResponse()
      res.writeHead(answer.status, {
        "content-type": answer.headers.get("content-type") ?? "application/json",
        "content-length": body.length
      })
      res.end(body, () => {
        if (first) responded()
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deliveries: () => deliveries,
    firstResponded,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

const withEmulator = async (f: (emulator: StartedEmulator) => Promise<void>) => {
  const emulator = await startEmulator({ port: 0 })
  try {
    await f(emulator)
  } finally {
    await emulator.close()
  }
}

const storedSpans = (emulator: StartedEmulator): Array<StoredTraceSpan> =>
  emulator.store.traces.list().flatMap((trace) => emulator.store.traces.spansOf(trace.trace_id))

/** Every request's trace stored once: span ids unique, request logs unique, one trace per request. */
const assertEachOnce = (emulator: StartedEmulator, requests: number) => {
  const spans = storedSpans(emulator)
  assert.strictEqual(spans.length, requests * SPANS_PER_TRACE, "every span stored")
  assert.strictEqual(new Set(spans.map((s) => s.span_id)).size, spans.length, "no span stored twice")
  assert.strictEqual(emulator.store.traces.list().length, requests, "one trace per request")
  const logs = emulator.store.requests()
  assert.strictEqual(logs.length, requests, "one request log per model call")
  assert.strictEqual(new Set(logs.map((r) => r.metadata.n)).size, requests, "no request log stored twice")
}

const spansBulkCalls = (emulator: StartedEmulator) => emulator.stats().calls["POST /spans-bulk"] ?? 0

describe.concurrent("Serverless: a function frozen after its response", () => {
  for (const pattern of ["await-flush", "wait-until"] as const) {
    it(`${pattern}: the trace is stored before the freeze; after a freeze of twice the attempt timeout, the next request's too, nothing twice`, () =>
      withEmulator(async (emulator) => {
        const run = startChild(emulator.url, emulator.apiKey, pattern)
        run.send("invoke 1")
        const first = statsOf(await run.waitFor("RETURNED 1 "))
        // The platform may freeze the process now: the trace must already be stored.
        assert.strictEqual(first.delivered, SPANS_PER_TRACE)
        assertEachOnce(emulator, 1)
        await freeze(run.child)
        await sleep(FREEZE_MS)
        thaw(run.child)
        run.send("invoke 2")
        const second = statsOf(await run.waitFor("RETURNED 2 "))
        assert.strictEqual(second.delivered, 2 * SPANS_PER_TRACE)
        run.send("exit")
        const done = statsOf(await run.waitFor("DONE "))
        assert.strictEqual(await run.closed, 0)
        assertEachOnce(emulator, 2)
        assert.include(done, { accepted: 2 * SPANS_PER_TRACE, delivered: 2 * SPANS_PER_TRACE, failed: 0, dropped: 0 })
        assert.strictEqual(
          spansBulkCalls(emulator),
          done.batches,
          "every /spans-bulk call the emulator got succeeded once"
        )
      }))
  }

  it("no flush: deliverOnRootEnd sends the trace, the process freezes with the batch in flight (answered meanwhile) for twice the attempt timeout; on resume the answer is read, not retried", () =>
    withEmulator(async (emulator) => {
      let run: Child | undefined
      let frozen = false
      const proxy = await startProxy(emulator.url, async () => {
        await freeze(run!.child)
        frozen = true
      })
      try {
        run = startChild(proxy.url, emulator.apiKey, "none")
        run.send("invoke 1")
        await run.waitFor("RETURNED 1 ")
        // Sent by deliverOnRootEnd alone (batchDelay is an hour, nothing flushes): the proxy holds its answer.
        await proxy.firstResponded
        assert.isTrue(frozen, "the child was stopped before the answer was written")
        assertEachOnce(emulator, 1)
        await sleep(FREEZE_MS)
        thaw(run.child)
        run.send("exit")
        const done = statsOf(await run.waitFor("DONE "))
        assert.strictEqual(await run.closed, 0)
        assert.include(done, { delivered: SPANS_PER_TRACE, failed: 0, dropped: 0, retried: 0, batches: 1 })
        assert.strictEqual(proxy.deliveries(), 1, "the batch was sent once")
        assert.strictEqual(spansBulkCalls(emulator), 1)
        assertEachOnce(emulator, 1)
      } finally {
        if (run !== undefined) thaw(run.child)
        await proxy.close()
      }
    }))

  it("requests mode, no flush: the log leaves at once; frozen with it in flight (answered meanwhile), it is read on resume, not sent again", () =>
    withEmulator(async (emulator) => {
      let run: Child | undefined
      const proxy = await startProxy(emulator.url, () => freeze(run!.child))
      try {
        run = startChild(proxy.url, emulator.apiKey, "none", "requests")
        run.send("invoke 1")
        await run.waitFor("RETURNED 1 ")
        await proxy.firstResponded
        assert.lengthOf(emulator.store.requests(), 1)
        await sleep(FREEZE_MS)
        thaw(run.child)
        run.send("exit")
        const done = statsOf(await run.waitFor("DONE "))
        assert.strictEqual(await run.closed, 0)
        assert.include(done, { accepted: 1, delivered: 1, failed: 0, retried: 0 })
        assert.strictEqual(proxy.deliveries(), 1, "the log was sent once")
        assert.strictEqual(emulator.stats().calls["POST /log-request"], 1)
        assert.lengthOf(emulator.store.requests(), 1, "the log was stored once")
      } finally {
        if (run !== undefined) thaw(run.child)
        await proxy.close()
      }
    }))
})

/** The child's chain: prompt → chat model → lambda, four spans. */
const makeChain = () =>
  ChatPromptTemplate.fromMessages([
    ["system", "You are terse."],
    ["human", "{question}"]
  ])
    .pipe(new FakeListChatModel({ responses: ["an answer"] }))
    .pipe(RunnableLambda.from((message: { content: unknown }) => String(message.content).toUpperCase()))

/**
 * A handler (the Effect way) over a tracker of its own whose `batchDelay` is an hour, on the test's
 * `TestClock`, delivering to an emulator of its own: the debounce never ends by itself.
 */
const withHourlyTracker = <A>(
  options: Parameters<typeof PromptLayerCallbackHandler.make>[0],
  f: (
    handler: PromptLayerCallbackHandler,
    tracker: PromptLayerTracker.Service,
    emulator: StartedEmulator
  ) => Effect.Effect<A, unknown, never>
) =>
  Effect.acquireRelease(
    Effect.promise(() => startEmulator({ port: 0 })),
    (emulator) => Effect.promise(() => emulator.close())
  ).pipe(
    Effect.flatMap((emulator) =>
      Effect.gen(function* () {
        const handler = yield* PromptLayerCallbackHandler.make(options)
        const tracker = yield* PromptLayerTracker.PromptLayerTracker
        return yield* f(handler, tracker, emulator)
      }).pipe(
        Effect.provide(
          PromptLayerTracker.layer({ batchDelay: "1 hour" }).pipe(
            Layer.provide(
              PromptLayerClient.layerWith({ apiKey: emulator.apiKey, baseUrl: emulator.url, retry: { maxAttempts: 1 } })
            ),
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
    )
  )

/** Invokes the chain with the handler, waits for LangChain's callbacks, then for the tracker's assembler to catch up. */
const invokeAndAssemble = (handler: PromptLayerCallbackHandler, tracker: PromptLayerTracker.Service) =>
  Effect.promise(async () => {
    await makeChain().invoke({ question: "q" }, { callbacks: [handler] })
    await awaitAllCallbacks()
  }).pipe(Effect.andThen(SpanDelivery.assembledOf(tracker)))

describe("deliverOnRootEnd", () => {
  it.effect(
    "on: when the root run ends, its trace leaves at once, in one /spans-bulk call, without waiting for batchDelay",
    () =>
      withHourlyTracker({ deliverOnRootEnd: true }, (handler, tracker, emulator) =>
        Effect.gen(function* () {
          yield* invokeAndAssemble(handler, tracker)
          const stats = tracker.statsUnsafe()
          assert.strictEqual(stats.accepted, SPANS_PER_TRACE)
          assert.strictEqual(stats.queued, 0, "the open batch was closed at the root's end: nothing waits")
          // The batch is in flight or sent: flush only waits for it.
          yield* tracker.flush
          assert.strictEqual(tracker.statsUnsafe().batches, 1)
          assert.strictEqual(spansBulkCalls(emulator), 1)
          assert.strictEqual(storedSpans(emulator).length, SPANS_PER_TRACE)
        })
      )
  )

  it.effect("on, a model called alone (the model run is the root): its span leaves when it ends", () =>
    withHourlyTracker({ deliverOnRootEnd: true }, (handler, tracker, emulator) =>
      Effect.gen(function* () {
        yield* Effect.promise(async () => {
          await new FakeListChatModel({ responses: ["hi"] }).invoke("hello", { callbacks: [handler] })
          await awaitAllCallbacks()
        })
        yield* SpanDelivery.assembledOf(tracker)
        assert.strictEqual(tracker.statsUnsafe().accepted, 1)
        assert.strictEqual(tracker.statsUnsafe().queued, 0)
        yield* tracker.flush
        assert.strictEqual(spansBulkCalls(emulator), 1)
        assert.lengthOf(emulator.store.requests(), 1)
      })
    )
  )

  it.effect("off (the default): the trace waits in the open batch for batchDelay (here an hour), until a flush", () =>
    withHourlyTracker({ deliverOnRootEnd: false }, (handler, tracker, emulator) =>
      Effect.gen(function* () {
        yield* invokeAndAssemble(handler, tracker)
        const stats = tracker.statsUnsafe()
        assert.strictEqual(stats.queued, SPANS_PER_TRACE)
        assert.strictEqual(stats.batches, 0)
        assert.strictEqual(spansBulkCalls(emulator), 0)
        yield* tracker.flush
        assert.strictEqual(storedSpans(emulator).length, SPANS_PER_TRACE)
      })
    )
  )

  it.effect(
    "on, with sampling (sampleRate 0, keepErrors): a sampled-out trace whose run failed is released and sent at its root's end",
    () =>
      withHourlyTracker({ deliverOnRootEnd: true, sampleRate: 0, keepErrors: true }, (handler, tracker, emulator) =>
        Effect.gen(function* () {
          const failing = makeChain().pipe(
            RunnableLambda.from((): string => {
              throw new Error("the step failed")
            })
          )
          yield* Effect.promise(async () => {
            await failing.invoke({ question: "q" }, { callbacks: [handler] }).catch(() => undefined)
            await awaitAllCallbacks()
          })
          yield* SpanDelivery.assembledOf(tracker)
          assert.strictEqual(tracker.statsUnsafe().accepted, SPANS_PER_TRACE + 1, "the held trace was released")
          assert.strictEqual(tracker.statsUnsafe().queued, 0)
          yield* tracker.flush
          assert.strictEqual(spansBulkCalls(emulator), 1)
          assert.strictEqual(storedSpans(emulator).length, SPANS_PER_TRACE + 1)
        })
      )
  )

  it("a value that is not a boolean throws at construction, naming the option", () => {
    assert.throws(
      () =>
        new PromptLayerCallbackHandler({
          apiKey: "pl_test",
          baseURL: "http://127.0.0.1:9",
          deliverOnRootEnd: "yes" as unknown as boolean
        }),
      /deliverOnRootEnd must be a boolean, got yes/
    )
  })

  it("requests mode sends each log at once anyway: with the option, a model call's log is stored without a flush", () =>
    withEmulator(async (emulator) => {
      const handler = new PromptLayerCallbackHandler({
        mode: "requests",
        deliverOnRootEnd: true,
        apiKey: emulator.apiKey,
        baseURL: emulator.url,
        batchDelay: "1 hour"
      })
      try {
        const runId = crypto.randomUUID()
        await new FakeListChatModel({ responses: ["hi"] }).invoke("hello", { callbacks: [handler], runId })
        const requestId = await handler.requestIdFor(runId)
        assert.isDefined(emulator.store.request(requestId))
      } finally {
        await handler.shutdown()
      }
    }))
})

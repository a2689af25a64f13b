/**
 * One arm of the traces benchmark per process (run by bench/traces.ts, which holds the emulator and
 * the LangSmith stub in processes of their own). Prints `RESULT <json>` as its last line.
 *
 * Usage: node --expose-gc --import tsx bench/tracesScenarios.ts <arm> '<json args>'
 *   deliver  { kind, n, warmup, loopBudgetMs, url, apiKey, stubUrl }  n invocations, then until every log is stored
 *            kind: none | traces | requests | naive | langsmith
 *   hotpath  { per, rounds, budgetMs, url, apiKey }      per-call cost with delivery parked, interleaved blocks
 *   heap     { runs, chunk, budgetMs }                   heap before/after `runs` traced invocations
 *   capture  { runs, spans }                             a real `/spans-bulk` body of the tracker (for the load generator)
 *
 * The workload of every arm: `ChatPromptTemplate | FakeListChatModel | StringOutputParser`, 1 KB
 * question and 1 KB answers: four LangChain runs per invocation (the sequence, the prompt, the model,
 * the parser), one of them a model call.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks"
import { BaseCallbackHandler } from "@langchain/core/callbacks/base"
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises"
import { LangChainTracer } from "@langchain/core/tracers/tracer_langchain"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Scope from "effect/Scope"
import { Client } from "langsmith"
import { PromptLayer } from "promptlayer"
import { PromptLayerClient, PromptLayerTracker } from "promptlayer-effect"
import { PromptLayerCallbackHandler } from "promptlayer-effect/langchain"
import { watchConnections } from "./support/loopbackGuard.js"
import { NaivePromptLayerHandler } from "./support/naiveHandler.js"
import { benchChain, timeOwnCallbacks } from "./support/workload.js"

const [arm = "", rawArgs = "{}"] = process.argv.slice(2)
const outside = watchConnections()

// =============================================================================
// Workload and helpers
// =============================================================================

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc
  if (g === undefined) throw new Error("run with --expose-gc")
  g()
  g()
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

type Callbacks = Array<BaseCallbackHandler>

/** `prompt | model | parser`, 1 KB in and out; returns one invocation. */
const workload = () => {
  const { chain, input } = benchChain()
  return (callbacks: Callbacks) => chain.invoke(input, { callbacks })
}

const quantile = (values: ArrayLike<number>, q: number) => {
  const sorted = Array.from(values).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

const delayMs = (h: ReturnType<typeof monitorEventLoopDelay>) => ({
  p50: h.count === 0 ? 0 : h.percentile(50) / 1e6,
  p99: h.count === 0 ? 0 : h.percentile(99) / 1e6,
  max: h.count === 0 ? 0 : h.max / 1e6,
  samples: h.count
})

/** The event-loop delay histogram's resolution, in ms (its timer's period). */
const ELD_RESOLUTION_MS = 2

const getJson = async <A>(url: string, init?: RequestInit): Promise<A> => {
  const response = await fetch(url, init)
  if (!response.ok) throw new Error(`${init?.method ?? "GET"} ${url}: ${response.status} ${await response.text()}`)
  return (await response.json()) as A
}

// =============================================================================
// Sinks: what each kind plugs into LangChain, how it drains and how its stored logs are counted
// =============================================================================

type Kind = "none" | "traces" | "requests" | "naive" | "langsmith"

interface Sink {
  readonly callbacks: Callbacks
  /** Until every log of the invocations so far is stored. */
  readonly drain: () => Promise<void>
  /** Model logs stored on the server side. */
  readonly stored: () => Promise<number>
  /** Spans / runs stored on the server side (all run types). */
  readonly storedRuns: () => Promise<number>
  readonly reset: () => Promise<void>
  readonly stats: () => unknown
}

const emulatorSink = (
  url: string,
  apiKey: string,
  callbacks: Callbacks,
  drain: () => Promise<void>,
  stats: () => unknown
): Sink => ({
  callbacks,
  drain,
  stored: async () => (await getJson<{ requests: number }>(`${url}/emulator/stats`)).requests,
  storedRuns: async () => {
    const { items } = await getJson<{ items: Array<{ span_count: number }> }>(`${url}/emulator/traces`)
    return items.reduce((sum, t) => sum + t.span_count, 0)
  },
  reset: async () => {
    await getJson(`${url}/emulator/reset`, { method: "POST", headers: { "x-api-key": apiKey } })
  },
  stats
})

const sinkFor = (kind: Kind, args: { url: string; apiKey: string; stubUrl: string }): Sink => {
  const { url, apiKey, stubUrl } = args
  switch (kind) {
    case "none":
      return {
        callbacks: [],
        drain: () => awaitAllCallbacks(),
        stored: async () => 0,
        storedRuns: async () => 0,
        reset: async () => {},
        stats: () => ({})
      }
    case "traces":
    case "requests": {
      const handler = new PromptLayerCallbackHandler({
        apiKey,
        baseURL: url,
        plTags: ["bench"],
        mode: kind,
        maxQueued: 1_000_000
      })
      return emulatorSink(
        url,
        apiKey,
        [handler],
        () => handler.flush(),
        () => handler.stats()
      )
    }
    case "naive":
      return emulatorSink(
        url,
        apiKey,
        [new NaivePromptLayerHandler(new PromptLayer({ apiKey, baseURL: url }), ["bench"])],
        () => awaitAllCallbacks(),
        () => ({})
      )
    case "langsmith": {
      const client = new Client({ apiUrl: stubUrl, apiKey: "x", autoBatchTracing: true })
      const tracer = new LangChainTracer({ client, projectName: "bench" })
      type StubStats = { llmEnded: number; endedRuns: number }
      return {
        callbacks: [tracer],
        drain: async () => {
          await awaitAllCallbacks()
          await client.awaitPendingTraceBatches()
        },
        stored: async () => (await getJson<StubStats>(`${stubUrl}/stub/stats`)).llmEnded,
        storedRuns: async () => (await getJson<StubStats>(`${stubUrl}/stub/stats`)).endedRuns,
        reset: async () => {
          await getJson(`${stubUrl}/stub/reset`, { method: "POST" })
        },
        stats: () => ({})
      }
    }
  }
}

// =============================================================================
// Arms
// =============================================================================

/**
 * `n` sequential invocations (one `setImmediate` turn between them, as an app doing I/O between
 * calls), then the kind's drain. Process CPU (user + system, all threads) and wall time from the
 * first call until every log is stored; event-loop delay during the loop and during the drain.
 */
const deliver = async (args: {
  kind: Kind
  n: number
  warmup: number
  /** The invocation loop stops early past this (a shared machine may be slower than planned). */
  loopBudgetMs: number
  url: string
  apiKey: string
  stubUrl: string
}) => {
  const { kind, warmup, loopBudgetMs } = args
  let n = args.n
  const sink = sinkFor(kind, args)
  const invoke = workload()
  for (let i = 0; i < warmup; i++) {
    await invoke(sink.callbacks)
    await yieldToLoop()
  }
  await sink.drain()
  await sink.reset()
  gc()
  const wallUs = new Float64Array(n)
  // Two histograms (each its own timer): the loop alone, and the whole run (loop and drain).
  const loopDelay = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS })
  const wholeDelay = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS })
  // GC pauses of the measured run (the main thread stops for each).
  const gcPauses: Array<number> = []
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPauses.push(entry.duration)
  })
  gcObserver.observe({ entryTypes: ["gc"] })
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  loopDelay.enable()
  wholeDelay.enable()
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint()
    await invoke(sink.callbacks)
    wallUs[i] = Number(process.hrtime.bigint() - s) / 1000
    await yieldToLoop()
    if (performance.now() - t0 > loopBudgetMs) n = i + 1
  }
  loopDelay.disable()
  const t1 = performance.now()
  await sink.drain()
  wholeDelay.disable()
  const t2 = performance.now()
  const cpu = process.cpuUsage(cpu0)
  // Entries are delivered asynchronously: let the observer see the last ones, then stop.
  await yieldToLoop()
  gcObserver.disconnect()
  // What the server holds right after the drain; then (for the report only) after a grace period.
  const storedAtDrain = await sink.stored()
  let stored = storedAtDrain
  const graceUntil = performance.now() + 5000
  while (kind !== "none" && stored < n && performance.now() < graceUntil) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    stored = await sink.stored()
  }
  return {
    kind,
    n,
    cpuUs: cpu.user + cpu.system,
    cpuUserUs: cpu.user,
    loopMs: t1 - t0,
    drainMs: t2 - t1,
    storedMs: t2 - t0,
    planned: args.n,
    wallUs: { p50: quantile(wallUs.subarray(0, n), 0.5), p99: quantile(wallUs.subarray(0, n), 0.99) },
    delay: { loop: delayMs(loopDelay), whole: delayMs(wholeDelay) },
    gc: {
      pauses: gcPauses.length,
      totalMs: gcPauses.reduce((a, b) => a + b, 0),
      p50Ms: quantile(gcPauses, 0.5),
      maxMs: gcPauses.length === 0 ? 0 : Math.max(...gcPauses),
      atLeast4Ms: gcPauses.filter((d) => d >= 4).length
    },
    storedAtDrain,
    stored,
    storedRuns: await sink.storedRuns(),
    stats: sink.stats(),
    outside: [...outside]
  }
}

/**
 * The traces-mode handler (callbacks and run tree as in production) over a tracker that drops every
 * span unbuilt: what the callbacks cost without the span pipeline's background work.
 */
const callbacksOnlyHandler = async (): Promise<PromptLayerCallbackHandler> => {
  // Nothing reaches the client: the spans are dropped before the pipeline.
  const client = Layer.succeed(PromptLayerClient.PromptLayerClient, {} as PromptLayerClient.Service)
  const runtime = ManagedRuntime.make(PromptLayerTracker.layer().pipe(Layer.provide(client)))
  const real = await runtime.runPromise(PromptLayerTracker.PromptLayerTracker)
  const tracker: PromptLayerTracker.Service = { ...real, offerSpan: () => true }
  const scope = Effect.runSync(Scope.make())
  return Effect.runPromise(
    Scope.provide(PromptLayerCallbackHandler.make({ plTags: ["bench"], mode: "traces" }), scope).pipe(
      Effect.provideService(PromptLayerTracker.PromptLayerTracker, tracker)
    )
  )
}

/**
 * The handlers' own per-call cost, delivery parked: the emulator delays `/spans-bulk` and
 * `/log-request` by 10 minutes, so the trackers' requests wait on the network and no delivery work
 * runs. Blocks of `per` calls per kind, `rounds` times in rotating order (drift on a shared machine
 * hits every kind alike), after a warm-up block each.
 */
const hotpath = async (args: { per: number; rounds: number; budgetMs: number; url: string; apiKey: string }) => {
  const { per, url, apiKey, budgetMs } = args
  let rounds = args.rounds
  const t0 = performance.now()
  const control = { "content-type": "application/json", "x-api-key": apiKey }
  for (const route of ["/spans-bulk", "/log-request"]) {
    await getJson(`${url}/emulator/faults`, {
      method: "POST",
      headers: control,
      body: JSON.stringify({ route, latencyMs: 600_000 })
    })
  }
  class NoopHandler extends BaseCallbackHandler {
    name = "NoopHandler"
    override async handleChainStart() {}
    override async handleChainEnd() {}
    override async handleChatModelStart() {}
    override async handleLLMEnd() {}
  }
  const common = { apiKey, baseURL: url, plTags: ["bench"], maxQueued: 10_000_000 }
  const handlers: Record<string, Callbacks> = {
    none: [],
    noop: [new NoopHandler()],
    traces: [new PromptLayerCallbackHandler({ ...common, mode: "traces" })],
    tracesCallbacks: [await callbacksOnlyHandler()],
    requests: [new PromptLayerCallbackHandler({ ...common, mode: "requests" })]
  }
  const own = {
    traces: timeOwnCallbacks(handlers.traces![0]!),
    tracesCallbacks: timeOwnCallbacks(handlers.tracesCallbacks![0]!),
    requests: timeOwnCallbacks(handlers.requests![0]!)
  }
  const kinds = Object.keys(handlers)
  const wall: Record<string, Array<number>> = Object.fromEntries(kinds.map((k) => [k, []]))
  const cpu: Record<string, Array<number>> = Object.fromEntries(kinds.map((k) => [k, []]))
  const invoke = workload()
  for (let r = -1; r < rounds; r++) {
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[(k + Math.max(r, 0)) % kinds.length]!
      const callbacks = handlers[kind]!
      for (let i = 0; i < (r < 0 ? 300 : per); i++) {
        const c = process.cpuUsage()
        const s = process.hrtime.bigint()
        await invoke(callbacks)
        const e = process.hrtime.bigint()
        const d = process.cpuUsage(c)
        if (r >= 0) {
          wall[kind]!.push(Number(e - s) / 1000)
          cpu[kind]!.push(d.user + d.system)
        }
        await yieldToLoop()
      }
      await awaitAllCallbacks()
    }
    // Whole rounds only: every kind keeps the same number of blocks.
    if (r >= 0 && performance.now() - t0 > budgetMs) rounds = r + 1
  }
  const stat = (kind: string) => ({
    n: wall[kind]!.length,
    wallUs: { p50: quantile(wall[kind]!, 0.5), p99: quantile(wall[kind]!, 0.99) },
    cpuUs: { p50: quantile(cpu[kind]!, 0.5), p99: quantile(cpu[kind]!, 0.99) }
  })
  const statsOf = (kind: string) => (handlers[kind]![0] as PromptLayerCallbackHandler).stats()
  return {
    per,
    planned: args.rounds,
    rounds,
    none: stat("none"),
    noop: stat("noop"),
    traces: stat("traces"),
    tracesCallbacks: stat("tracesCallbacks"),
    requests: stat("requests"),
    /** The handlers' own callbacks (synchronous part), per invocation, µs: what LangChain waits for. */
    ownUs: {
      traces: own.traces() / (per * rounds + 300),
      tracesCallbacks: own.tracesCallbacks() / (per * rounds + 300),
      requests: own.requests() / (per * rounds + 300)
    },
    tracesStats: statsOf("traces"),
    requestsStats: statsOf("requests"),
    outside: [...outside]
  }
}

/**
 * Heap before and after `runs` traced invocations (traces mode), `chunk` at a time, each chunk
 * followed by `flush()`; GC'd before each reading. The handler and tracker are the real ones
 * (`PromptLayerCallbackHandler.make` over `PromptLayerTracker.layer`), spans built, encoded and
 * batched as in production; the client answers `spans.bulkEncoded` at once in-process (with a
 * request id per model span), so that 100 000 runs fit in the time budget.
 */
const heap = async (args: { runs: number; chunk: number; budgetMs: number }) => {
  const { chunk, budgetMs } = args
  let runs = args.runs
  let next = 1
  let batches = 0
  let bytes = 0
  const client = Layer.succeed(PromptLayerClient.PromptLayerClient, {
    spans: {
      bulkEncoded: (spans: ReadonlyArray<PromptLayerClient.EncodedSpan>) =>
        Effect.sync(() => {
          batches++
          for (const s of spans) bytes += s.bytes
          return {
            success: true,
            spans: spans.map((s) => ({ id: next++, name: "span", span_id: s.spanId })),
            request_logs: spans.filter((s) => s.log !== undefined).map((s) => ({ id: next++, span_id: s.spanId }))
          }
        })
    }
  } as unknown as PromptLayerClient.Service)
  const runtime = ManagedRuntime.make(PromptLayerTracker.layer({ maxQueued: 1_000_000 }).pipe(Layer.provide(client)))
  const scope = Effect.runSync(Scope.make())
  const handler = await runtime.runPromise(
    Scope.provide(PromptLayerCallbackHandler.make({ plTags: ["bench"], mode: "traces" }), scope)
  )
  const invoke = workload()
  const heapMB = () => {
    gc()
    return process.memoryUsage().heapUsed / 2 ** 20
  }
  for (let i = 0; i < chunk; i++) await invoke([handler])
  await handler.flush()
  const before = heapMB()
  const samples: Array<{ runs: number; heapUsedMB: number }> = []
  const t0 = performance.now()
  const sampleEvery = Math.max(chunk, Math.round(runs / 10 / chunk) * chunk)
  for (let done = 0; done < runs; done += chunk) {
    for (let i = 0; i < chunk; i++) await invoke([handler])
    await handler.flush()
    if ((done + chunk) % sampleEvery === 0) samples.push({ runs: done + chunk, heapUsedMB: heapMB() })
    // Stop early (whole chunks) past the time box; the report says how many runs were made.
    if (performance.now() - t0 > budgetMs) runs = done + chunk
  }
  const elapsedMs = performance.now() - t0
  const after = heapMB()
  const stats = handler.stats()
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await runtime.dispose()
  return {
    planned: args.runs,
    runs,
    chunk,
    beforeMB: before,
    afterMB: after,
    growthMB: after - before,
    samples,
    stats,
    batches,
    spanBytes: bytes,
    elapsedMs,
    outside: [...outside]
  }
}

/**
 * A real `/spans-bulk` body of the tracker (traces mode, this workload): `runs` invocations against a
 * loopback capture server that answers like PromptLayer; returns the first `spans` spans sent as one body.
 */
const capture = async (args: { runs: number; spans: number }) => {
  const bodies: Array<string> = []
  const server = Http.createServer((req, res) => {
    let text = ""
    req.setEncoding("utf8")
    req.on("data", (chunk: string) => {
      text += chunk
    })
    req.on("end", () => {
      bodies.push(text)
      const spans = (JSON.parse(text) as { spans: Array<Record<string, any>> }).spans
      const answer = JSON.stringify({
        success: true,
        spans: spans.map((s, i) => ({ id: i + 1, name: s.name, span_id: s.context.span_id })),
        request_logs: spans
          .filter((s) => s.log_request != null)
          .map((s, i) => ({ id: i + 1, span_id: s.context.span_id }))
      })
      res.writeHead(201, { "content-type": "application/json" }).end(answer)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  const handler = new PromptLayerCallbackHandler({ apiKey: "capture", baseURL: `http://127.0.0.1:${port}` })
  const invoke = workload()
  for (let i = 0; i < args.runs; i++) await invoke([handler])
  await handler.flush()
  await handler.shutdown()
  server.close()
  // The first `spans` spans the tracker sent, in order, as one body (the tracker's default batch is 100).
  const sent = bodies.flatMap((b) => (JSON.parse(b) as { spans: Array<{ log_request?: unknown }> }).spans)
  const spans = sent.slice(0, args.spans)
  return {
    body: JSON.stringify({ spans }),
    spans: spans.length,
    modelSpans: spans.filter((s) => s.log_request != null).length,
    requests: bodies.length,
    outside: [...outside]
  }
}

const main = async (): Promise<unknown> => {
  const args = JSON.parse(rawArgs)
  switch (arm) {
    case "deliver":
      return deliver(args)
    case "hotpath":
      return hotpath(args)
    case "heap":
      return heap(args)
    case "capture":
      return capture(args)
    default:
      throw new Error(`unknown arm ${arm}`)
  }
}

main().then(
  (result) => {
    // Exit once the line is written: a pipe takes 64 KB at a time, and exit() would cut the rest.
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(0))
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  }
)

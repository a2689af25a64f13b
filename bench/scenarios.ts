/**
 * One benchmark scenario per process (run by bench/run.ts, which holds the emulator in another
 * process). Prints `RESULT <json>` as its last line. Our handler runs in `mode: "requests"` (one
 * `/log-request` per model call) in every scenario here: traces mode has its own bench, bench/traces.ts.
 *
 * Usage: node --expose-gc --import tsx bench/scenarios.ts <scenario> <emulatorUrl> <apiKey> [args]
 *   hotpath <n> <rounds>        no handler / ours / naive official-SDK handler, interleaved blocks
 *   inline <n> <rounds>         the handler's own hot path, delivery parked (no handler / no-op handler / ours)
 *   sizes                        ours vs no handler at 1 KB, 100 KB, 2 MB per message
 *   latency <ms> <n>             N logs stored with a slow server: ours (8 and 32 in flight) vs naive
 *   transport <n>                what-if: the tracker over fetch vs over a node:http HttpClient
 *   throughput <n>               the tracker's delivered logs/s with a backlog
 *   memory <runs> <http|instant> heap before/after <runs> invocations (flushed, GC)
 *   down <runs> <maxQueued>      server down: heap and drops as runs pile up
 */
import * as Http from "node:http"
import type * as Net from "node:net"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { BaseCallbackHandler } from "@langchain/core/callbacks/base"
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises"
import { type BaseMessage, HumanMessage, SystemMessage } from "@langchain/core/messages"
import { FakeListChatModel } from "@langchain/core/utils/testing"
import { PromptLayer } from "promptlayer"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import type * as HttpClient from "effect/http/HttpClient"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Scope from "effect/Scope"
import { PromptLayerClient, PromptLayerHttp, PromptLayerTracker } from "promptlayer-effect"
import { PromptLayerCallbackHandler } from "promptlayer-effect/langchain"
import { NaivePromptLayerHandler } from "./support/naiveHandler.js"

const [scenario = "", url = "", apiKey = "", ...args] = process.argv.slice(2)

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc
  if (g === undefined) throw new Error("run with --expose-gc")
  g()
  g()
}

/** A call to the emulator's control API (`/emulator/*`): with the key it requires, failing loudly if refused. */
const control = async (method: "POST" | "DELETE", path: string, body?: unknown): Promise<string> => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json", "x-api-key": apiKey },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return text
}
const storedCount = async (): Promise<number> =>
  ((await (await fetch(`${url}/emulator/stats`)).json()) as { requests: number }).requests
const resetEmulator = () => control("POST", "/emulator/reset")

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * A loopback server that takes every request and never answers: a handler pointed at it has its
 * delivery workers waiting on the network, so no delivery work runs in this process ("parked").
 * Separate from the emulator, so a parked log can never be stored there, not even after a retry.
 */
const blackHole = async () => {
  const server = Http.createServer(() => {})
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as Net.AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** A handler parked on `hole`: one attempt per log that never times out while measured. */
const parkedHandler = (hole: { readonly url: string }, options: { readonly rememberRuns?: number } = {}) =>
  new PromptLayerCallbackHandler({
    mode: "requests",
    apiKey,
    baseURL: hole.url,
    plTags: ["bench"],
    maxQueued: 1_000_000,
    shutdownTimeout: 100,
    retry: { maxAttempts: 1, attemptTimeout: "1 hour", deadline: "1 hour" },
    ...options
  })

/** Stops a parked handler (interrupting its waiting deliveries, dropping the rest), then its server. */
const unpark = async (handler: PromptLayerCallbackHandler, hole: { readonly close: () => Promise<void> }) => {
  await keepAlive(handler.shutdown())
  await hole.close()
}

// -----------------------------------------------------------------------------
// The handler a user would write with the official SDK: await logRequest in handleLLMEnd.
// -----------------------------------------------------------------------------

// -----------------------------------------------------------------------------
// Measurement
// -----------------------------------------------------------------------------

type Kind = "none" | "ours" | "naive"

interface Block {
  readonly wallUs: Array<number>
  readonly cpuUs: Array<number>
  /** Process CPU (user+system, all threads) from the first call until every log is stored. */
  totalCpuUs: number
  loopMs: number
  /** From the first call until every log of the block is stored. */
  storedMs: number
  /** From the end of the loop until every log is stored. */
  drainMs: number
  /** Event-loop delay percentiles of each block's invocation loop, in ms. */
  readonly lag: Array<{ p50: number; p99: number; max: number }>
}

const payload = (bytes: number, seed: string) => {
  const unit = `${seed} lorem ipsum dolor sit amet, consectetur adipiscing elit. `
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes)
}

const makeModel = (bytes: number) =>
  new FakeListChatModel({ responses: Array.from({ length: 4 }, (_, i) => payload(bytes, `answer-${i}`)) })

const makeInput = (bytes: number) => [new SystemMessage("You are a benchmark."), new HumanMessage(payload(bytes, "q"))]

const newBlock = (): Block => ({ wallUs: [], cpuUs: [], totalCpuUs: 0, loopMs: 0, storedMs: 0, drainMs: 0, lag: [] })

/** `n` sequential invocations; per call: wall time (hrtime) and process CPU (cpuUsage) around `invoke`. */
const runBlock = async (
  kind: Kind,
  n: number,
  model: FakeListChatModel,
  input: Array<BaseMessage>,
  handlers: { ours: PromptLayerCallbackHandler; naive: NaivePromptLayerHandler },
  block: Block
) => {
  const callbacks = kind === "none" ? [] : kind === "ours" ? [handlers.ours] : [handlers.naive]
  const options = { callbacks }
  await resetEmulator()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  // A fresh histogram per block: a re-enabled one would count the pause between blocks as delay.
  const eld = monitorEventLoopDelay({ resolution: 2 })
  eld.enable()
  for (let i = 0; i < n; i++) {
    const c = process.cpuUsage()
    const s = process.hrtime.bigint()
    await model.invoke(input, options)
    const e = process.hrtime.bigint()
    const d = process.cpuUsage(c)
    block.wallUs.push(Number(e - s) / 1000)
    block.cpuUs.push(d.user + d.system)
    // A real app does I/O between LLM calls; let the event loop turn (outside the measured window).
    await yieldToLoop()
  }
  eld.disable()
  block.lag.push({ p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 })
  const t1 = performance.now()
  if (kind === "ours") await handlers.ours.flush()
  else await awaitAllCallbacks()
  const t2 = performance.now()
  const cpu = process.cpuUsage(cpu0)
  block.totalCpuUs += cpu.user + cpu.system
  block.loopMs += t1 - t0
  block.storedMs += t2 - t0
  block.drainMs += t2 - t1
  if (kind !== "none") {
    const stored = await storedCount()
    if (stored !== n) throw new Error(`${kind}: the emulator holds ${stored} logs, expected ${n}`)
  }
}

const quantile = (values: ReadonlyArray<number>, q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

const summary = (block: Block, n: number) => ({
  n,
  lag: {
    p50Ms: quantile(
      block.lag.map((l) => l.p50),
      0.5
    ),
    p99Ms: Math.max(...block.lag.map((l) => l.p99)),
    maxMs: Math.max(...block.lag.map((l) => l.max))
  },
  wallUs: { p50: quantile(block.wallUs, 0.5), p99: quantile(block.wallUs, 0.99) },
  cpuUs: { p50: quantile(block.cpuUs, 0.5), p99: quantile(block.cpuUs, 0.99) },
  totalCpuUsPerCall: block.totalCpuUs / n,
  loopMs: block.loopMs,
  storedMs: block.storedMs,
  drainMs: block.drainMs
})

const handlersFor = (options: ConstructorParameters<typeof PromptLayerCallbackHandler>[0] = {}) => ({
  ours: new PromptLayerCallbackHandler({
    mode: "requests",
    apiKey,
    baseURL: url,
    plTags: ["bench"],
    maxQueued: 200_000,
    ...options
  }),
  naive: new NaivePromptLayerHandler(new PromptLayer({ apiKey, baseURL: url }), ["bench"])
})

// -----------------------------------------------------------------------------
// Scenarios
// -----------------------------------------------------------------------------

const hotpath = async (n: number, rounds: number) => {
  const handlers = handlersFor()
  const model = makeModel(1024)
  const input = makeInput(1024)
  const kinds: ReadonlyArray<Kind> = ["none", "ours", "naive"]
  // Warm up every path (JIT, sockets), not measured.
  for (const kind of kinds) await runBlock(kind, 500, model, input, handlers, newBlock())
  const blocks = { none: newBlock(), ours: newBlock(), naive: newBlock() }
  const per = Math.ceil(n / rounds)
  for (let r = 0; r < rounds; r++) {
    // Rotate the order so that drift on a shared machine does not favour one path.
    const order = kinds.map((_, i) => kinds[(i + r) % kinds.length]!)
    for (const kind of order) await runBlock(kind, per, model, input, handlers, blocks[kind])
  }
  const result = {
    none: summary(blocks.none, per * rounds),
    ours: summary(blocks.ours, per * rounds),
    naive: summary(blocks.naive, per * rounds),
    oursStats: handlers.ours.stats()
  }
  await keepAlive(handlers.ours.shutdown())
  return result
}

/**
 * The handler's own hot path, with delivery parked: the handler sends to a server that never
 * answers, so the tracker's workers wait on the network and no delivery work runs in this process.
 * What remains in the loop is LangChain's callback dispatch plus the handler's callbacks and the
 * enqueue. Compared with no handler and with a handler whose callbacks do nothing.
 */
const inline = async (n: number, rounds: number) => {
  const hole = await blackHole()
  const ours = parkedHandler(hole)
  class NoopHandler extends BaseCallbackHandler {
    name = "NoopHandler"
    override async handleChatModelStart() {}
    override async handleLLMEnd() {}
  }
  const noop = new NoopHandler()
  const model = makeModel(1024)
  const input = makeInput(1024)
  const kinds = ["none", "noop", "ours"] as const
  const samples = { none: [] as Array<number>, noop: [] as Array<number>, ours: [] as Array<number> }
  const cpu = { none: [] as Array<number>, noop: [] as Array<number>, ours: [] as Array<number> }
  const per = Math.ceil(n / rounds)
  for (let r = -1; r < rounds; r++) {
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[(k + Math.max(r, 0)) % kinds.length]!
      const options = { callbacks: kind === "none" ? [] : kind === "noop" ? [noop] : [ours] }
      for (let i = 0; i < (r < 0 ? 500 : per); i++) {
        const c = process.cpuUsage()
        const s = process.hrtime.bigint()
        await model.invoke(input, options)
        const e = process.hrtime.bigint()
        const d = process.cpuUsage(c)
        if (r >= 0) {
          samples[kind].push(Number(e - s) / 1000)
          cpu[kind].push(d.user + d.system)
        }
        await yieldToLoop()
      }
      await awaitAllCallbacks()
    }
  }
  const stats = ours.stats()
  await unpark(ours, hole)
  const q = (kind: keyof typeof samples) => ({
    n: samples[kind].length,
    wallUs: { p50: quantile(samples[kind], 0.5), p99: quantile(samples[kind], 0.99) },
    cpuUs: { p50: quantile(cpu[kind], 0.5), p99: quantile(cpu[kind], 0.99) }
  })
  return { none: q("none"), noop: q("noop"), ours: q("ours"), stats }
}

/**
 * Per message size: (1) the hot path with delivery parked (a handler on its own tracker whose
 * workers wait on a server that never answers), interleaved with no handler, the handler shut down
 * afterwards; (2) delivery with a live tracker: logs/s and MB/s until every log is stored.
 */
const sizes = async () => {
  const live = handlersFor()
  const plan: ReadonlyArray<readonly [string, number, number, number]> = [
    ["1 KB", 1024, 2000, 2000],
    ["100 KB", 100 * 1024, 2000, 400],
    ["2 MB", 2 * 1024 * 1024, 400, 40]
  ]
  const out: Array<Record<string, unknown>> = []
  for (const [label, bytes, inlineN, liveN] of plan) {
    const model = makeModel(bytes)
    const input = makeInput(bytes)
    // (1) parked delivery; a tracker of its own (the tracker options are part of the sharing key)
    const hole = await blackHole()
    const parked = parkedHandler(hole, { rememberRuns: 1000 + bytes })
    const samples = { none: [] as Array<number>, ours: [] as Array<number> }
    for (let r = -1; r < 4; r++) {
      for (const kind of r % 2 === 0 ? (["none", "ours"] as const) : (["ours", "none"] as const)) {
        const options = { callbacks: kind === "none" ? [] : [parked] }
        for (let i = 0; i < (r < 0 ? Math.min(inlineN, 1000) : inlineN / 4); i++) {
          const t = process.hrtime.bigint()
          await model.invoke(input, options)
          if (r >= 0) samples[kind].push(Number(process.hrtime.bigint() - t) / 1000)
          await yieldToLoop()
        }
        await awaitAllCallbacks()
      }
    }
    await unpark(parked, hole)
    // (2) live delivery
    await runBlock("ours", Math.min(20, liveN), model, input, live, newBlock())
    const delivered = newBlock()
    await runBlock("ours", liveN, model, input, live, delivered)
    const s = summary(delivered, liveN)
    out.push({
      label,
      bytes,
      inline: {
        none: { n: samples.none.length, p50: quantile(samples.none, 0.5), p99: quantile(samples.none, 0.99) },
        ours: { n: samples.ours.length, p50: quantile(samples.ours, 0.5), p99: quantile(samples.ours, 0.99) }
      },
      live: {
        n: liveN,
        wallUs: s.wallUs,
        storedMs: s.storedMs,
        logsPerSecond: liveN / (s.storedMs / 1000),
        // input and output of each log
        megabytesPerSecond: (liveN * 2 * bytes) / 2 ** 20 / (s.storedMs / 1000)
      }
    })
  }
  await keepAlive(live.ours.shutdown())
  return out
}

/**
 * Time until `n` logs are stored when the server takes `latencyMs` per call (an emulator latency
 * fault standing in for a WAN round trip): our handler at the default concurrency (8) and at 32,
 * and the naive handler (one call at a time through LangChain's serial callback queue).
 */
const latency = async (latencyMs: number, n: number) => {
  await control("POST", "/emulator/faults", { route: "/log-request", latencyMs })
  const handlers = handlersFor()
  const wide = new PromptLayerCallbackHandler({
    mode: "requests",
    apiKey,
    baseURL: url,
    plTags: ["bench"],
    maxQueued: 200_000,
    concurrency: 32
  })
  const model = makeModel(1024)
  const input = makeInput(1024)
  const ours = newBlock()
  const naive = newBlock()
  const oursWide = newBlock()
  await runBlock("ours", n, model, input, handlers, ours)
  await runBlock("ours", n, model, input, { ...handlers, ours: wide }, oursWide)
  await runBlock("naive", n, model, input, handlers, naive)
  await control("DELETE", "/emulator/faults")
  await keepAlive(Promise.all([handlers.ours.shutdown(), wide.shutdown()]))
  return { latencyMs, n, ours: summary(ours, n), oursWide: summary(oursWide, n), naive: summary(naive, n) }
}

/**
 * What-if: the tracker alone (no LangChain), delivering `n` logs through the client over Node's
 * `fetch` (`PromptLayerHttp.layerFetch`) and over the library's `node:http` HttpClient
 * (`PromptLayerHttp.layerNode`), interleaved.
 */
const transport = async (n: number) => {
  const m = (role: string, content: string) => ({ role, content: [{ type: "text" as const, text: content }] })
  const body = () => ({
    provider: "openai",
    model: "fake-list-chat-model",
    input: { type: "chat" as const, messages: [m("system", "You are a benchmark."), m("user", payload(1024, "q"))] },
    output: { type: "chat" as const, messages: [m("assistant", payload(1024, "answer"))] },
    request_start_time: Date.now(),
    request_end_time: Date.now(),
    tags: ["bench"]
  })
  const once = (http: Layer.Layer<HttpClient.HttpClient>) =>
    Effect.gen(function* () {
      const tracker = yield* PromptLayerTracker.make({ concurrency: 8 })
      for (let i = 0; i < 200; i++) tracker.offer({ build: body })
      yield* tracker.flush
      const c = process.cpuUsage()
      const t0 = performance.now()
      for (let i = 0; i < n; i++) tracker.offer({ build: body })
      yield* tracker.flush
      const cpu = process.cpuUsage(c)
      return { logsPerSecond: n / ((performance.now() - t0) / 1000), cpuUsPerLog: (cpu.user + cpu.system) / n }
    }).pipe(
      Effect.scoped,
      Effect.provide(PromptLayerClient.layerWith({ apiKey, baseUrl: url }).pipe(Layer.provide(http))),
      Effect.runPromise
    )
  type Run = { logsPerSecond: number; cpuUsPerLog: number }
  const runs: { fetch: Array<Run>; node: Array<Run> } = { fetch: [], node: [] }
  for (let r = 0; r < 2; r++) {
    runs.fetch.push(await once(FetchHttpClient.layer))
    await resetEmulator()
    runs.node.push(await once(PromptLayerHttp.layerNode()))
    await resetEmulator()
  }
  const mean = (xs: ReadonlyArray<{ logsPerSecond: number; cpuUsPerLog: number }>) => ({
    logsPerSecond: xs.reduce((a, x) => a + x.logsPerSecond, 0) / xs.length,
    cpuUsPerLog: xs.reduce((a, x) => a + x.cpuUsPerLog, 0) / xs.length
  })
  return { n, fetch: mean(runs.fetch), node: mean(runs.node) }
}

const throughput = async (n: number) => {
  const handlers = handlersFor()
  const model = makeModel(1024)
  const input = makeInput(1024)
  await runBlock("ours", 300, model, input, handlers, newBlock())
  await resetEmulator()
  const options = { callbacks: [handlers.ours] }
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await model.invoke(input, options)
  await awaitAllCallbacks()
  const t1 = performance.now()
  const atLoopEnd = handlers.ours.stats().delivered
  await handlers.ours.flush()
  const t2 = performance.now()
  const stats = handlers.ours.stats()
  const stored = await storedCount()
  await keepAlive(handlers.ours.shutdown())
  const backlog = stats.delivered - atLoopEnd
  return {
    n,
    loopMs: t1 - t0,
    drainMs: t2 - t1,
    backlogDelivered: backlog,
    logsPerSecond: backlog / ((t2 - t1) / 1000),
    overallLogsPerSecond: n / ((t2 - t0) / 1000),
    stored,
    stats
  }
}

const heap = () => {
  gc()
  const m = process.memoryUsage()
  return { heapUsedMB: m.heapUsed / 2 ** 20, rssMB: m.rss / 2 ** 20 }
}

/**
 * Heap before and after `runs` invocations, each chunk of 5000 followed by `flush()`.
 * `http`: the real stack (handler → tracker → client → fetch → emulator).
 * `instant`: the handler and tracker from `PromptLayerCallbackHandler.make`, over a client that
 * answers at once in-process (no HTTP), so that 100 000 runs fit in the time budget.
 */
const memory = async (runs: number, mode: "http" | "instant") => {
  let handler: PromptLayerCallbackHandler
  let release: () => Promise<void>
  if (mode === "http") {
    handler = new PromptLayerCallbackHandler({
      mode: "requests",
      apiKey,
      baseURL: url,
      plTags: ["bench"],
      maxQueued: 200_000
    })
    release = () => handler.shutdown()
  } else {
    let next = 1
    const client = Layer.succeed(PromptLayerClient.PromptLayerClient, {
      logRequest: () => Effect.sync(() => ({ id: next++ }))
    } as unknown as PromptLayerClient.Service)
    const runtime = ManagedRuntime.make(PromptLayerTracker.layer({ maxQueued: 200_000 }).pipe(Layer.provide(client)))
    const scope = Effect.runSync(Scope.make())
    handler = await runtime.runPromise(
      Scope.provide(PromptLayerCallbackHandler.make({ mode: "requests", plTags: ["bench"] }), scope)
    )
    release = async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      await runtime.dispose()
    }
  }
  const model = makeModel(1024)
  const input = makeInput(1024)
  const options = { callbacks: [handler] }
  const chunk = 5000
  for (let i = 0; i < chunk; i++) await model.invoke(input, options)
  await handler.flush()
  if (mode === "http") await resetEmulator()
  const before = heap()
  const samples: Array<{ runs: number; heapUsedMB: number }> = []
  const t0 = performance.now()
  for (let done = 0; done < runs; done += chunk) {
    for (let i = 0; i < chunk; i++) await model.invoke(input, options)
    await handler.flush()
    if (mode === "http") await resetEmulator()
    if ((done + chunk) % (runs / 5) === 0) samples.push({ runs: done + chunk, heapUsedMB: heap().heapUsedMB })
  }
  const elapsedMs = performance.now() - t0
  const after = heap()
  const stats = handler.stats()
  await keepAlive(release())
  return { mode, runs, before, after, growthMB: after.heapUsedMB - before.heapUsedMB, samples, stats, elapsedMs }
}

/**
 * Awaits a promise while holding a ref'd timer: the tracker's timers are unref'd, so a process
 * whose only pending work is a shutdown in retry backoff would otherwise exit before it resolves.
 */
const keepAlive = async <A>(promise: Promise<A>): Promise<A> => {
  const timer = setInterval(() => {}, 1000)
  try {
    return await promise
  } finally {
    clearInterval(timer)
  }
}

const down = async (runs: number, maxQueued: number) => {
  // `url` is a closed port here.
  const ours = new PromptLayerCallbackHandler({
    mode: "requests",
    apiKey,
    baseURL: url,
    plTags: ["bench"],
    maxQueued,
    shutdownTimeout: 1000,
    retry: { maxAttempts: 3, initialDelay: "200 millis" }
  })
  const model = makeModel(1024)
  const input = makeInput(1024)
  const options = { callbacks: [ours] }
  const before = heap()
  const samples: Array<{ runs: number; heapUsedMB: number; queued: number; dropped: number }> = []
  const step = runs / 10
  for (let done = 0; done < runs; done += step) {
    for (let i = 0; i < step; i++) await model.invoke(input, options)
    await awaitAllCallbacks()
    const s = ours.stats()
    samples.push({ runs: done + step, heapUsedMB: heap().heapUsedMB, queued: s.queued, dropped: s.dropped })
  }
  const stats = ours.stats()
  const t0 = performance.now()
  await keepAlive(ours.shutdown())
  const shutdownMs = performance.now() - t0
  return { runs, maxQueued, before, samples, stats, final: ours.stats(), shutdownMs, after: heap() }
}

const main = async () => {
  switch (scenario) {
    case "hotpath":
      return hotpath(Number(args[0] ?? 10_000), Number(args[1] ?? 5))
    case "inline":
      return inline(Number(args[0] ?? 10_000), Number(args[1] ?? 5))
    case "sizes":
      return sizes()
    case "latency":
      return latency(Number(args[0] ?? 20), Number(args[1] ?? 500))
    case "transport":
      return transport(Number(args[0] ?? 3000))
    case "throughput":
      return throughput(Number(args[0] ?? 10_000))
    case "memory":
      return memory(Number(args[0] ?? 100_000), args[1] === "http" ? "http" : "instant")
    case "down":
      return down(Number(args[0] ?? 20_000), Number(args[1] ?? 1000))
    default:
      throw new Error(`unknown scenario ${scenario}`)
  }
}

main().then(
  (result) => {
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
    process.exit(0)
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  }
)

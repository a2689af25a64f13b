/**
 * What a sampled-out call costs on the LLM call's path, and what `keepErrors` holding costs.
 *
 * Hot path: `prompt | model | parser` (1 KB in and out) invoked with no handler, with a traces-mode
 * handler at `sampleRate` 1 (every trace recorded and sent), at 0.01 (99 % sampled out, the hash
 * computed at every root), at 0 (every trace sampled out: only the decision and a map entry per
 * open run), and at 0 with `keepErrors` (every trace recorded
 * and held until its root ends, then discarded). Delivery is parked, as in bench/tracesScenarios.ts:
 * the emulator (in this process, on loopback) delays `/spans-bulk` by 10 minutes, so no delivery
 * work runs between calls. Blocks of `PER` calls per kind, `ROUNDS` times in rotating order, after a
 * warm-up block each; medians of wall and CPU time per invocation, and the handler's own callbacks
 * (their synchronous part, what LangChain waits for) per invocation.
 *
 * Holding: `HELD` traces kept open at once (each root waits at a gate after its chain ran) at
 * `sampleRate` 0 with and without `keepErrors`; the heap difference per trace is what holding one
 * trace of this shape (4 spans, 1 KB in and out) costs.
 *
 * Usage: npx tsx bench/sampling.ts   (about 20 s; loopback only)
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { BaseCallbackHandler } from "@langchain/core/callbacks/base"
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises"
import { RunnableLambda } from "@langchain/core/runnables"
import {
  PromptLayerCallbackHandler,
  type PromptLayerCallbackHandlerOptions
} from "../src/PromptLayerCallbackHandler.js"
import { startEmulator } from "../src/PromptLayerEmulator.js"
import { isRootSampled } from "../src/internal/sampling.js"
import { benchChain, timeOwnCallbacks } from "./support/workload.js"

const PER = 300
const ROUNDS = 12
const WARMUP = 300
const HELD = 2000

v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

const chain = () => benchChain().chain

const emulator = await startEmulator({ port: 0, host: "127.0.0.1", maxStoredBytes: Number.POSITIVE_INFINITY })
await fetch(`${emulator.url}/emulator/faults`, {
  method: "POST",
  headers: { "content-type": "application/json", "x-api-key": emulator.apiKey },
  body: JSON.stringify({ route: "/spans-bulk", latencyMs: 600_000 })
})

let isolation = 0
const handlerWith = (options: PromptLayerCallbackHandlerOptions): PromptLayerCallbackHandler =>
  new PromptLayerCallbackHandler({
    apiKey: emulator.apiKey,
    baseURL: emulator.url,
    maxQueued: 10_000_000 + ++isolation,
    plTags: ["bench"],
    ...options
  })

// -----------------------------------------------------------------------------
// Hot path
// -----------------------------------------------------------------------------

/** A handler that does nothing: LangChain's own cost of dispatching to one handler (and the timing's). */
class NoopHandler extends BaseCallbackHandler {
  name = "NoopHandler"
  override handleChainStart() {}
  override handleChainEnd() {}
  override handleChatModelStart() {}
  override handleLLMEnd() {}
}

const kinds = {
  "no handler": undefined,
  "no-op handler": new NoopHandler(),
  "sampleRate 1": handlerWith({}),
  "sampleRate 0.01": handlerWith({ sampleRate: 0.01 }),
  "sampleRate 0": handlerWith({ sampleRate: 0 }),
  "sampleRate 0, keepErrors": handlerWith({ sampleRate: 0, keepErrors: true })
} as const
type Kind = keyof typeof kinds
const names = Object.keys(kinds) as Array<Kind>
const own = Object.fromEntries(
  names.map((name) => {
    const handler = kinds[name]
    return [name, handler === undefined ? () => 0 : timeOwnCallbacks(handler)]
  })
) as Record<Kind, () => number>
const wall = Object.fromEntries(names.map((name) => [name, [] as Array<number>])) as Record<Kind, Array<number>>
const cpu = Object.fromEntries(names.map((name) => [name, [] as Array<number>])) as Record<Kind, Array<number>>
const runnable = chain()
const { input } = benchChain()
const t0 = performance.now()
for (let r = -1; r < ROUNDS; r++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + Math.max(r, 0)) % names.length]!
    const handler = kinds[name]
    const callbacks = handler === undefined ? [] : [handler]
    for (let i = 0; i < (r < 0 ? WARMUP : PER); i++) {
      const c = process.cpuUsage()
      const s = process.hrtime.bigint()
      await runnable.invoke(input, { callbacks })
      const e = process.hrtime.bigint()
      const d = process.cpuUsage(c)
      if (r >= 0) {
        wall[name].push(Number(e - s) / 1000)
        cpu[name].push(d.user + d.system)
      }
      await yieldToLoop()
    }
    await awaitAllCallbacks()
  }
}
const hotMs = performance.now() - t0

/** The decision alone, as the handler takes it at a root (`isRootSampled`: hash of the root run id's hex digits), ns per trace. */
const decisionNs = (() => {
  const ids = Array.from({ length: 10_000 }, () => crypto.randomUUID())
  let kept = 0
  const s = process.hrtime.bigint()
  for (let r = 0; r < 20; r++) for (const id of ids) if (isRootSampled(id, 0.1)) kept++
  const ns = Number(process.hrtime.bigint() - s) / (20 * ids.length)
  if (kept === 0) throw new Error("no trace kept at rate 0.1")
  return ns
})()

// -----------------------------------------------------------------------------
// Holding (keepErrors)
// -----------------------------------------------------------------------------

/** Heap growth (bytes) per trace with `HELD` traces open at once, each root waiting after its chain ran. */
const heapPerOpenTrace = async (handler: PromptLayerCallbackHandler) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const inner = chain()
  const root = RunnableLambda.from(async (q: typeof input, config) => {
    const answer = await inner.invoke(q, config)
    await gate
    return answer
  }).withConfig({ runName: "root" })
  await awaitAllCallbacks()
  gc()
  const before = process.memoryUsage().heapUsed
  const running = Array.from({ length: HELD }, () => root.invoke(input, { callbacks: [handler] }))
  // Every chain ran and every root is waiting at the gate once the callbacks are drained.
  for (let i = 0; i < 20; i++) {
    await yieldToLoop()
    await awaitAllCallbacks()
  }
  gc()
  const after = process.memoryUsage().heapUsed
  const held = handler.stats()
  release()
  await Promise.all(running)
  await awaitAllCallbacks()
  return { perTrace: (after - before) / HELD, heldTraces: held.heldTraces, heldSpans: held.heldSpans }
}

const withoutHold = await heapPerOpenTrace(handlerWith({ sampleRate: 0 }))
const holding = handlerWith({ sampleRate: 0, keepErrors: true, maxHeldTraces: HELD, maxHeldSpans: HELD * 10 })
const withHold = await heapPerOpenTrace(holding)
const afterHold = holding.stats()

// -----------------------------------------------------------------------------
// Report
// -----------------------------------------------------------------------------

const base = { wall: median(wall["no handler"]), cpu: median(cpu["no handler"]) }
const fmt = (n: number) => n.toFixed(1)
const cpus = os.cpus()
const lines = [
  `## Sampling: the hot path of a sampled-out call (${new Date().toISOString()})`,
  "",
  `Machine: ${cpus[0]?.model ?? "?"} × ${cpus.length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `Node ${process.version}, ${os.platform()} ${os.release()}, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  `Workload: prompt | model | parser, 1 KB in and out, traces mode, delivery parked (/spans-bulk delayed 10 min); ` +
    `${PER * ROUNDS} invocations per kind in ${ROUNDS} rotating blocks after ${WARMUP} warm-up ones (${(hotMs / 1000).toFixed(1)} s).`,
  "",
  "| kind | wall µs / invoke (median) | extra wall µs vs no handler | CPU µs / invoke (median) | extra CPU µs | handler callbacks µs / invoke |",
  "|---|---:|---:|---:|---:|---:|",
  ...names.map((name) => {
    const w = median(wall[name])
    const c = median(cpu[name])
    const ownUs = own[name]() / (PER * ROUNDS + WARMUP)
    return `| ${name} | ${fmt(w)} | ${fmt(w - base.wall)} | ${fmt(c)} | ${fmt(c - base.cpu)} | ${fmt(ownUs)} |`
  }),
  "",
  `The decision alone (hash of the root run id, compare), at rate 0.1: ${decisionNs.toFixed(0)} ns per trace.`,
  "",
  `## keepErrors: holding (${HELD} traces open at once, sampleRate 0, each 4 spans, 1 KB in and out)`,
  "",
  "| | heap bytes per open trace | held traces | held spans |",
  "|---|---:|---:|---:|",
  `| sampleRate 0 | ${Math.round(withoutHold.perTrace)} | ${withoutHold.heldTraces} | ${withoutHold.heldSpans} |`,
  `| sampleRate 0, keepErrors | ${Math.round(withHold.perTrace)} | ${withHold.heldTraces} | ${withHold.heldSpans} |`,
  `| holding one trace costs | ${Math.round(withHold.perTrace - withoutHold.perTrace)} | | |`,
  "",
  `After the roots ended: held traces ${afterHold.heldTraces}, held spans ${afterHold.heldSpans}, ` +
    `sampled-out traces ${afterHold.sampledOutTraces}, sent for an error ${afterHold.keptErrorTraces}.`
]
process.stdout.write(`${lines.join("\n")}\n`)
fs.writeFileSync(
  new URL("./RESULTS-sampling.md", import.meta.url),
  `# Sampling: bench/sampling.ts\n\n${lines.join("\n")}\n`
)

for (const handler of Object.values(kinds)) {
  if (handler instanceof PromptLayerCallbackHandler) void handler.shutdown()
}
await emulator.close()
process.exit(0)

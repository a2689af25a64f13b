/**
 * The shapes of the traces benchmark's results: what the arms of bench/tracesScenarios.ts print and
 * what bench/traces.ts gathers for bench/support/tracesReport.ts.
 */
import type { Outcome } from "./children.js"
import type { topFrames } from "./profile.js"

/** What a delivery arm plugs into LangChain. */
export type Kind = "none" | "traces" | "requests" | "naive" | "langsmith"

export interface Quantiles {
  readonly p50: number
  readonly p99: number
}

/** Event-loop delay percentiles in ms, and the histogram's sample count. */
export interface Delay {
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly samples: number
}

/** One delivery arm: `n` invocations, then until every log is stored. */
export interface Deliver {
  readonly kind: Kind
  /** Invocations made (fewer than `planned` when the loop's time box ran out). */
  readonly n: number
  readonly planned: number
  /** Process CPU (user + system, all threads) from the first call until every log is stored, µs. */
  readonly cpuUs: number
  readonly cpuUserUs: number
  readonly loopMs: number
  readonly drainMs: number
  /** From the first call until every log is stored. */
  readonly storedMs: number
  readonly wallUs: Quantiles
  readonly delay: { readonly loop: Delay; readonly whole: Delay }
  /** GC pauses during the measured run (PerformanceObserver "gc" entries), ms. */
  readonly gc: {
    readonly pauses: number
    readonly totalMs: number
    readonly p50Ms: number
    readonly maxMs: number
    readonly atLeast4Ms: number
  }
  /** Model logs the server held right after the drain, and after up to 5 s more. */
  readonly storedAtDrain: number
  readonly stored: number
  /** Spans (ours) or runs (LangSmith) stored, all run types. */
  readonly storedRuns: number
  readonly stats: Record<string, number>
  /** Non-loopback addresses the arm's process connected to (must be empty). */
  readonly outside: ReadonlyArray<string>
}

export interface HotpathKind {
  readonly n: number
  readonly wallUs: Quantiles
  readonly cpuUs: Quantiles
}

export interface Hotpath {
  readonly per: number
  readonly planned: number
  readonly rounds: number
  readonly none: HotpathKind
  readonly noop: HotpathKind
  readonly traces: HotpathKind
  /** Traces mode with every span dropped unbuilt: the callbacks and run tree without the span pipeline. */
  readonly tracesCallbacks: HotpathKind
  readonly requests: HotpathKind
  /** The handlers' own callbacks until they return, per invocation (warm-up included), µs. */
  readonly ownUs: { readonly traces: number; readonly tracesCallbacks: number; readonly requests: number }
  readonly tracesStats: Record<string, number>
  readonly requestsStats: Record<string, number>
  readonly outside: ReadonlyArray<string>
}

export interface Heap {
  readonly planned: number
  readonly runs: number
  readonly chunk: number
  readonly beforeMB: number
  readonly afterMB: number
  readonly growthMB: number
  readonly samples: ReadonlyArray<{ readonly runs: number; readonly heapUsedMB: number }>
  readonly stats: Record<string, number>
  readonly batches: number
  readonly spanBytes: number
  readonly elapsedMs: number
  readonly outside: ReadonlyArray<string>
}

/** autocannon against the emulator's `/spans-bulk` with a real body of the tracker. */
export interface Capacity {
  readonly requestsPerSecond: number
  readonly total: number
  readonly spansPerBody: number
  readonly modelSpansPerBody: number
  readonly bodyBytes: number
  readonly latencyP50Ms: number
  readonly latencyP99Ms: number
  readonly non2xx: number
  readonly errors: number
  readonly seconds: number
}

/** Inclusive CPU shares of the profiled traces arm and of the emulator serving it. */
export interface Profile {
  readonly n: number
  readonly dir: string
  readonly app: Record<string, number>
  readonly appTop: ReturnType<typeof topFrames>
  readonly emulator: Record<string, number>
  readonly emulatorTop: ReturnType<typeof topFrames>
}

/** Everything one run of `npm run bench:traces` measured. */
export interface Run {
  readonly env: {
    readonly node: string
    readonly cpu: string
    readonly cores: number
    readonly platform: string
    readonly memoryGB: number
    readonly loadavgStart: ReadonlyArray<number>
    readonly loadavgEnd: ReadonlyArray<number>
    readonly date: string
  }
  readonly elapsedS: number
  readonly planned: { readonly n: number; readonly heapRuns: number; readonly budgetS: number }
  readonly capture: { readonly spans: number } | { readonly error: string }
  readonly capacity: Capacity | string
  readonly deliveries: Partial<Record<Kind, Outcome<Deliver>>>
  readonly hotpath: Outcome<Hotpath>
  readonly heap: Outcome<Heap>
  readonly profile: Profile | string
}

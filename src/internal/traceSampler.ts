/**
 * The handler's sampling state: which runs belong to a sampled-out trace, and (with `keepErrors`)
 * the spans of sampled-out traces held until their root ends.
 *
 * The decision ({@link isSampled}) is taken once per trace, when its root run starts, from the
 * trace id (the root run's UUID). Then:
 *
 * - **without `keepErrors`**, the root and every run under it are only noted as sampled out while
 *   they are open (one entry of a bounded map per open run, removed at its end, so that their
 *   children and ends are recognised), and each sampled-out model call's id is remembered (bounded
 *   by `maxRuns`) so that `requestIdFor` can answer; the handler records nothing else for them, no
 *   span is built, nothing is sent. A run that starts under one that already ended (LangChain does
 *   not do that) is decided as a root of its own;
 * - **with `keepErrors`**, the trace is recorded as usual, but its spans are held here instead of
 *   being offered to the tracker. When a run of it fails, the held spans (and the later ones) are
 *   offered; when its root ends without a failure, they are discarded. Held traces and held spans
 *   are bounded (`maxHeldTraces`, `maxHeldSpans`): a sampled-out trace that cannot be held is dropped
 *   as without `keepErrors`, and a held trace that would overflow the spans bound is given up (its
 *   spans discarded), both counted in `sampledOutUnheld`.
 *
 * In requests mode (no spans, one log per model call), a model call is kept or dropped with the
 * trace of its topmost run this handler saw (chains, tools and retrievers are noted as lineage), so
 * the calls of one chain are kept together, as in traces mode; `keepErrors` keeps the failed calls.
 *
 * @internal
 */
import type * as PromptLayerTracker from "../PromptLayerTracker.js"
import { RecentMap } from "./recentMap.js"
import { traceIdOf } from "./runTree.js"
import { isRootSampled, sampleRateOption } from "./sampling.js"

/**
 * The sampling counters, part of `handler.stats()`.
 *
 * @since 0.2.0
 * @category Models
 */
export interface SamplingStats {
  /** Traces sampled out at their root (in requests mode: model calls whose trace was sampled out). */
  readonly sampledOutTraces: number
  /** Model request logs (one per prompt) not sent because their trace was sampled out. */
  readonly sampledOutModelCalls: number
  /** Sampled-out traces (requests mode: model calls) sent anyway because a run in them failed (`keepErrors`). */
  readonly keptErrorTraces: number
  /** Sampled-out traces `keepErrors` could not hold (bounds reached): dropped without looking for errors. */
  readonly sampledOutUnheld: number
  /** Sampled-out traces held now (`keepErrors`). */
  readonly heldTraces: number
  /** Spans held now (`keepErrors`). */
  readonly heldSpans: number
}

/** Options of {@link TraceSampler}. */
export interface TraceSamplerOptions {
  readonly rate: number
  readonly keepErrors: boolean
  readonly maxHeldTraces: number
  readonly maxHeldSpans: number
  /** Sampled-out run ids remembered (open and recently ended), and lineage entries in requests mode. */
  readonly maxRuns: number
  /** Whether a run is known to the run tree (open or recently ended): a start under it is not a root. */
  readonly knows: (runId: string) => boolean
  /** Offers a released span to the tracker. */
  readonly send: (event: PromptLayerTracker.SpanTrackEvent) => void
}

interface HeldTrace {
  readonly root: string
  spans: Array<PromptLayerTracker.SpanTrackEvent>
  failed: boolean
  givenUp: boolean
}

/** The sampling state of one handler; undefined when `sampleRate` is 1. */
export class TraceSampler {
  /**
   * Sampled-out runs open now (not recorded): small, entries leave at the run's end; beyond
   * `maxRuns` (runs that never end), the oldest is forgotten. A plain Map: a {@link RecentMap}
   * pays for its deletes, and this one deletes on every end.
   */
  private readonly dropped = new Map<string, true>()
  private readonly held = new Map<string, HeldTrace>()
  /** Traces held and discarded at their root's end: a late span of one is discarded too. */
  private readonly discarded: RecentMap<string, true>
  /** Model runs whose log was not sent: sampled out, or in a discarded held trace (`requestIdFor`). */
  private readonly unsentModels: RecentMap<string, true>
  /** Requests mode: each non-model run's topmost known ancestor (its trace's root). */
  private readonly lineage: RecentMap<string, string>
  private readonly counters = {
    sampledOutTraces: 0,
    sampledOutModelCalls: 0,
    keptErrorTraces: 0,
    sampledOutUnheld: 0
  }
  private spansHeld = 0
  /** `requestIdFor` waiters of model runs whose log may yet be discarded with their held trace. */
  private readonly unsentWaiters = new Map<string, Array<() => void>>()

  constructor(readonly options: TraceSamplerOptions) {
    this.discarded = new RecentMap(Math.min(options.maxRuns, 10_000))
    this.unsentModels = new RecentMap(options.maxRuns)
    this.lineage = new RecentMap(options.maxRuns)
  }

  /** The counters now. */
  stats(): SamplingStats {
    return { ...this.counters, heldTraces: this.held.size, heldSpans: this.spansHeld }
  }

  /** Whether `runId` is an open run of a sampled-out trace that is not recorded (its events are ignored). */
  drops(runId: string): boolean {
    return this.dropped.has(runId)
  }

  /** A run ended: `true` if it was an open run of a sampled-out trace (the end is ignored), now forgotten. */
  dropEnd(runId: string): boolean {
    return this.dropped.delete(runId)
  }

  /**
   * Calls `notify` once if the log of model run `runId` turns out not to be sent (its held trace is
   * discarded); returns a function that cancels it.
   */
  onUnsent(runId: string, notify: () => void): () => void {
    const waiters = this.unsentWaiters.get(runId) ?? []
    waiters.push(notify)
    this.unsentWaiters.set(runId, waiters)
    return () => {
      const now = this.unsentWaiters.get(runId)
      const i = now?.indexOf(notify) ?? -1
      if (now === undefined || i < 0) return
      now.splice(i, 1)
      if (now.length === 0) this.unsentWaiters.delete(runId)
    }
  }

  /** Whether the log of model run `runId` was not sent because its trace was sampled out (`requestIdFor`). */
  unsent(runId: string): boolean {
    return this.unsentModels.has(runId) || this.dropped.has(runId)
  }

  /**
   * Traces mode, on a run's start: `true` if the run belongs to a sampled-out trace and must not be
   * recorded. Decides at a root (a run whose parent the tree does not know); `models` is the number
   * of request logs the run would give (prompts of a model run, 0 for others).
   */
  dropStart(runId: string, parentRunId: string | undefined, models: number): boolean {
    if (this.dropped.has(runId)) return true
    if (parentRunId !== undefined) {
      if (this.dropped.has(parentRunId)) {
        this.dropRun(runId, models)
        return true
      }
      if (this.options.knows(parentRunId)) return false
    }
    // A second start of a recorded run (another handler instance on the same tree, or a duplicate callback).
    if (this.options.keepErrors && this.options.knows(runId)) return false
    if (isRootSampled(runId, this.options.rate)) return false
    this.counters.sampledOutTraces++
    if (this.options.keepErrors) {
      if (this.held.size < this.options.maxHeldTraces) {
        this.held.set(traceIdOf(runId), { root: runId, spans: [], failed: false, givenUp: false })
        return false
      }
      this.counters.sampledOutUnheld++
    }
    this.dropRun(runId, models)
    return true
  }

  /**
   * Traces mode, a span the recorder emits: `true` if it is taken (held, or discarded with its
   * trace); `false` to offer it to the tracker as usual.
   */
  hold(event: PromptLayerTracker.SpanTrackEvent, traceId: string): boolean {
    const trace = this.held.get(traceId)
    if (trace === undefined) {
      if (!this.discarded.has(traceId)) return false
      if (event.runId !== undefined) this.discardModel(event.runId)
      return true
    }
    if (trace.failed) return false
    if (trace.givenUp) {
      if (event.runId !== undefined) this.discardModel(event.runId)
      return true
    }
    if (this.spansHeld >= this.options.maxHeldSpans) {
      this.giveUp(trace)
      if (event.runId !== undefined) this.discardModel(event.runId)
      return true
    }
    trace.spans.push(event)
    this.spansHeld++
    return true
  }

  /**
   * Traces mode, a run closed (after its span, if any, was emitted): a failure releases its held
   * trace; the root's end discards a trace that had none.
   */
  closed(runId: string, traceId: string, failed: boolean): void {
    const trace = this.held.get(traceId)
    if (trace === undefined) return
    if (failed && !trace.failed && !trace.givenUp) {
      trace.failed = true
      this.counters.keptErrorTraces++
      const spans = trace.spans
      trace.spans = []
      this.spansHeld -= spans.length
      for (const span of spans) this.options.send(span)
    }
    if (runId !== trace.root) return
    this.held.delete(traceId)
    if (!trace.failed) {
      this.discard(trace)
      this.discarded.set(traceId, true)
    }
  }

  /**
   * Requests mode, a chain, tool or retriever started: notes the root of its trace, so that the model
   * calls under it are decided with the same trace.
   */
  noteRun(runId: string, parentRunId: string | undefined): void {
    const root = parentRunId === undefined ? undefined : this.lineage.get(parentRunId)
    this.lineage.set(runId, root ?? runId)
  }

  /**
   * Requests mode, a model call started: `"keep"`, `"drop"` (not recorded; its end is ignored) or,
   * with `keepErrors`, `"hold"` (recorded, logged only if it fails: see {@link heldEnded}).
   */
  modelStart(runId: string, parentRunId: string | undefined, prompts: number): "keep" | "drop" | "hold" {
    const root = (parentRunId === undefined ? undefined : this.lineage.get(parentRunId)) ?? runId
    if (isRootSampled(root, this.options.rate)) return "keep"
    this.counters.sampledOutTraces++
    if (this.options.keepErrors) return "hold"
    this.dropRun(runId, prompts)
    return "drop"
  }

  /** Requests mode, a held model call ended (or was abandoned): `true` (log it) if it failed. */
  heldEnded(runId: string, failed: boolean, prompts: number): boolean {
    if (failed) {
      this.counters.keptErrorTraces++
    } else {
      this.counters.sampledOutModelCalls += prompts
      this.markUnsent(runId)
    }
    return failed
  }

  private dropRun(runId: string, models: number): void {
    this.dropped.set(runId, true)
    if (this.dropped.size > this.options.maxRuns) {
      const oldest = this.dropped.keys().next()
      if (!oldest.done) this.dropped.delete(oldest.value)
    }
    if (models === 0) return
    this.counters.sampledOutModelCalls += models
    this.markUnsent(runId)
  }

  private markUnsent(runId: string): void {
    this.unsentModels.set(runId, true)
    const waiters = this.unsentWaiters.get(runId)
    if (waiters === undefined) return
    this.unsentWaiters.delete(runId)
    for (const notify of waiters) notify()
  }

  private discardModel(runId: string): void {
    this.counters.sampledOutModelCalls++
    this.markUnsent(runId)
  }

  private giveUp(trace: HeldTrace): void {
    trace.givenUp = true
    this.counters.sampledOutUnheld++
    this.discard(trace)
  }

  private discard(trace: HeldTrace): void {
    for (const span of trace.spans) if (span.runId !== undefined) this.discardModel(span.runId)
    this.spansHeld -= trace.spans.length
    trace.spans = []
  }
}

/** The handler's sampling options, checked. */
export interface SamplingOptions {
  readonly rate: number
  readonly keepErrors: boolean
  readonly maxHeldTraces: number
  readonly maxHeldSpans: number
}

const positiveInteger = (name: string, value: unknown, fallback: number): number => {
  if (value === undefined) return fallback
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new Error(`PromptLayerCallbackHandler: ${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}

/**
 * The handler's `sampleRate`, `keepErrors`, `maxHeldTraces` and `maxHeldSpans`, checked (a bad one
 * throws, naming it) with their defaults: 1, false, 1000, 10 000.
 */
export const samplingOptionsOf = (options: {
  readonly sampleRate?: unknown
  readonly keepErrors?: unknown
  readonly maxHeldTraces?: unknown
  readonly maxHeldSpans?: unknown
}): SamplingOptions => {
  const keepErrors = options.keepErrors ?? false
  if (typeof keepErrors !== "boolean") {
    throw new Error(`PromptLayerCallbackHandler: keepErrors must be a boolean, got ${String(keepErrors)}`)
  }
  return {
    rate: sampleRateOption(options.sampleRate),
    keepErrors,
    maxHeldTraces: positiveInteger("maxHeldTraces", options.maxHeldTraces, 1000),
    maxHeldSpans: positiveInteger("maxHeldSpans", options.maxHeldSpans, 10_000)
  }
}

/** The sampler for these options; undefined at rate 1 (nothing to decide, nothing to pay). */
export const makeSampler = (
  options: SamplingOptions,
  context: Pick<TraceSamplerOptions, "maxRuns" | "knows" | "send">
): TraceSampler | undefined => (options.rate >= 1 ? undefined : new TraceSampler({ ...options, ...context }))

const noSampling: SamplingStats = {
  sampledOutTraces: 0,
  sampledOutModelCalls: 0,
  keptErrorTraces: 0,
  sampledOutUnheld: 0,
  heldTraces: 0,
  heldSpans: 0
}

/** A sampler's counters; zeros without one. */
export const samplingStatsOf = (sampler: TraceSampler | undefined): SamplingStats =>
  sampler === undefined ? noSampling : sampler.stats()

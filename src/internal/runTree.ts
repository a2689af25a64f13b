/**
 * The callback state machine of the traces mode: the open runs of a handler keyed by run id, with
 * the trace and span ids of each, hidden runs (`langsmith:hidden`) resolved to their nearest visible
 * ancestor, duplicate starts and ends ignored, and runs that never end (an abandoned stream) evicted
 * by idle time or count so that nothing grows without bound.
 *
 * Ids: a trace is identified by its **root run's UUID** (32 hex digits, dashes removed), so a caller
 * who presets `config.runId` knows the trace id; a span id is 16 hex digits hashed from the run id,
 * re-hashed on the (improbable) collision with another span of the same trace, so two runs of one
 * trace never share one. A run whose parent this handler never saw starts a trace of its own.
 *
 * @internal
 */

import { RecentMap } from "./recentMap.js"

/** The tag LangChain puts on its internal runs; they get no span, their children attach above them. */
export const HIDDEN_TAG = "langsmith:hidden"

/** A span event (agent action, agent finish, custom event), as sent: OTel's `{ name, timestamp, attributes }`. */
export interface SpanEvent {
  readonly name: string
  readonly timestamp: string
  readonly attributes: Readonly<Record<string, unknown>>
}

/** An open run. `data` is the handler's own state for it (what the span is built from). */
export interface Run<D> {
  readonly runId: string
  readonly parentRunId: string | undefined
  readonly traceId: string
  /** This run's span id (a hidden run has one too, but no span is sent for it). */
  readonly spanId: string
  /** The span id of the nearest visible ancestor; null for a root span. */
  readonly parentSpanId: string | null
  readonly hidden: boolean
  readonly data: D
  events: Array<SpanEvent> | undefined
  lastSeen: number
}

interface Ended {
  readonly traceId: string
  /** The span id children attach to: the run's own, or its visible ancestor's for a hidden run. */
  readonly visibleSpanId: string | null
}

interface TraceState {
  open: number
  readonly spanIds: Set<string>
}

const hexDigits = /^[0-9a-f]{32}$/

/** MurmurHash3's 32-bit finalizer: mixes every input bit into every output bit. */
export const fmix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const hex8 = (n: number): string => n.toString(16).padStart(8, "0")

/** 16 hex digits hashed from a text (never all zeros: OTel's invalid span id): two seeded FNV-1a hashes, one pass. */
export const spanIdOf = (text: string): string => {
  let a = (0x811c9dc5 ^ 0x9e3779b9) >>> 0
  let b = (0x811c9dc5 ^ 0x7f4a7c15) >>> 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x01000193)
  }
  const id = hex8(fmix(a)) + hex8(fmix(b))
  return id === "0000000000000000" ? spanIdOf(`${text}#`) : id
}

/** The trace id of a root run: its UUID as 32 lowercase hex digits; a hash for a run id that is not a UUID. */
export const traceIdOf = (runId: string): string => {
  const compact = runId.replaceAll("-", "").toLowerCase()
  if (hexDigits.test(compact) && compact !== "0".repeat(32)) return compact
  return spanIdOf(runId) + spanIdOf(`trace:${runId}`)
}

/** Options of {@link RunTree}. */
export interface RunTreeOptions {
  /** Open runs at most; beyond, the least recently started is evicted. */
  readonly maxRuns: number
  /** Ended runs remembered (for late children and `traceIdFor`). */
  readonly rememberEnded: number
}

/** What {@link RunTree.start} did. */
export type StartResult<D> = { readonly _tag: "started"; readonly run: Run<D> } | { readonly _tag: "duplicate" }

/**
 * The open runs of one handler. Not thread-safe and not meant to be: LangChain delivers callbacks
 * on one thread.
 */
export class RunTree<D> {
  private readonly runs = new Map<string, Run<D>>()
  private readonly ended: RecentMap<string, Ended>
  private readonly traces = new Map<string, TraceState>()

  constructor(readonly options: RunTreeOptions) {
    this.ended = new RecentMap(options.rememberEnded)
  }

  /** Open runs. */
  get size(): number {
    return this.runs.size
  }

  get(runId: string): Run<D> | undefined {
    return this.runs.get(runId)
  }

  /** Every open run, oldest first. */
  open(): ReadonlyArray<Run<D>> {
    return [...this.runs.values()]
  }

  /**
   * Opens a run. A second start of an open or ended run is a duplicate (LangChain may deliver
   * callbacks twice in nested graphs) and changes nothing.
   */
  start(runId: string, parentRunId: string | undefined, hidden: boolean, data: D, now: number): StartResult<D> {
    if (this.runs.has(runId) || this.ended.has(runId)) return { _tag: "duplicate" }
    const parent = parentRunId === undefined ? undefined : this.runs.get(parentRunId)
    const parentEnded = parentRunId === undefined || parent !== undefined ? undefined : this.ended.get(parentRunId)
    let traceId: string
    let parentSpanId: string | null
    if (parent !== undefined) {
      traceId = parent.traceId
      parentSpanId = parent.hidden ? parent.parentSpanId : parent.spanId
    } else if (parentEnded !== undefined) {
      traceId = parentEnded.traceId
      parentSpanId = parentEnded.visibleSpanId
    } else {
      traceId = traceIdOf(runId)
      parentSpanId = null
    }
    const trace = this.traceState(traceId)
    let spanId = spanIdOf(runId)
    for (let k = 1; trace.spanIds.has(spanId); k++) spanId = spanIdOf(`${runId}#${k}`)
    trace.spanIds.add(spanId)
    trace.open++
    const run: Run<D> = {
      runId,
      parentRunId,
      traceId,
      spanId,
      parentSpanId,
      hidden,
      data,
      events: undefined,
      lastSeen: now
    }
    this.runs.set(runId, run)
    return { _tag: "started", run }
  }

  /** Notes activity on a run (a streamed token); returns it if open. */
  touch(runId: string, now: number): Run<D> | undefined {
    const run = this.runs.get(runId)
    if (run !== undefined) run.lastSeen = now
    return run
  }

  /** Closes a run and returns it; undefined for a run not open (unknown, ended, evicted): a duplicate end. */
  end(runId: string): Run<D> | undefined {
    const run = this.runs.get(runId)
    if (run === undefined) return undefined
    this.runs.delete(runId)
    this.remember(run)
    const trace = this.traces.get(run.traceId)
    if (trace !== undefined && --trace.open <= 0) this.traces.delete(run.traceId)
    return run
  }

  /**
   * Adds an event to a run's span, or to its nearest visible open ancestor's for a hidden run.
   * Returns false when no open span could take it.
   */
  addEvent(runId: string, event: SpanEvent, now: number): boolean {
    let run = this.runs.get(runId)
    while (run?.hidden) {
      run = run.parentRunId === undefined ? undefined : this.runs.get(run.parentRunId)
    }
    if (run === undefined) return false
    run.lastSeen = now
    if (run.events === undefined) run.events = []
    run.events.push(event)
    return true
  }

  /** The trace id of an open or recently ended run. */
  traceIdFor(runId: string): string | undefined {
    return this.runs.get(runId)?.traceId ?? this.ended.get(runId)?.traceId
  }

  /** Runs idle for `ttl` ms or more, closed and returned (oldest first). */
  expire(now: number, ttl: number): ReadonlyArray<Run<D>> {
    const expired: Array<Run<D>> = []
    for (const run of this.runs.values()) if (now - run.lastSeen >= ttl) expired.push(run)
    for (const run of expired) this.end(run.runId)
    return expired
  }

  /** Runs over `maxRuns`, least recently started first, closed and returned. */
  overflow(): ReadonlyArray<Run<D>> {
    const evicted: Array<Run<D>> = []
    while (this.runs.size > this.options.maxRuns) {
      const oldest = this.runs.values().next()
      if (oldest.done) break
      evicted.push(oldest.value)
      this.end(oldest.value.runId)
    }
    return evicted
  }

  /** Every open run (that `which` selects), closed and returned (shutdown). */
  closeAll(which: (run: Run<D>) => boolean = () => true): ReadonlyArray<Run<D>> {
    const all = [...this.runs.values()].filter(which)
    for (const run of all) this.end(run.runId)
    return all
  }

  private traceState(traceId: string): TraceState {
    let trace = this.traces.get(traceId)
    if (trace === undefined) {
      trace = { open: 0, spanIds: new Set() }
      this.traces.set(traceId, trace)
    }
    return trace
  }

  private remember(run: Run<D>): void {
    this.ended.set(run.runId, { traceId: run.traceId, visibleSpanId: run.hidden ? run.parentSpanId : run.spanId })
  }
}

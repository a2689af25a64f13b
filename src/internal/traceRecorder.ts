/**
 * The traces mode of the handler: LangChain callbacks in, spans out. Each callback records a few
 * references (and a bounded snapshot of mutable inputs) in the {@link RunTree}; when a run ends, an
 * event whose `build` makes the span is handed to the tracker, which builds, batches and sends it
 * in the background. Nothing here waits, and nothing is serialized on the callback's path.
 *
 * Model runs become CLIENT spans carrying the request log (`log_request`, the blueprint the requests
 * mode sends to `/log-request`); chains, tools and retrievers become INTERNAL spans with their
 * inputs, outputs, tags and metadata as attributes; agent actions, agent finishes and custom events
 * become span events.
 *
 * @internal
 */
import type * as PromptLayerClient from "../PromptLayerClient.js"
import type * as PromptLayerTracker from "../PromptLayerTracker.js"
import type * as S from "../PromptLayerSchema.js"
import * as Blueprint from "./blueprint.js"
import { HIDDEN_TAG, type Run, RunTree, spanIdOf, traceIdOf } from "./runTree.js"
import { encodeTrusted, type TrustedSpanJob } from "./spanDelivery.js"
import * as SpanMapper from "./spanMapper.js"

/** A model run's start, as the blueprint needs it (per prompt: `input`, `promptIndex` and `runId` are added at the end). */
export type ModelStart = Omit<Blueprint.RunStart, "input" | "promptIndex" | "runId">

/** The model part of a run: its start and its prompts (one per prompt of the callback). */
export interface ModelData {
  readonly start: ModelStart
  readonly inputs: ReadonlyArray<ReadonlyArray<unknown> | string>
  firstTokenAt: number | undefined
}

/** What the run tree holds per run: its start, and the recorder (handler) that opened it and emits its span. */
export interface RunData {
  readonly info: SpanMapper.RunInfo
  readonly model: ModelData | undefined
  readonly owner: TraceRecorder
}

const trees = new WeakMap<object, RunTree<RunData>>()

/**
 * The run tree shared by every handler delivering to one tracker (`key`): a run started by one
 * handler instance and ended by another (two instances attached to the same call, or one built per
 * call) is one span, and a child finds its parent whichever instance saw it.
 */
export const treeFor = (key: object, maxRuns: number): RunTree<RunData> => {
  let tree = trees.get(key)
  if (tree === undefined) {
    tree = new RunTree({ maxRuns, rememberEnded: maxRuns })
    trees.set(key, tree)
  }
  return tree
}

/** Counters the recorder shares with its handler. */
export interface RecorderCounters {
  duplicates: number
  evicted: number
}

/** Options of {@link TraceRecorder}. */
export interface RecorderOptions {
  readonly source: string
  readonly plTags: ReadonlyArray<string>
  readonly maxRuns: number
  readonly runTtl: number
  readonly logAbandonedRuns: boolean
  readonly now: () => number
  readonly resource: S.SpanInput["resource"]
  readonly counters: RecorderCounters
  /** Hands a span (of the trace `traceId`) to the live tracker. */
  readonly offer: (event: PromptLayerTracker.SpanTrackEvent, traceId: string) => void
  /** Told of every run that closes (ended, failed or abandoned), after its span, if any, was offered (sampling). */
  readonly onClosed?: ((runId: string, traceId: string, failed: boolean) => void) | undefined
  readonly onDelivered: ((log: PromptLayerTracker.DeliveredLog) => unknown) | undefined
  /** Told when the recorder gets its first open run, and when it has none left (shutdown registries). */
  readonly onActive: (active: boolean) => void
  /** The run tree to use ({@link treeFor} of the tracker); `starting` when a run is about to open. */
  readonly tree: (starting: boolean) => RunTree<RunData>
  /** Called when a root run (one that started its trace) ends: `deliverOnRootEnd`. */
  readonly onRootEnd?: (() => void) | undefined
}

/** The LLM end of a model run. */
export interface ModelEnd {
  readonly generations: ReadonlyArray<ReadonlyArray<unknown>>
  readonly llmOutput: Record<string, unknown> | undefined
  readonly cached: boolean
}

/** The callback state of one handler in traces mode. */
export class TraceRecorder {
  private lastSweep = 0
  private open = 0

  constructor(readonly options: RecorderOptions) {}

  /** Open runs this recorder started. */
  get size(): number {
    return this.open
  }

  /** The trace id of an open or recently ended run. */
  traceIdFor(runId: string): string | undefined {
    return this.options.tree(false).traceIdFor(runId)
  }

  /** Opens a run (a duplicate start is counted and ignored). */
  start(runId: string, parentRunId: string | undefined, info: SpanMapper.RunInfo, model?: ModelData): void {
    const now = info.startedAt
    this.sweep(false)
    const tree = this.options.tree(true)
    // Tags are inherited: a model, tool or retriever under a hidden chain carries the tag too, yet is
    // real work. Only chains (LangChain's and LangGraph's plumbing) are hidden.
    const hidden = info.kind === "chain" && info.tags.includes(HIDDEN_TAG)
    const result = tree.start(runId, parentRunId, hidden, { info, model, owner: this }, now)
    if (result._tag === "duplicate") {
      this.options.counters.duplicates++
      return
    }
    if (this.open++ === 0) this.options.onActive(true)
    if (tree.size <= this.options.maxRuns) return
    for (const run of tree.overflow()) run.data.owner.abandon(run, `more than ${this.options.maxRuns} runs in progress`)
  }

  /** A streamed token: activity, and the time to first token of a model run. */
  token(runId: string): void {
    const now = this.options.now()
    const run = this.options.tree(false).touch(runId, now)
    if (run?.data.model !== undefined && run.data.model.firstTokenAt === undefined) run.data.model.firstTokenAt = now
  }

  /** A chain, tool or retriever ended with `outputs`. */
  end(runId: string, outputs: unknown): void {
    const run = this.close(runId)
    if (run === undefined) return
    const captured = SpanMapper.capture(SpanMapper.unwrap(outputs, "output"))
    run.data.owner.emit(run, { _tag: "end", endedAt: this.options.now(), outputs: captured })
  }

  /** A model run ended with its generations. */
  endModel(runId: string, end: ModelEnd): void {
    const run = this.close(runId)
    if (run === undefined) return
    const endedAt = this.options.now()
    const owner = run.data.owner
    if (run.data.model === undefined) {
      owner.emit(run, { _tag: "end", endedAt, outputs: end.generations })
      return
    }
    const model = run.data.model
    const all = end.generations
    owner.emitModel(run, { _tag: "end", endedAt, outputs: undefined }, (i) => ({
      _tag: "end",
      endedAt,
      firstTokenAt: model.firstTokenAt,
      generations: model.inputs.length === 1 ? all.flat() : (all[i] ?? []),
      llmOutput: end.llmOutput,
      cached: end.cached
    }))
  }

  /** Any run failed. */
  error(runId: string, error: unknown): void {
    const run = this.close(runId)
    if (run === undefined) return
    const endedAt = this.options.now()
    const owner = run.data.owner
    if (run.data.model === undefined) {
      owner.emit(run, { _tag: "error", endedAt, error })
      return
    }
    const firstTokenAt = run.data.model.firstTokenAt
    owner.emitModel(run, { _tag: "error", endedAt, error }, () => ({ _tag: "error", endedAt, firstTokenAt, error }))
  }

  /** An agent action, agent finish or custom event on a run's span (a hidden run's: its visible ancestor's). */
  event(runId: string, name: string, attributes: Record<string, unknown>): void {
    const now = this.options.now()
    const added = this.options
      .tree(false)
      .addEvent(runId, { name, timestamp: new Date(now).toISOString(), attributes }, now)
    if (!added) this.options.counters.duplicates++
  }

  /** Logs runs idle for `runTtl` as partial; amortized (at most every TTL/4) unless forced. */
  sweep(force: boolean): void {
    const now = this.options.now()
    if (!force && now - this.lastSweep < this.options.runTtl / 4) return
    this.lastSweep = now
    const expired = this.options.tree(false).expire(now, this.options.runTtl)
    for (const run of expired) run.data.owner.abandon(run, `no event for ${this.options.runTtl} ms`)
  }

  /**
   * Logs every run this recorder opened and that is still open as partial (shutdown): nothing the
   * handler saw is lost. Other handlers' runs in the shared tree are theirs to close.
   */
  closeAll(reason: string): void {
    for (const run of this.options.tree(false).closeAll((run) => run.data.owner === this)) this.abandon(run, reason)
  }

  /** Closes a run in the tree; its owner (who may be another recorder) then emits its span. */
  private close(runId: string): Run<RunData> | undefined {
    const run = this.options.tree(false).end(runId)
    if (run === undefined) {
      this.options.counters.duplicates++
      return undefined
    }
    run.data.owner.released()
    // Its span is offered right after, in this same call: before the tracker's fiber runs.
    if (run.traceId === traceIdOf(run.runId)) run.data.owner.options.onRootEnd?.()
    return run
  }

  private released(): void {
    if (--this.open === 0) this.options.onActive(false)
  }

  /** A run of this recorder closed without an end (already removed from the tree): a partial span. */
  private abandon(run: Run<RunData>, reason: string): void {
    this.released()
    this.options.counters.evicted++
    if (!this.options.logAbandonedRuns) {
      this.options.onClosed?.(run.runId, run.traceId, false)
      return
    }
    const endedAt = run.lastSeen
    const text = `the run never ended (${reason}); a stream abandoned by its consumer?`
    if (run.data.model === undefined) {
      this.emit(run, { _tag: "partial", endedAt, reason: text })
      return
    }
    const firstTokenAt = run.data.model.firstTokenAt
    this.emitModel(run, { _tag: "partial", endedAt, reason: text }, () => ({
      _tag: "abandoned",
      endedAt,
      firstTokenAt,
      reason: text
    }))
  }

  private emit(run: Run<RunData>, outcome: SpanMapper.RunOutcome): void {
    if (!run.hidden)
      this.options.offer(new RunSpan(run, outcome, this.options.source, this.options.resource), run.traceId)
    this.options.onClosed?.(run.runId, run.traceId, outcome._tag === "error")
  }

  /** One CLIENT span per prompt of the model run (a direct call with several prompts gives several). */
  private emitModel(run: Run<RunData>, outcome: SpanMapper.RunOutcome, end: (index: number) => Blueprint.RunEnd): void {
    const model = run.data.model
    if (model !== undefined && !run.hidden) {
      for (let i = 0; i < model.inputs.length; i++) {
        this.options.offer(new ModelSpan(run, model, i, outcome, end(i), this.options), run.traceId)
      }
    }
    this.options.onClosed?.(run.runId, run.traceId, outcome._tag === "error")
  }
}

/** Thrown by `build` once a span has been encoded: its run's data was released. */
const released = (): never => {
  throw new Error("the span was encoded already; its run's data is released")
}

/**
 * The span of a chain, tool or retriever run, as offered to the tracker: what the callbacks
 * recorded, turned into a span only in the tracker's background fiber. A class, not a closure:
 * one object per span on the callback's path. Once encoded, it lets go of the run (its inputs,
 * outputs, events): a batch waiting to be sent holds the span's JSON, not the run's objects.
 */
class RunSpan implements PromptLayerTracker.SpanTrackEvent, TrustedSpanJob {
  readonly runId = undefined
  readonly parentRunId: string | undefined
  private data: { readonly run: Run<RunData>; readonly outcome: SpanMapper.RunOutcome } | undefined

  constructor(
    run: Run<RunData>,
    outcome: SpanMapper.RunOutcome,
    readonly source: string,
    private readonly resource: S.SpanInput["resource"]
  ) {
    this.parentRunId = run.parentRunId
    this.data = { run, outcome }
  }

  build(): S.SpanInput {
    const { outcome, run } = this.data ?? released()
    return SpanMapper.toSpan(run, run.data.info, outcome, run.events, this.resource)
  }

  [encodeTrusted](): PromptLayerClient.EncodedSpan {
    const encoded = SpanMapper.encodeValid(this.build())
    this.data = undefined
    return encoded
  }
}

/** The CLIENT span of one prompt of a model run, carrying its request log (`log_request`); released once encoded too. */
class ModelSpan implements PromptLayerTracker.SpanTrackEvent, TrustedSpanJob {
  readonly runId: string
  readonly parentRunId: string | undefined
  readonly source: string
  readonly onDelivered: ((log: PromptLayerTracker.DeliveredLog) => unknown) | undefined
  private data:
    | {
        readonly run: Run<RunData>
        readonly model: ModelData
        readonly outcome: SpanMapper.RunOutcome
        readonly end: Blueprint.RunEnd
      }
    | undefined

  constructor(
    run: Run<RunData>,
    model: ModelData,
    private readonly index: number,
    outcome: SpanMapper.RunOutcome,
    end: Blueprint.RunEnd,
    private readonly options: RecorderOptions
  ) {
    this.runId = index === 0 ? run.runId : `${run.runId}:${index}`
    this.parentRunId = run.parentRunId
    this.source = options.source
    this.onDelivered = options.onDelivered
    this.data = { run, model, outcome, end }
  }

  build(): S.SpanInput {
    const { end, model, outcome, run } = this.data ?? released()
    const index = this.index
    const ids: SpanMapper.SpanIds =
      index === 0
        ? run
        : {
            runId: this.runId,
            parentRunId: run.parentRunId,
            traceId: run.traceId,
            spanId: spanIdOf(this.runId),
            parentSpanId: run.parentSpanId
          }
    const start: Blueprint.RunStart = {
      ...model.start,
      runId: run.runId,
      input: model.inputs[index] ?? [],
      promptIndex: model.inputs.length > 1 ? index : undefined
    }
    const log = Blueprint.toLogRequest(start, end, this.options.plTags)
    return SpanMapper.toModelSpan(ids, run.data.info, outcome, log, run.events, this.options.resource)
  }

  [encodeTrusted](): PromptLayerClient.EncodedSpan {
    const encoded = SpanMapper.encodeValid(this.build())
    this.data = undefined
    return encoded
  }
}

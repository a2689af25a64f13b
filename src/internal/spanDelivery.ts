/**
 * The tracker's span pipeline: spans offered by the handler wait in a bounded queue; one background
 * fiber, the assembler, builds and encodes them (off the callback's path) and packs them into
 * batches by count, bytes and a debounce from the first span of the open batch; `concurrency`
 * fibers send the batches through the client (`spans.bulkEncoded`, so with its retry and timeout
 * layers). A batch refused as invalid is split until the poison span fails alone; spans of a closed
 * trace (`rejected_span_ids`) are counted as rejected, never retried.
 *
 * - A span offered through the tracker's public `offerSpan` is validated against the `Span` schema
 *   (`encodeSpanResult`); a {@link TrustedSpanJob} (the handler's run spans) encodes itself with
 *   plain code that makes only valid spans (a property test checks it against the schema).
 * - Every fiber of the pipeline is woken on a later macrotask ({@link resumeLater}), never in the
 *   waker's stack: a span offered from a LangChain callback wakes the assembler after the caller's
 *   chain of promises (its `invoke`), not between its awaits (Effect 4 runs a resumed fiber
 *   synchronously inside `resume`).
 *   {@link Pipeline.assembled} lets a test know it has caught up, without sleeping.
 * - A sent batch settles in one synchronous loop, and what it delivered is published once.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as PromptLayerClient from "../PromptLayerClient.js"
import { type PromptLayerError, TransportError } from "../PromptLayerError.js"
import * as PromptLayerRetryPolicy from "../PromptLayerRetryPolicy.js"
import type * as S from "../PromptLayerSchema.js"
import { resumeLater } from "./backgroundTimers.js"
import { type Batch, Batcher, type Settled, sendSplitting } from "./spanBatcher.js"
import * as SpanWire from "./spanWire.js"

/** A span to deliver; `build` runs in the background fiber. */
export interface SpanJob {
  readonly build: () => S.SpanInput
  readonly runId?: string | undefined
}

/** The key of a {@link TrustedSpanJob}'s encoder; not exported by the package. */
export const encodeTrusted: unique symbol = Symbol("promptlayer-effect/encodeTrusted")

/**
 * A span job that encodes itself into a valid span with plain code, skipping schema validation
 * (the handler's run spans, valid by construction). If its encoder throws, the span alone fails.
 */
export interface TrustedSpanJob extends SpanJob {
  readonly [encodeTrusted]: () => PromptLayerClient.EncodedSpan
}

interface Entry<J extends SpanJob> {
  readonly seq: number
  readonly job: J
}

interface Item<J extends SpanJob> {
  readonly entry: Entry<J>
  readonly encoded: PromptLayerClient.EncodedSpan
}

/**
 * What the tracker does when a span settles; each outcome is called once per span, synchronously.
 * `P` is what a delivered span gives to publish (its request id, for one).
 */
export interface Host<J extends SpanJob, P> {
  /** Stored; `requestId` is the request log created for its `log_request`, if any. Returns what to publish. */
  readonly delivered: (job: J, encoded: PromptLayerClient.EncodedSpan, requestId: number | undefined) => P | undefined
  /** Publishes what one batch's delivered spans gave; the batch's spans settle once it completes. */
  readonly publish: (published: ReadonlyArray<P>) => Effect.Effect<void>
  readonly failed: (job: J, detail: string) => void
  readonly rejected: (job: J, detail: string) => void
  readonly dropped: (job: J, why: string) => void
  /** A span left the pipeline (any outcome): flush waiters may be ready. */
  readonly settled: () => void
  readonly retried: () => void
  readonly batchSent: () => void
}

/** Limits of the pipeline. */
export interface Options {
  readonly maxBatchSpans: number
  readonly maxBatchBytes: number
  readonly batchDelay: Duration.Duration
  readonly concurrency: number
  readonly maxQueued: number
  readonly dropPolicy: "newest" | "oldest"
}

/** The pipeline the tracker drives. */
export interface Pipeline<J extends SpanJob> {
  readonly offer: (job: J, seq: number) => boolean
  readonly requestFlush: () => void
  readonly minOutstanding: () => number
  readonly queued: () => number
  readonly inFlight: () => number
  /**
   * Completes once the assembler has taken every span offered before the call and dispatched every
   * batch due by the clock now (a `TestClock` included): what a test awaits before it looks at what
   * was sent or adjusts the clock. It wakes the assembler for one step; it never sleeps.
   */
  readonly assembled: Effect.Effect<void>
  /** Stops the fibers; what is still in flight fails, what still waits is dropped. */
  readonly stop: Effect.Effect<void>
}

/**
 * Spans built per step of the assembler before it yields to the event loop: a slice is a few
 * hundred µs of synchronous work, not milliseconds (the event-loop delay target).
 */
const BUILD_SLICE = 16

/** A FIFO with O(1) push, peek and shift. */
class Fifo<A> {
  private items: Array<A | undefined> = []
  private head = 0
  get size(): number {
    return this.items.length - this.head
  }
  push(a: A): void {
    this.items.push(a)
  }
  peek(): A | undefined {
    return this.size > 0 ? this.items[this.head] : undefined
  }
  shift(): A | undefined {
    if (this.size === 0) return undefined
    const a = this.items[this.head]
    this.items[this.head] = undefined
    this.head++
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return a
  }
}

/**
 * The sequence numbers of the spans not settled yet, and the smallest in amortized O(1): spans are
 * offered in increasing order and settle in any order; settled ones leave the head lazily.
 * (`Set.values().next()` walks every hole V8 leaves where the oldest entries were deleted.)
 */
class Outstanding {
  private readonly live = new Set<number>()
  private readonly order = new Fifo<number>()
  add(seq: number): void {
    this.live.add(seq)
    this.order.push(seq)
  }
  delete(seq: number): void {
    this.live.delete(seq)
  }
  min(): number {
    for (let head = this.order.peek(); head !== undefined; head = this.order.peek()) {
      if (this.live.has(head)) return head
      this.order.shift()
    }
    return Number.POSITIVE_INFINITY
  }
}

const describe = (error: unknown): string => {
  const text =
    error instanceof Error ? `${(error as { _tag?: string })._tag ?? error.name}: ${error.message}` : String(error)
  return text.length > 500 ? text.slice(0, 500) : text
}

/** A refusal that may be one span's: splitting the batch can isolate it. */
const isSplittable = (error: PromptLayerError): boolean =>
  error._tag === "ValidationError" ||
  (error._tag === "InvalidRequestError" && (error.status === 400 || error.status === 413 || error.status === 422))

/** Encodes a job's span: by itself if trusted, else validated against the schema. Never throws. */
const encodeJob = (job: SpanJob): Result.Result<PromptLayerClient.EncodedSpan, string> => {
  try {
    const trusted = (job as Partial<TrustedSpanJob>)[encodeTrusted]
    if (trusted !== undefined) return Result.succeed(trusted.call(job))
    const encoded = PromptLayerClient.encodeSpanResult(job.build())
    return Result.isFailure(encoded) ? Result.fail(describe(encoded.failure)) : Result.succeed(encoded.success)
  } catch (error) {
    return Result.fail(`building the span failed: ${describe(error)}`)
  }
}

/**
 * The synchronous state of the pipeline: the queue of offered spans, the open batch, the batches
 * ready to send, the items in flight, and how each leaves.
 */
class State<J extends SpanJob, P> {
  readonly queue = new Fifo<Entry<J>>()
  readonly batcher: Batcher<Item<J>>
  readonly ready = new Fifo<Batch<Item<J>>>()
  readyItems = 0
  readonly inFlight = new Set<Item<J>>()
  readonly outstanding = new Outstanding()
  /** Clock time the open batch got its first span (0: no open batch). */
  openedAt = 0
  flushRequested = false
  /** Resumes the parked assembler. */
  wake: (() => void) | undefined
  /** Callers of `assembled` waiting for the assembler's next park. */
  barriers: Array<() => void> = []
  readonly senderWakers: Array<() => void> = []

  constructor(
    readonly options: Options,
    readonly host: Host<J, P>
  ) {
    this.batcher = new Batcher<Item<J>>({
      maxItems: options.maxBatchSpans,
      maxBytes: options.maxBatchBytes,
      overheadBytes: SpanWire.bodyOverheadBytes
    })
  }

  waiting(): number {
    return this.queue.size + this.batcher.pending + this.readyItems
  }

  signal(): void {
    const wake = this.wake
    if (wake !== undefined) {
      this.wake = undefined
      wake()
    }
  }

  settle(seq: number): void {
    this.outstanding.delete(seq)
    this.host.settled()
  }

  offer(job: J, seq: number): boolean {
    const { maxQueued } = this.options
    if (this.waiting() >= maxQueued) {
      const oldest = this.options.dropPolicy === "oldest" ? this.queue.shift() : undefined
      if (oldest === undefined) {
        this.host.dropped(job, `the span queue is full (${maxQueued} waiting)`)
        return false
      }
      this.host.dropped(oldest.job, `the span queue is full (${maxQueued} waiting), oldest dropped`)
      this.settle(oldest.seq)
    }
    this.outstanding.add(seq)
    this.queue.push({ seq, job })
    this.signal()
    return true
  }

  dispatch(batch: Batch<Item<J>> | undefined): void {
    if (batch === undefined) return
    this.ready.push(batch)
    this.readyItems += batch.items.length
    this.senderWakers.shift()?.()
  }

  /** Encodes up to a slice of queued spans into the batcher; a span that cannot be encoded fails alone. */
  assembleSlice(now: () => number): void {
    for (let i = 0; i < BUILD_SLICE; i++) {
      const entry = this.queue.shift()
      if (entry === undefined) return
      const encoded = encodeJob(entry.job)
      if (Result.isFailure(encoded)) {
        this.fail(entry, encoded.failure)
        continue
      }
      if (this.batcher.pending === 0) this.openedAt = now()
      for (const batch of this.batcher.add({ entry, encoded: encoded.success }, encoded.success.bytes))
        this.dispatch(batch)
      if (this.batcher.pending === 0) this.openedAt = 0
    }
  }

  releaseBarriers(): void {
    if (this.barriers.length === 0) return
    const barriers = this.barriers
    this.barriers = []
    for (const release of barriers) release()
  }

  takeReady(): Batch<Item<J>> | undefined {
    const batch = this.ready.shift()
    if (batch === undefined) return undefined
    this.readyItems -= batch.items.length
    for (const item of batch.items) this.inFlight.add(item)
    return batch
  }

  fail(entry: Entry<J>, detail: string): void {
    try {
      this.host.failed(entry.job, detail)
    } finally {
      this.settle(entry.seq)
    }
  }

  /** Records the outcome of each span of a sent batch; returns what to publish. Settles nothing yet. */
  outcomes(parts: ReadonlyArray<Settled<Item<J>, S.CreateSpansBulkResponse, PromptLayerError>>): Array<P> {
    const published: Array<P> = []
    for (const part of parts) {
      if (part._tag === "failed") {
        const detail = describe(part.error)
        for (const item of part.items) this.host.failed(item.entry.job, detail)
        continue
      }
      const { rejected, reason, requestIds } = responseFacts(part.response)
      for (const item of part.items) {
        const { job } = item.entry
        const { spanId, traceId } = item.encoded
        if (rejected?.has(spanId)) {
          this.host.rejected(job, `${reason} (trace ${traceId})`)
          continue
        }
        const out = this.host.delivered(job, item.encoded, takeRequestId(requestIds, spanId))
        if (out !== undefined) published.push(out)
      }
    }
    return published
  }

  settleItems(items: ReadonlyArray<Item<J>>): void {
    for (const item of items) {
      this.inFlight.delete(item)
      this.settle(item.entry.seq)
    }
  }

  /** Shutdown: spans in flight fail, spans still waiting are dropped. */
  abandonAll(): void {
    for (const item of this.inFlight) this.fail(item.entry, "the tracker shut down before it was delivered")
    this.inFlight.clear()
    const drop = (entry: Entry<J>) => {
      this.host.dropped(entry.job, "the tracker shut down before it was delivered")
      this.settle(entry.seq)
    }
    for (let batch = this.ready.shift(); batch !== undefined; batch = this.ready.shift())
      for (const item of batch.items) drop(item.entry)
    this.readyItems = 0
    for (const item of this.batcher.drain()?.items ?? []) drop(item.entry)
    for (let entry = this.queue.shift(); entry !== undefined; entry = this.queue.shift()) drop(entry)
    this.releaseBarriers()
  }
}

/** Request ids by span id (a span id may carry several logs in theory: taken in order). */
type RequestIds = Map<string, number | Array<number>>

const responseFacts = (response: S.CreateSpansBulkResponse) => {
  const requestIds: RequestIds = new Map()
  for (const log of response.request_logs ?? []) {
    const known = requestIds.get(log.span_id)
    if (known === undefined) requestIds.set(log.span_id, log.id)
    else if (typeof known === "number") requestIds.set(log.span_id, [known, log.id])
    else known.push(log.id)
  }
  const ids = response.rejected_span_ids
  return {
    requestIds,
    rejected: ids === undefined || ids === null || ids.length === 0 ? undefined : new Set(ids),
    reason: response.rejection_reason ?? "rejected"
  }
}

const takeRequestId = (requestIds: RequestIds, spanId: string): number | undefined => {
  const known = requestIds.get(spanId)
  if (typeof known !== "object") {
    requestIds.delete(spanId)
    return known
  }
  return known.shift()
}

/** Parks until `ready()` holds or the state is signalled (then resumes on a later macrotask). */
const parked = <J extends SpanJob, P>(state: State<J, P>, ready: () => boolean) =>
  Effect.callback<void>((resume) => {
    if (ready()) {
      resume(Effect.void)
      return
    }
    const later = resumeLater(resume)
    state.wake = () => later(Effect.void)
    return Effect.sync(() => {
      state.wake = undefined
    })
  })

/** One step of the assembler: encode what is queued, dispatch what is due, then park (until a span, a flush, a barrier or the debounce). */
const assemblerStep = <J extends SpanJob, P>(state: State<J, P>, clock: Clock.Clock, delayMs: number) =>
  Effect.suspend((): Effect.Effect<void> => {
    const now = () => clock.currentTimeMillisUnsafe()
    state.assembleSlice(now)
    if (state.queue.size > 0) return Effect.yieldNow
    if (state.batcher.pending === 0) {
      state.flushRequested = false
      state.releaseBarriers()
      return parked(state, () => state.queue.size > 0 || state.barriers.length > 0)
    }
    const time = now()
    if (state.flushRequested || time - state.openedAt >= delayMs) {
      state.flushRequested = false
      state.dispatch(state.batcher.drain())
      return Effect.void
    }
    state.releaseBarriers()
    return Effect.raceFirst(
      clock.sleep(Duration.millis(state.openedAt + delayMs - time)),
      parked(state, () => state.queue.size > 0 || state.flushRequested || state.barriers.length > 0)
    )
  })

const takeBatch = <J extends SpanJob, P>(state: State<J, P>) =>
  Effect.callback<Batch<Item<J>>>((resume) => {
    const first = state.takeReady()
    if (first !== undefined) {
      resume(Effect.succeed(first))
      return
    }
    // Woken by the assembler's dispatch: the batch is taken at once, the sender runs later.
    const later = resumeLater(resume)
    const waker = () => {
      const batch = state.takeReady()
      if (batch === undefined) state.senderWakers.push(waker)
      else later(Effect.succeed(batch))
    }
    state.senderWakers.push(waker)
    return Effect.sync(() => {
      const i = state.senderWakers.indexOf(waker)
      if (i >= 0) state.senderWakers.splice(i, 1)
    })
  })

/** Sends a batch (split on a refusal that may be one span's), records the outcomes, publishes, then settles it. */
const sendBatch = <J extends SpanJob, P>(
  state: State<J, P>,
  client: PromptLayerClient.Service,
  batch: Batch<Item<J>>
) => {
  const { host } = state
  const sendItems = (items: ReadonlyArray<Item<J>>) =>
    client.spans.bulkEncoded(items.map((item) => item.encoded)).pipe(
      // A defect (a bug, a throwing HttpClient) would end the sender with the batch in flight forever.
      Effect.catchDefect((defect) =>
        Effect.fail(
          new TransportError({
            endpoint: "POST /spans-bulk",
            description: `unexpected error: ${defect instanceof Error ? defect.message : String(defect)}`
          })
        )
      ),
      Effect.tap(() => Effect.sync(host.batchSent)),
      Effect.provideService(PromptLayerRetryPolicy.currentRetryObserver, () => Effect.sync(host.retried))
    )
  // Interrupted while sending (shutdown), the items stay in flight: `stop` fails them.
  return Effect.uninterruptibleMask((restore) =>
    restore(sendSplitting(batch.items, sendItems, isSplittable)).pipe(
      Effect.flatMap((parts) =>
        Effect.ensuring(
          Effect.suspend(() => host.publish(state.outcomes(parts))),
          Effect.sync(() => state.settleItems(batch.items))
        )
      )
    )
  )
}

/** The pipeline, with its fibers in `scope`. */
export const make = <J extends SpanJob, P>(
  options: Options,
  host: Host<J, P>,
  scope: Scope.Scope,
  clock: Clock.Clock
): Effect.Effect<Pipeline<J>, never, PromptLayerClient.PromptLayerClient> =>
  Effect.gen(function* () {
    const client = yield* PromptLayerClient.PromptLayerClient
    const state = new State<J, P>(options, host)
    const delayMs = Duration.toMillis(options.batchDelay)

    // A defect in one step (a bug) must not stop the pipeline: every later span would wait forever.
    const guarded = Effect.catchCause(assemblerStep(state, clock, delayMs), (cause) =>
      Effect.logError("PromptLayer span pipeline: a step failed; it goes on").pipe(Effect.annotateLogs({ cause }))
    )
    // Without yielding after every step (one more macrotask per wake-up for nothing): a step parks or yields itself.
    const loop = Effect.forever(guarded, { disableYield: true })
    const assembler = yield* Effect.forkIn(loop.pipe(Effect.provideService(Clock.Clock, clock)), scope)
    const sender = Effect.forever(Effect.flatMap(takeBatch(state), (batch) => sendBatch(state, client, batch)))
    const senders = yield* Effect.forkIn(
      Effect.all(
        Array.from({ length: options.concurrency }, () => sender),
        {
          concurrency: "unbounded",
          discard: true
        }
      ).pipe(Effect.provideService(Clock.Clock, clock)),
      scope
    )

    let stopped = false
    const assembled = Effect.callback<void>((resume) => {
      if (stopped) {
        resume(Effect.void)
        return
      }
      const later = resumeLater(resume)
      const release = () => later(Effect.void)
      state.barriers.push(release)
      state.signal()
      return Effect.sync(() => {
        state.barriers = state.barriers.filter((b) => b !== release)
      })
    })

    return {
      offer: (job, seq) => state.offer(job, seq),
      requestFlush: () => {
        state.flushRequested = true
        state.signal()
      },
      minOutstanding: () => state.outstanding.min(),
      queued: () => state.waiting(),
      inFlight: () => state.inFlight.size,
      assembled,
      stop: Effect.gen(function* () {
        stopped = true
        yield* Fiber.interrupt(assembler)
        yield* Fiber.interrupt(senders)
        state.abandonAll()
      })
    }
  })

const pipelines = new WeakMap<object, Pipeline<never>>()

/** Registers the pipeline of a tracker service, for {@link assembledOf}. */
export const register = (tracker: object, pipeline: Pipeline<never>): void => {
  pipelines.set(tracker, pipeline)
}

/**
 * {@link Pipeline.assembled} of a tracker's span pipeline (tests: await it before looking at what
 * was sent or adjusting a `TestClock`); completes at once for a tracker without one.
 */
export const assembledOf = (tracker: object): Effect.Effect<void> =>
  Effect.suspend(() => pipelines.get(tracker)?.assembled ?? Effect.void)

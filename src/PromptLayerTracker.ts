/**
 * Background delivery of request logs to PromptLayer.
 *
 * The tracker accepts log events synchronously and cheaply ({@link Service.offer} never touches the
 * network, never waits and is O(1)) and delivers them from a fixed pool of background fibers through
 * {@link PromptLayerClient} — so with the client's retry and timeout policy. Building the
 * `/log-request` body (converting messages, serializing large payloads) happens in those fibers, not
 * in `offer`.
 *
 * - **Bounded memory**: at most `maxQueued` events wait; beyond that the `dropPolicy` drops the
 *   newest (default) or the oldest event, and every drop is counted.
 * - **Counters**: `accepted`, `queued`, `inFlight`, `delivered`, `retried`, `failed`, `dropped`,
 *   `callbackErrors` ({@link Stats}).
 * - **Flush**: {@link Service.flush} resolves when every event accepted before the call is delivered
 *   or has finally failed; {@link Service.shutdown} flushes (bounded by `shutdownTimeout`) then stops
 *   the fibers. Both are idempotent. Closing the tracker's scope shuts it down.
 * - **Failures never escape**: a failed delivery is counted and reported once through Effect's logger
 *   as a warning (then at debug level until a delivery succeeds again).
 * - **Request ids as a Stream**: every delivered log is published as a {@link DeliveredLog} on
 *   {@link Service.requestIds}, which any number of subscribers can consume.
 * - Timers of the live clock used by the delivery fibers (retry backoff, timeouts) are unref'd so a
 *   process can exit; call `flush()` before it does. While a `flush` (or `shutdown`) is awaited, it
 *   holds the process open (a ref'd timer of at most `shutdownTimeout`), so an awaited flush is not
 *   cut short by the process exiting while every pending log sleeps in backoff.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { PromptLayerClient, PromptLayerTracker } from "promptlayer-effect"
 *
 * const program = Effect.gen(function*() {
 *   const tracker = yield* PromptLayerTracker.PromptLayerTracker
 *   yield* Effect.forkScoped(Stream.runForEach(tracker.requestIds, (log) => Effect.log(log.requestId)))
 *   tracker.offer({
 *     runId: "run-1",
 *     build: () => ({
 *       provider: "openai",
 *       model: "gpt-4o-mini",
 *       input: { type: "completion", content: [{ type: "text", text: "Hi" }] },
 *       output: { type: "completion", content: [{ type: "text", text: "Hello" }] },
 *       request_start_time: Date.now(),
 *       request_end_time: Date.now()
 *     })
 *   })
 *   yield* tracker.flush
 * })
 *
 * Effect.runPromise(
 *   program.pipe(Effect.scoped, Effect.provide(PromptLayerTracker.layer()), Effect.provide(PromptLayerClient.layerFetch))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as Scheduler from "effect/Scheduler"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as PromptLayerClient from "./PromptLayerClient.js"
import * as PromptLayerRetryPolicy from "./PromptLayerRetryPolicy.js"
import type * as S from "./PromptLayerSchema.js"
import {
  backgroundClock,
  backgroundScheduler,
  holdOpen,
  isLiveClock,
  resumeLater
} from "./internal/backgroundTimers.js"
import { type Outcome, RunOutcomes, type Unavailable } from "./internal/runOutcomes.js"
import * as SpanDelivery from "./internal/spanDelivery.js"
import * as SpanWire from "./internal/spanWire.js"

// =============================================================================
// Models
// =============================================================================

/**
 * One log to deliver. `build` produces the `/log-request` body and runs in a background fiber, so
 * that conversion and serialization cost nothing on the caller's path; if it throws, the event
 * counts as failed.
 *
 * @since 0.1.0
 * @category Models
 */
export interface TrackEvent {
  readonly build: () => S.LogRequestInput
  /** The LangChain run id (or any id of yours) used by {@link Service.requestIdFor}. */
  readonly runId?: string | undefined
  readonly parentRunId?: string | undefined
  /** Who produced the event (a handler id); lets a handler filter the shared stream. */
  readonly source?: string | undefined
  /** Called after delivery; an error it throws (or rejects with) is counted and reported, never rethrown. */
  readonly onDelivered?: ((log: DeliveredLog) => unknown) | undefined
}

/**
 * One span to deliver through `POST /spans-bulk` (traces mode). `build` produces the span and runs
 * in a background fiber; if it throws or the span is invalid, the span alone counts as failed. A
 * span with a `log_request` publishes a {@link DeliveredLog} (and calls `onDelivered`) once its
 * request log is created.
 *
 * @since 0.2.0
 * @category Models
 */
export interface SpanTrackEvent {
  readonly build: () => S.SpanInput
  /** The LangChain run id, used by {@link Service.requestIdFor} for spans with a `log_request`. */
  readonly runId?: string | undefined
  readonly parentRunId?: string | undefined
  readonly source?: string | undefined
  readonly onDelivered?: ((log: DeliveredLog) => unknown) | undefined
}

/**
 * A delivered log, as published on {@link Service.requestIds}.
 *
 * @since 0.1.0
 * @category Models
 */
export interface DeliveredLog {
  /** The PromptLayer request id (`id` of the `/log-request` response). */
  readonly requestId: number
  readonly runId: string | undefined
  readonly parentRunId: string | undefined
  readonly tags: ReadonlyArray<string>
  readonly metadata: Readonly<Record<string, string>>
  readonly provider: string
  readonly model: string
  readonly status: "SUCCESS" | "WARNING" | "ERROR"
  readonly promptName: string | undefined
  readonly source: string | undefined
  /** The trace of the span that carried the log (traces mode); undefined for a `/log-request` log. */
  readonly traceId: string | undefined
  /** The span that carried the log (traces mode). */
  readonly spanId: string | undefined
}

/**
 * The tracker's counters. `accepted` counts every event `offer` queued; each ends as `delivered`,
 * `failed`, or `dropped` (pushed out by the `"oldest"` policy, or still waiting when a shutdown gave
 * up). `dropped` also counts events refused by `offer` (queue full with `"newest"`, or shut down).
 * `queued` and `inFlight` are current values. In traces mode every span counts as one event;
 * `rejected` counts spans the server refused because their trace is closed (`rejected_span_ids`),
 * never retried; `batches` counts `/spans-bulk` requests answered with success.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Stats {
  readonly accepted: number
  readonly queued: number
  readonly inFlight: number
  readonly delivered: number
  readonly retried: number
  readonly failed: number
  readonly dropped: number
  readonly callbackErrors: number
  readonly rejected: number
  readonly batches: number
}

/**
 * Why {@link Service.requestIdFor} has no id to give: the log finally `failed`, was `dropped`, was
 * `rejected` (its trace is closed), or the tracker was shut down before it was delivered; or the
 * handler never sent it because its trace was `sampled` out (`sampleRate`).
 *
 * @since 0.1.0
 * @category Errors
 */
export class RequestIdUnavailable extends Schema.TaggedError<RequestIdUnavailable>(
  "promptlayer-effect/RequestIdUnavailable"
)("RequestIdUnavailable", {
  runId: Schema.String,
  reason: Schema.Literals(["failed", "dropped", "shutdown", "rejected", "sampled"]),
  detail: Schema.optional(Schema.String)
}) {
  /** `"RequestIdUnavailable"`, the `_tag` (as the errors of `PromptLayerError`). */
  override get name(): string {
    return "RequestIdUnavailable"
  }

  override get message(): string {
    return `no PromptLayer request id for run ${this.runId}: ${this.reason}${this.detail ? ` (${this.detail})` : ""}`
  }
}

/**
 * The tracker service.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /**
   * Accepts an event without waiting: `true` if it was queued, `false` if it was dropped (queue
   * full with the `"newest"` policy, or tracker shut down). Never throws.
   */
  readonly offer: (event: TrackEvent) => boolean
  /** {@link offer} as an Effect. */
  readonly track: (event: TrackEvent) => Effect.Effect<boolean>
  /**
   * Accepts a span without waiting (traces mode): it is built in the background, batched with
   * others (count, bytes, `batchDelay`) and sent through `POST /spans-bulk`. `false` if dropped.
   */
  readonly offerSpan: (event: SpanTrackEvent) => boolean
  /**
   * Ends the wait of the spans offered so far: their batch is sent as soon as the background fiber
   * has taken them, without waiting for the rest of `batchDelay` (the handler's `deliverOnRootEnd`
   * calls it when a trace's root run ends). Returns at once and never throws; it does not wait for
   * the delivery ({@link flush} does). Logs (`offer`) are never held back: it does not concern them.
   */
  readonly sendNow: () => void
  /**
   * Resolves when every event accepted so far is delivered or has finally failed. While it waits
   * (on the live clock), it keeps the process alive for at most `shutdownTimeout`.
   */
  readonly flush: Effect.Effect<void>
  /** Flushes (at most `shutdownTimeout`), then stops the delivery fibers. Idempotent. */
  readonly shutdown: Effect.Effect<void>
  /** The counters now. */
  readonly stats: Effect.Effect<Stats>
  /** The counters now, synchronously. */
  readonly statsUnsafe: () => Stats
  /** One element per delivered log; each run of the stream is a new subscriber. Ends on shutdown. */
  readonly requestIds: Stream.Stream<DeliveredLog>
  /**
   * Subscribes now, in the current scope, and returns the stream of the logs delivered from then on:
   * unlike {@link requestIds}, nothing delivered between this call and the stream's first pull is
   * missed.
   */
  readonly subscribe: Effect.Effect<Stream.Stream<DeliveredLog>, never, Scope.Scope>
  /**
   * The request id of the log with this `runId`: at once if it was delivered recently, otherwise
   * when it is. Fails with {@link RequestIdUnavailable} if it failed, was dropped or the tracker
   * shuts down first. Waits for runs it does not know yet (compose with `Effect.timeout`).
   */
  readonly requestIdFor: (runId: string) => Effect.Effect<number, RequestIdUnavailable>
  /** Whether {@link shutdown} has started. */
  readonly isShutdown: () => boolean
}

/**
 * The tracker service key.
 *
 * @since 0.1.0
 * @category Context
 */
export class PromptLayerTracker extends Context.Service<PromptLayerTracker, Service>()(
  "promptlayer-effect/PromptLayerTracker"
) {}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** Deliveries in flight at once. Default 16. */
  readonly concurrency?: number | undefined
  /** Events waiting (not in flight) at most. Default 10 000. */
  readonly maxQueued?: number | undefined
  /** When full: drop the incoming event (`"newest"`, default) or the oldest waiting one. */
  readonly dropPolicy?: "newest" | "oldest" | undefined
  /**
   * How long `shutdown` (and closing the scope) waits for the flush, and how long an awaited flush
   * keeps the process alive at most. Default 30 s.
   */
  readonly shutdownTimeout?: Duration.Input | undefined
  /** Elements a slow `requestIds` subscriber may lag before the oldest are dropped for it. Default 4096. */
  readonly requestIdBuffer?: number | undefined
  /** Run ids whose outcome is remembered for `requestIdFor`. Default 10 000. */
  readonly rememberRuns?: number | undefined
  /** Spans per `/spans-bulk` request at most. Default 100 (LangSmith's batch size). */
  readonly maxBatchSpans?: number | undefined
  /**
   * Body bytes per `/spans-bulk` request at most; a single larger span goes alone. Default 1 MiB:
   * the smallest body limit common in front of HTTP APIs (nginx's `client_max_body_size` default).
   */
  readonly maxBatchBytes?: number | undefined
  /** How long the first span of a batch waits for others. Default 250 ms (LangSmith's debounce). */
  readonly batchDelay?: Duration.Input | undefined
}

/**
 * The default options.
 *
 * @since 0.1.0
 * @category Constants
 */
export const defaults = {
  concurrency: 16,
  maxQueued: 10_000,
  dropPolicy: "newest",
  shutdownTimeout: Duration.seconds(30),
  requestIdBuffer: 4096,
  rememberRuns: 10_000,
  maxBatchSpans: 100,
  maxBatchBytes: 1024 * 1024,
  batchDelay: Duration.millis(250)
} as const

// =============================================================================
// Implementation
// =============================================================================

interface Entry {
  readonly seq: number
  readonly event: TrackEvent
}

const unavailable = (runId: string, outcome: Unavailable): RequestIdUnavailable =>
  new RequestIdUnavailable({ runId, reason: outcome.reason, detail: outcome.detail })

/** `Name: message` of a failure (what `Cause.pretty` starts with), at most 500 characters. */
const describeFailure = (cause: Cause.Cause<unknown>): string => {
  if (Cause.hasInterruptsOnly(cause)) return "interrupted"
  const error = Cause.squash(cause)
  const text = error instanceof Error ? `${error.name}: ${error.message}` : `Error: ${String(error)}`
  return text.length > 500 ? text.slice(0, 500) : text
}

/** A FIFO with O(1) push, shift and head access. */
class Deque<A> {
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

const positiveInt = (name: string, value: number | undefined, fallback: number): number => {
  const n = value ?? fallback
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be an integer >= 1, got ${n}`)
  return n
}

const isThenable = (u: unknown): u is PromiseLike<unknown> =>
  typeof u === "object" && u !== null && typeof (u as { then?: unknown }).then === "function"

const shutdownOutcome: Outcome = { reason: "shutdown", detail: undefined }

/** A delivered span's log, and whom to tell. */
interface Published {
  readonly event: SpanTrackEvent
  readonly log: DeliveredLog
}

/** What the span pipeline's outcomes do to the tracker: counters, remembered outcomes, published request ids, warnings. */
interface SpanHostDeps {
  readonly counters: { delivered: number; failed: number; rejected: number; retried: number; batches: number }
  readonly reported: { failure: boolean }
  readonly remember: (runId: string | undefined, outcome: Outcome) => void
  readonly publish: (published: ReadonlyArray<Published>) => Effect.Effect<void>
  /** Logs a warning (the first of a streak) in the background. */
  readonly warn: (key: "failure" | "rejected", message: string, annotations: Record<string, unknown>) => void
  readonly drop: (event: SpanTrackEvent, why: string) => void
  readonly settled: () => void
}

const spanHostOf = ({
  counters,
  drop,
  publish,
  remember,
  reported,
  settled,
  warn
}: SpanHostDeps): SpanDelivery.Host<SpanTrackEvent, Published> => ({
  delivered: (event, encoded, requestId) => {
    counters.delivered++
    reported.failure = false
    if (encoded.log === undefined) return undefined
    if (requestId === undefined) {
      const detail = `no request log in the /spans-bulk response for span ${encoded.spanId}`
      if (event.runId !== undefined) remember(event.runId, { reason: "failed", detail })
      warn("failure", "PromptLayer stored a span without its request log", { spanId: encoded.spanId })
      return undefined
    }
    if (event.runId !== undefined) remember(event.runId, requestId)
    const log: DeliveredLog = {
      requestId,
      runId: event.runId,
      parentRunId: event.parentRunId,
      source: event.source,
      traceId: encoded.traceId,
      spanId: encoded.spanId,
      ...encoded.log
    }
    return { event, log }
  },
  publish,
  failed: (event, detail) => {
    counters.failed++
    if (event.runId !== undefined) remember(event.runId, { reason: "failed", detail })
    warn("failure", "PromptLayer span delivery failed", { error: detail, runId: event.runId })
  },
  rejected: (event, detail) => {
    counters.rejected++
    if (event.runId !== undefined) remember(event.runId, { reason: "rejected", detail })
    warn("rejected", "PromptLayer rejected spans of a closed trace; they are not retried", {
      detail,
      runId: event.runId
    })
  },
  dropped: (event, why) => drop(event, why),
  settled,
  retried: () => {
    counters.retried++
  },
  batchSent: () => {
    counters.batches++
  }
})

/** The tracker, built on the background scheduler (see {@link make}). */
const makeScheduled = Effect.fnUntraced(function* (options: Options) {
  const concurrency = positiveInt("concurrency", options.concurrency, defaults.concurrency)
  const maxQueued = positiveInt("maxQueued", options.maxQueued, defaults.maxQueued)
  const rememberRuns = positiveInt("rememberRuns", options.rememberRuns, defaults.rememberRuns)
  const requestIdBuffer = positiveInt("requestIdBuffer", options.requestIdBuffer, defaults.requestIdBuffer)
  const dropPolicy = options.dropPolicy ?? defaults.dropPolicy
  const shutdownTimeout = Duration.fromInputUnsafe(options.shutdownTimeout ?? defaults.shutdownTimeout)
  const maxBatchSpans = positiveInt("maxBatchSpans", options.maxBatchSpans, defaults.maxBatchSpans)
  const maxBatchBytes = positiveInt("maxBatchBytes", options.maxBatchBytes, defaults.maxBatchBytes)
  const batchDelay = Duration.fromInputUnsafe(options.batchDelay ?? defaults.batchDelay)

  const client = yield* PromptLayerClient.PromptLayerClient
  const scope = yield* Effect.scope
  const runFork = Effect.runForkWith(yield* Effect.context<never>())
  const clock = yield* Clock.Clock
  const liveClock = isLiveClock(clock)
  const workerClock = backgroundClock(clock)
  const pubsub = yield* PubSub.sliding<DeliveredLog>(requestIdBuffer)

  const buffer = new Deque<Entry>()
  const inFlight = new Set<Entry>()
  const takers: Array<(entry: Entry) => void> = []
  let flushWaiters: Array<{ readonly upTo: number; readonly resume: () => void }> = []
  const outcomes = new RunOutcomes(rememberRuns)
  const remember = (runId: string | undefined, outcome: Outcome) => outcomes.remember(runId, outcome)
  let lastSeq = 0
  let closed = false
  const counters = {
    accepted: 0,
    delivered: 0,
    retried: 0,
    failed: 0,
    dropped: 0,
    callbackErrors: 0,
    rejected: 0,
    batches: 0
  }
  const reported = { failure: false, drop: false, callback: false, rejected: false }
  // Set once the span pipeline exists (below); until then it holds nothing.
  let spans: SpanDelivery.Pipeline<SpanTrackEvent> | undefined

  const statsUnsafe = (): Stats => ({
    accepted: counters.accepted,
    queued: buffer.size + (spans?.queued() ?? 0),
    inFlight: inFlight.size + (spans?.inFlight() ?? 0),
    delivered: counters.delivered,
    retried: counters.retried,
    failed: counters.failed,
    dropped: counters.dropped,
    callbackErrors: counters.callbackErrors,
    rejected: counters.rejected,
    batches: counters.batches
  })

  const warnOnce = (key: keyof typeof reported, message: string, annotations: Record<string, unknown>) => {
    const first = !reported[key]
    reported[key] = true
    const log = first ? Effect.logWarning(message) : Effect.logDebug(message)
    return log.pipe(Effect.annotateLogs({ ...annotations, ...statsUnsafe() }))
  }

  const minOutstanding = (): number => {
    let min = buffer.peek()?.seq ?? Number.POSITIVE_INFINITY
    for (const entry of inFlight) if (entry.seq < min) min = entry.seq
    return Math.min(min, spans?.minOutstanding() ?? Number.POSITIVE_INFINITY)
  }

  const checkFlushWaiters = () => {
    if (flushWaiters.length === 0) return
    const min = minOutstanding()
    const ready = flushWaiters.filter((w) => w.upTo < min)
    if (ready.length === 0) return
    flushWaiters = flushWaiters.filter((w) => w.upTo >= min)
    for (const w of ready) w.resume()
  }

  const drop = (event: { readonly runId?: string | undefined }, why: string) => {
    counters.dropped++
    if (event.runId !== undefined) {
      remember(event.runId, { reason: "dropped", detail: why })
    }
    // Only the first drop of a streak is logged (offer stays cheap); all are counted.
    if (!reported.drop) {
      runFork(warnOnce("drop", `PromptLayer tracker dropped a log: ${why}`, { dropPolicy, maxQueued }))
    }
  }

  const offer = (event: TrackEvent): boolean => {
    if (closed) {
      drop(event, "the tracker is shut down")
      return false
    }
    const taker = takers.shift()
    if (taker !== undefined) {
      const entry: Entry = { seq: ++lastSeq, event }
      counters.accepted++
      inFlight.add(entry)
      taker(entry)
      return true
    }
    if (buffer.size >= maxQueued) {
      if (dropPolicy === "newest") {
        drop(event, `the queue is full (${maxQueued} waiting)`)
        return false
      }
      const oldest = buffer.shift()
      if (oldest !== undefined) drop(oldest.event, `the queue is full (${maxQueued} waiting), oldest dropped`)
    }
    counters.accepted++
    buffer.push({ seq: ++lastSeq, event })
    checkFlushWaiters()
    return true
  }

  const take: Effect.Effect<Entry> = Effect.callback<Entry>((resume) => {
    const entry = buffer.shift()
    if (entry !== undefined) {
      inFlight.add(entry)
      resume(Effect.succeed(entry))
      return
    }
    // Handed an entry by `offer`: the worker builds and sends it later, not on the caller's path.
    const later = resumeLater(resume)
    const taker = (e: Entry) => later(Effect.succeed(e))
    takers.push(taker)
    return Effect.sync(() => {
      const i = takers.indexOf(taker)
      if (i >= 0) takers.splice(i, 1)
    })
  })

  const settle = (entry: Entry) =>
    Effect.sync(() => {
      inFlight.delete(entry)
      checkFlushWaiters()
    })

  const runCallback = (event: { readonly onDelivered?: TrackEvent["onDelivered"] }, log: DeliveredLog) => {
    const callback = event.onDelivered
    if (callback === undefined) return Effect.void
    return Effect.tryPromise(async () => {
      await callback(log)
    }).pipe(
      Effect.catch((error) =>
        Effect.suspend(() => {
          counters.callbackErrors++
          return warnOnce("callback", "PromptLayer request id callback failed; delivery continues", {
            error: String(error.cause)
          })
        })
      )
    )
  }

  const onFailure = (entry: Entry, cause: Cause.Cause<unknown>) =>
    Effect.suspend(() => {
      counters.failed++
      const runId = entry.event.runId
      const detail = describeFailure(cause)
      if (runId !== undefined) remember(runId, { reason: "failed", detail })
      return warnOnce("failure", "PromptLayer log delivery failed", { error: detail, runId })
    })

  const onSuccess = (entry: Entry, body: S.LogRequestInput, id: number) =>
    Effect.suspend(() => {
      counters.delivered++
      reported.failure = false
      if (buffer.size < maxQueued) reported.drop = false
      const log: DeliveredLog = {
        requestId: id,
        runId: entry.event.runId,
        parentRunId: entry.event.parentRunId,
        source: entry.event.source,
        traceId: undefined,
        spanId: undefined,
        ...SpanWire.factsOfLog(body)
      }
      remember(entry.event.runId, id)
      return PubSub.publish(pubsub, log).pipe(Effect.andThen(runCallback(entry.event, log)))
    })

  const countRetry = () =>
    Effect.sync(() => {
      counters.retried++
    })

  const attempt = (entry: Entry) =>
    Effect.try({ try: () => entry.event.build(), catch: (error) => error }).pipe(
      Effect.flatMap((body) => Effect.map(client.logRequest(body), (response) => [body, response.id] as const)),
      Effect.provideService(PromptLayerRetryPolicy.currentRetryObserver, countRetry)
    )

  const deliver = (entry: Entry): Effect.Effect<void> =>
    Effect.uninterruptibleMask((restore) =>
      restore(attempt(entry)).pipe(
        Effect.exit,
        Effect.flatMap((exit) =>
          Exit.isSuccess(exit) ? onSuccess(entry, exit.value[0], exit.value[1]) : onFailure(entry, exit.cause)
        ),
        Effect.ensuring(settle(entry))
      )
    )

  const callbackFailed = (error: unknown) => {
    counters.callbackErrors++
    runFork(
      warnOnce("callback", "PromptLayer request id callback failed; delivery continues", {
        error: String(error)
      })
    )
  }

  /** Publishes a batch's logs at once, then calls their callbacks in order; waits for the async ones. */
  const publishAll = (published: ReadonlyArray<Published>): Effect.Effect<void> => {
    if (published.length === 0) return Effect.void
    const logs = published.map((p) => p.log)
    return Effect.flatMap(PubSub.publishAll(pubsub, logs), () => {
      const pending: Array<Promise<unknown>> = []
      for (const { event, log } of published) {
        const callback = event.onDelivered
        if (callback === undefined) continue
        try {
          const result = callback(log)
          if (isThenable(result)) pending.push(Promise.resolve(result).then(undefined, callbackFailed))
        } catch (error) {
          callbackFailed(error)
        }
      }
      return pending.length === 0 ? Effect.void : Effect.promise(() => Promise.all(pending))
    })
  }

  const warn = (key: "failure" | "rejected", message: string, annotations: Record<string, unknown>) => {
    runFork(warnOnce(key, message, annotations))
  }

  const spanHost = spanHostOf({
    counters,
    reported,
    remember,
    publish: publishAll,
    warn,
    drop,
    settled: checkFlushWaiters
  })
  spans = yield* SpanDelivery.make(
    { maxBatchSpans, maxBatchBytes, batchDelay, concurrency, maxQueued, dropPolicy },
    spanHost,
    scope,
    workerClock
  )
  const spanPipeline = spans

  const offerSpan = (event: SpanTrackEvent): boolean => {
    if (closed) {
      drop(event, "the tracker is shut down")
      return false
    }
    const accepted = spanPipeline.offer(event, lastSeq + 1)
    if (accepted) {
      lastSeq++
      counters.accepted++
    }
    return accepted
  }

  const worker = Effect.forever(Effect.flatMap(take, deliver))
  const workers = yield* Effect.all(
    Array.from({ length: concurrency }, () => worker),
    { concurrency: "unbounded", discard: true }
  ).pipe(Effect.provideService(Clock.Clock, workerClock), Effect.forkIn(scope))

  // The delivery fibers' timers are unref'd; a flush being awaited holds the process open (at most
  // `shutdownTimeout`), or a process whose logs all wait in backoff would exit under an awaited flush.
  const keepAliveMillis = Duration.toMillis(shutdownTimeout)
  const keepAlive = (): (() => void) => (liveClock ? holdOpen(keepAliveMillis) : () => {})

  const flush: Effect.Effect<void> = Effect.callback<void>((resume) => {
    const upTo = lastSeq
    spanPipeline.requestFlush()
    if (minOutstanding() > upTo) {
      resume(Effect.void)
      return
    }
    const release = keepAlive()
    // Ready when a delivery fiber settles its last entry: the waiter goes on later, not in that fiber.
    const later = resumeLater(resume)
    const waiter = {
      upTo,
      resume: () => {
        release()
        later(Effect.void)
      }
    }
    flushWaiters.push(waiter)
    return Effect.sync(() => {
      release()
      flushWaiters = flushWaiters.filter((w) => w !== waiter)
    })
  }).pipe(Effect.withSpan("PromptLayerTracker.flush"))

  let shutdownFiber: Fiber.Fiber<void> | undefined
  const doShutdown = Effect.gen(function* () {
    closed = true
    const flushed = yield* flush.pipe(
      Effect.timeoutOption(shutdownTimeout),
      Effect.provideService(Clock.Clock, workerClock)
    )
    if (flushed._tag === "None") {
      yield* Effect.logWarning("PromptLayer tracker shut down before every log was delivered").pipe(
        Effect.annotateLogs({ ...statsUnsafe() })
      )
    }
    yield* Fiber.interrupt(workers)
    yield* spanPipeline.stop
    // An entry handed to a worker that was interrupted before it resumed would never settle.
    for (const entry of inFlight) {
      counters.failed++
      const runId = entry.event.runId
      if (runId !== undefined) remember(runId, shutdownOutcome)
    }
    inFlight.clear()
    for (let entry = buffer.shift(); entry !== undefined; entry = buffer.shift()) {
      drop(entry.event, "the tracker shut down before it was delivered")
    }
    checkFlushWaiters()
    yield* PubSub.shutdown(pubsub)
    outcomes.releaseAll(shutdownOutcome)
  })
  const shutdown: Effect.Effect<void> = Effect.suspend(() => {
    if (shutdownFiber === undefined) shutdownFiber = runFork(doShutdown)
    return Fiber.join(shutdownFiber)
  }).pipe(Effect.withSpan("PromptLayerTracker.shutdown"))

  yield* Scope.addFinalizer(scope, shutdown)

  const requestIdFor = (runId: string): Effect.Effect<number, RequestIdUnavailable> =>
    Effect.callback<number, RequestIdUnavailable>((resume) => {
      const result = (outcome: Outcome) =>
        typeof outcome === "number" ? Effect.succeed(outcome) : Effect.fail(unavailable(runId, outcome))
      const known = outcomes.get(runId)
      if (known !== undefined) {
        resume(result(known))
        return
      }
      if (closed && shutdownFiber !== undefined) {
        resume(result(shutdownOutcome))
        return
      }
      // Completed by a delivery fiber as it records the outcome: the waiter goes on later.
      const later = resumeLater(resume)
      return Effect.sync(outcomes.wait(runId, (outcome) => later(result(outcome))))
    })

  const service = PromptLayerTracker.of({
    offer,
    track: (event) => Effect.sync(() => offer(event)),
    offerSpan,
    sendNow: () => spanPipeline.requestFlush(),
    flush,
    shutdown,
    stats: Effect.sync(statsUnsafe),
    statsUnsafe,
    requestIds: Stream.fromPubSub(pubsub),
    subscribe: Effect.map(PubSub.subscribe(pubsub), Stream.fromSubscription),
    requestIdFor,
    isShutdown: () => closed
  })
  SpanDelivery.register(service, spanPipeline)
  return service
})

/**
 * Builds a tracker whose fibers live in the current scope; closing the scope shuts it down
 * (flushing first, at most `shutdownTimeout`). Its background fibers run on the macrotask queue
 * whatever scheduler it is built under (`Effect.runSync` included), so that delivery never runs
 * between the awaits of an LLM call.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): ReturnType<typeof makeScheduled> =>
  makeScheduled(options).pipe(Effect.provideService(Scheduler.Scheduler, backgroundScheduler))

// =============================================================================
// Layers
// =============================================================================

/**
 * The tracker as a scoped layer over the app's {@link PromptLayerClient}.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<PromptLayerTracker, never, PromptLayerClient.PromptLayerClient> =>
  Layer.effect(PromptLayerTracker, make(options))

/** The options read from the environment whose values must be integers >= 1. */
const COUNT_VARIABLES = {
  concurrency: "PROMPTLAYER_TRACKER_CONCURRENCY",
  maxQueued: "PROMPTLAYER_TRACKER_MAX_QUEUED",
  maxBatchSpans: "PROMPTLAYER_TRACKER_MAX_BATCH_SPANS",
  maxBatchBytes: "PROMPTLAYER_TRACKER_MAX_BATCH_BYTES"
} as const

/** Fails with a `ConfigError` at the first count below 1, naming its variable. */
const checkCounts = <O extends { readonly [K in keyof typeof COUNT_VARIABLES]: number }>(
  options: O
): Effect.Effect<O, Config.ConfigError> => {
  const invalid = (Object.keys(COUNT_VARIABLES) as Array<keyof typeof COUNT_VARIABLES>).find((key) => options[key] < 1)
  if (invalid === undefined) return Effect.succeed(options)
  const message =
    "PROMPTLAYER_TRACKER_CONCURRENCY, PROMPTLAYER_TRACKER_MAX_QUEUED, PROMPTLAYER_TRACKER_MAX_BATCH_SPANS and PROMPTLAYER_TRACKER_MAX_BATCH_BYTES must be integers >= 1"
  const issue = new SchemaIssue.Pointer(
    [COUNT_VARIABLES[invalid]],
    new SchemaIssue.InvalidValue({ message }, options[invalid])
  )
  return Effect.fail(new Config.ConfigError(new Schema.SchemaError(issue)))
}

/**
 * The options read from the environment: `PROMPTLAYER_TRACKER_CONCURRENCY`,
 * `PROMPTLAYER_TRACKER_MAX_QUEUED`, `PROMPTLAYER_TRACKER_DROP_POLICY` (`newest` | `oldest`),
 * `PROMPTLAYER_TRACKER_SHUTDOWN_TIMEOUT_MS`, and for spans `PROMPTLAYER_TRACKER_MAX_BATCH_SPANS`,
 * `PROMPTLAYER_TRACKER_MAX_BATCH_BYTES`, `PROMPTLAYER_TRACKER_BATCH_DELAY_MS`, each defaulting to
 * {@link defaults}.
 *
 * @since 0.1.0
 * @category Config
 */
export const config: Config.Config<Options> = Config.all({
  concurrency: Config.Int("PROMPTLAYER_TRACKER_CONCURRENCY").pipe(Config.withDefault(defaults.concurrency)),
  maxQueued: Config.Int("PROMPTLAYER_TRACKER_MAX_QUEUED").pipe(Config.withDefault(defaults.maxQueued)),
  dropPolicy: Config.Literals(["newest", "oldest"], "PROMPTLAYER_TRACKER_DROP_POLICY").pipe(
    Config.withDefault(defaults.dropPolicy)
  ),
  shutdownTimeout: Config.Int("PROMPTLAYER_TRACKER_SHUTDOWN_TIMEOUT_MS").pipe(
    Config.map(Duration.millis),
    Config.withDefault(defaults.shutdownTimeout)
  ),
  maxBatchSpans: Config.Int("PROMPTLAYER_TRACKER_MAX_BATCH_SPANS").pipe(Config.withDefault(defaults.maxBatchSpans)),
  maxBatchBytes: Config.Int("PROMPTLAYER_TRACKER_MAX_BATCH_BYTES").pipe(Config.withDefault(defaults.maxBatchBytes)),
  batchDelay: Config.Int("PROMPTLAYER_TRACKER_BATCH_DELAY_MS").pipe(
    Config.map(Duration.millis),
    Config.withDefault(defaults.batchDelay)
  )
}).pipe(Config.mapEffect(checkCounts))

/**
 * The tracker configured from the environment (see {@link config}).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig: Layer.Layer<PromptLayerTracker, Config.ConfigError, PromptLayerClient.PromptLayerClient> =
  Layer.effect(
    PromptLayerTracker,
    Effect.flatMap(config, (options) => make(options))
  )

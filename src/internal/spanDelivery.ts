/**
 * The tracker's span pipeline: spans offered by the handler wait in a bounded queue; one background
 * fiber builds, validates and encodes them (off the callback's path) and packs them into batches
 * by count, bytes and a debounce from the first span of the open batch; `concurrency` fibers send
 * the batches through the client (`spans.bulkEncoded`, so with its retry and timeout layers). A
 * batch refused as invalid is split until the poison span fails alone; spans of a closed trace
 * (`rejected_span_ids`) are counted as rejected, never retried.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import * as PromptLayerClient from "../PromptLayerClient.js"
import type { PromptLayerError } from "../PromptLayerError.js"
import * as PromptLayerRetryPolicy from "../PromptLayerRetryPolicy.js"
import type * as S from "../PromptLayerSchema.js"
import { type Batch, Batcher, sendSplitting } from "./spanBatcher.js"
import * as SpanWire from "./spanWire.js"

/** A span to deliver; `build` runs in the background fiber. */
export interface SpanJob {
  readonly build: () => S.SpanInput
  readonly runId?: string | undefined
}

interface Entry<J extends SpanJob> {
  readonly seq: number
  readonly job: J
}

interface Item<J extends SpanJob> {
  readonly entry: Entry<J>
  readonly encoded: PromptLayerClient.EncodedSpan
}

/** What the tracker does when a span settles; each is called once per span. */
export interface Host<J extends SpanJob> {
  /** Stored; `requestId` is the request log created for its `log_request`, if any. */
  readonly delivered: (
    job: J,
    encoded: PromptLayerClient.EncodedSpan,
    requestId: number | undefined
  ) => Effect.Effect<void>
  readonly failed: (job: J, detail: string) => Effect.Effect<void>
  readonly rejected: (job: J, detail: string) => Effect.Effect<void>
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

/** Spans built per step of the assembler before it yields to other fibers. */
const BUILD_SLICE = 64

/** A FIFO with O(1) push and shift. */
class Fifo<A> {
  private items: Array<A | undefined> = []
  private head = 0
  get size(): number {
    return this.items.length - this.head
  }
  push(a: A): void {
    this.items.push(a)
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

const describe = (error: unknown): string => {
  const text =
    error instanceof Error ? `${(error as { _tag?: string })._tag ?? error.name}: ${error.message}` : String(error)
  return text.length > 500 ? text.slice(0, 500) : text
}

/** A refusal that may be one span's: splitting the batch can isolate it. */
const isSplittable = (error: PromptLayerError): boolean =>
  error._tag === "ValidationError" ||
  (error._tag === "InvalidRequestError" && (error.status === 400 || error.status === 413 || error.status === 422))

/** The pipeline, with its fibers in `scope`. */
export const make = <J extends SpanJob>(
  options: Options,
  host: Host<J>,
  scope: Scope.Scope,
  clock: Clock.Clock
): Effect.Effect<
  {
    readonly offer: (job: J, seq: number) => boolean
    readonly requestFlush: () => void
    readonly minOutstanding: () => number
    readonly queued: () => number
    readonly inFlight: () => number
    /** Stops the fibers; what is still in flight fails, what still waits is dropped. */
    readonly stop: Effect.Effect<void>
  },
  never,
  PromptLayerClient.PromptLayerClient
> =>
  Effect.gen(function* () {
    const client = yield* PromptLayerClient.PromptLayerClient
    const queue = new Fifo<Entry<J>>()
    const batcher = new Batcher<Item<J>>({
      maxItems: options.maxBatchSpans,
      maxBytes: options.maxBatchBytes,
      overheadBytes: SpanWire.bodyOverheadBytes
    })
    const ready = new Fifo<Batch<Item<J>>>()
    let readyItems = 0
    const inFlight = new Set<Item<J>>()
    const outstanding = new Set<number>()
    let openedAt = 0
    let flushRequested = false
    let wake: (() => void) | undefined
    const senderWakers: Array<() => void> = []
    const delayMs = Duration.toMillis(options.batchDelay)

    const signal = () => {
      const w = wake
      if (w !== undefined) {
        wake = undefined
        w()
      }
    }

    const settle = (seq: number) => {
      outstanding.delete(seq)
      host.settled()
    }

    const waiting = () => queue.size + batcher.pending + readyItems

    const offer = (job: J, seq: number): boolean => {
      if (waiting() >= options.maxQueued) {
        const oldest = options.dropPolicy === "oldest" ? queue.shift() : undefined
        if (oldest === undefined) {
          host.dropped(job, `the span queue is full (${options.maxQueued} waiting)`)
          return false
        }
        host.dropped(oldest.job, `the span queue is full (${options.maxQueued} waiting), oldest dropped`)
        settle(oldest.seq)
      }
      outstanding.add(seq)
      queue.push({ seq, job })
      signal()
      return true
    }

    const dispatch = (batch: Batch<Item<J>> | undefined) => {
      if (batch === undefined) return
      ready.push(batch)
      readyItems += batch.items.length
      senderWakers.shift()?.()
    }

    /** Builds, validates and encodes up to a slice of queued spans into the batcher. */
    const assemble = Effect.suspend(() => {
      const failures: Array<Effect.Effect<void>> = []
      for (let i = 0; i < BUILD_SLICE; i++) {
        const entry = queue.shift()
        if (entry === undefined) break
        let encoded: ReturnType<typeof PromptLayerClient.encodeSpanEither>
        try {
          encoded = PromptLayerClient.encodeSpanEither(entry.job.build())
        } catch (error) {
          failures.push(
            Effect.ensuring(
              host.failed(entry.job, `building the span failed: ${describe(error)}`),
              Effect.sync(() => settle(entry.seq))
            )
          )
          continue
        }
        if (Either.isLeft(encoded)) {
          failures.push(
            Effect.ensuring(
              host.failed(entry.job, describe(encoded.left)),
              Effect.sync(() => settle(entry.seq))
            )
          )
          continue
        }
        if (batcher.pending === 0) openedAt = clock.unsafeCurrentTimeMillis()
        for (const batch of batcher.add({ entry, encoded: encoded.right }, encoded.right.bytes)) dispatch(batch)
        if (batcher.pending === 0) openedAt = 0
      }
      return Effect.all(failures, { discard: true })
    })

    const wakeup = (condition: () => boolean) =>
      Effect.async<void>((resume) => {
        if (condition()) {
          resume(Effect.void)
          return
        }
        wake = () => resume(Effect.void)
        return Effect.sync(() => {
          wake = undefined
        })
      })

    const step: Effect.Effect<void> = Effect.gen(function* () {
      yield* assemble
      if (queue.size > 0) return yield* Effect.yieldNow()
      if (batcher.pending === 0) {
        flushRequested = false
        return yield* wakeup(() => queue.size > 0)
      }
      const now = yield* Clock.currentTimeMillis
      if (flushRequested || now - openedAt >= delayMs) {
        flushRequested = false
        return dispatch(batcher.drain())
      }
      yield* Effect.raceFirst(
        Effect.sleep(Duration.millis(openedAt + delayMs - now)),
        wakeup(() => queue.size > 0 || flushRequested)
      )
    })

    const takeBatch = Effect.async<Batch<Item<J>>>((resume) => {
      const take = () => {
        const batch = ready.shift()
        if (batch === undefined) return false
        readyItems -= batch.items.length
        for (const item of batch.items) inFlight.add(item)
        resume(Effect.succeed(batch))
        return true
      }
      if (take()) return
      const waker = () => {
        if (!take()) senderWakers.push(waker)
      }
      senderWakers.push(waker)
      return Effect.sync(() => {
        const i = senderWakers.indexOf(waker)
        if (i >= 0) senderWakers.splice(i, 1)
      })
    })

    const sendItems = (items: ReadonlyArray<Item<J>>) =>
      client.spans.bulkEncoded(items.map((item) => item.encoded)).pipe(
        Effect.tap(() => Effect.sync(host.batchSent)),
        Effect.locally(PromptLayerRetryPolicy.currentRetryObserver, () => Effect.sync(host.retried))
      )

    const settleSent = (items: ReadonlyArray<Item<J>>, response: S.CreateSpansBulkResponse) => {
      const logs = new Map<string, Array<number>>()
      for (const log of response.request_logs ?? []) {
        const ids = logs.get(log.span_id)
        if (ids === undefined) logs.set(log.span_id, [log.id])
        else ids.push(log.id)
      }
      const rejected = new Set(response.rejected_span_ids ?? [])
      const reason = response.rejection_reason ?? "rejected"
      return Effect.forEach(
        items,
        (item) => {
          const outcome = rejected.has(item.encoded.spanId)
            ? host.rejected(item.entry.job, `${reason} (trace ${item.encoded.traceId})`)
            : host.delivered(item.entry.job, item.encoded, logs.get(item.encoded.spanId)?.shift())
          return Effect.ensuring(
            outcome,
            Effect.sync(() => {
              inFlight.delete(item)
              settle(item.entry.seq)
            })
          )
        },
        { discard: true }
      )
    }

    const send = (batch: Batch<Item<J>>) =>
      Effect.uninterruptibleMask((restore) =>
        restore(sendSplitting(batch.items, sendItems, isSplittable)).pipe(
          Effect.flatMap((settled) =>
            Effect.forEach(
              settled,
              (part) =>
                part._tag === "sent"
                  ? settleSent(part.items, part.response)
                  : Effect.forEach(
                      part.items,
                      (item) =>
                        Effect.ensuring(
                          host.failed(item.entry.job, describe(part.error)),
                          Effect.sync(() => {
                            inFlight.delete(item)
                            settle(item.entry.seq)
                          })
                        ),
                      { discard: true }
                    ),
              { discard: true }
            )
          )
        )
      )

    // A defect in one step (a bug) must not stop the pipeline: every later span would wait forever.
    const guarded = Effect.catchAllCause(step, (cause) =>
      Effect.logError("PromptLayer span pipeline: a step failed; it goes on").pipe(Effect.annotateLogs({ cause }))
    )
    const assembler = yield* Effect.forkIn(Effect.withClock(Effect.forever(guarded), clock), scope)
    const senders = yield* Effect.forkIn(
      Effect.all(
        Array.from({ length: options.concurrency }, () => Effect.forever(Effect.flatMap(takeBatch, send))),
        { concurrency: "unbounded", discard: true }
      ).pipe(Effect.withClock(clock)),
      scope
    )

    const stop = Effect.gen(function* () {
      yield* Fiber.interrupt(assembler)
      yield* Fiber.interrupt(senders)
      const lost: Array<Effect.Effect<void>> = []
      for (const item of inFlight) {
        lost.push(
          Effect.ensuring(
            host.failed(item.entry.job, "the tracker shut down before it was delivered"),
            Effect.sync(() => settle(item.entry.seq))
          )
        )
      }
      inFlight.clear()
      const drop = (entry: Entry<J>) => {
        host.dropped(entry.job, "the tracker shut down before it was delivered")
        settle(entry.seq)
      }
      for (let batch = ready.shift(); batch !== undefined; batch = ready.shift())
        for (const item of batch.items) drop(item.entry)
      readyItems = 0
      for (const item of batcher.drain()?.items ?? []) drop(item.entry)
      for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) drop(entry)
      yield* Effect.all(lost, { discard: true })
    })

    return {
      offer,
      requestFlush: () => {
        flushRequested = true
        signal()
      },
      minOutstanding: () => {
        const first = outstanding.values().next()
        return first.done ? Number.POSITIVE_INFINITY : first.value
      },
      queued: waiting,
      inFlight: () => inFlight.size,
      stop
    }
  })

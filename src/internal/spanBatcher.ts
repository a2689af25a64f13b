/**
 * Batching of encoded spans for `POST /spans-bulk`: by count and by bytes ({@link Batcher}, pure and
 * synchronous; the debounce timer is the caller's), and the split-and-retry of a batch the server
 * refused as invalid ({@link sendSplitting}): the batch is atomic on the server, so one poison span
 * would otherwise lose every span sent with it.
 *
 * @internal
 */
import * as Effect from "effect/Effect"

/** Limits of one batch. */
export interface BatcherOptions {
  /** Items per batch at most. */
  readonly maxItems: number
  /** Body bytes per batch at most (a single item larger than this goes alone). */
  readonly maxBytes: number
  /** Bytes of the body around its items (`{"spans":[` … `]}`); each item after the first adds 1 (a comma). */
  readonly overheadBytes: number
}

/** A closed batch, its items in the order they were added. */
export interface Batch<A> {
  readonly items: ReadonlyArray<A>
  /** The body's size: overhead, items and the commas between them. */
  readonly bytes: number
}

/**
 * Collects items into batches of at most `maxItems` items and `maxBytes` body bytes, in order.
 * `add` returns the batches it closed (none, one, or two when an item both overflows the open batch
 * and fills a new one by itself); `drain` closes the open batch.
 */
export class Batcher<A> {
  private items: Array<A> = []
  private bytes: number

  constructor(readonly options: BatcherOptions) {
    this.bytes = options.overheadBytes
  }

  /** Items in the open batch. */
  get pending(): number {
    return this.items.length
  }

  /** Body bytes of the open batch. */
  get pendingBytes(): number {
    return this.bytes
  }

  add(item: A, size: number): ReadonlyArray<Batch<A>> {
    const closed: Array<Batch<A>> = []
    if (this.items.length > 0 && this.bytes + 1 + size > this.options.maxBytes) {
      closed.push(this.close())
    }
    this.bytes += (this.items.length > 0 ? 1 : 0) + size
    this.items.push(item)
    if (this.items.length >= this.options.maxItems || this.bytes >= this.options.maxBytes) {
      closed.push(this.close())
    }
    return closed
  }

  /** Closes the open batch, if it has items. */
  drain(): Batch<A> | undefined {
    return this.items.length === 0 ? undefined : this.close()
  }

  /** Removes and returns the oldest item of the open batch (to drop it under memory pressure). */
  shift(size: (item: A) => number): A | undefined {
    const item = this.items.shift()
    if (item === undefined) return undefined
    this.bytes -= size(item) + (this.items.length > 0 ? 1 : 0)
    return item
  }

  private close(): Batch<A> {
    const batch: Batch<A> = { items: this.items, bytes: this.bytes }
    this.items = []
    this.bytes = this.options.overheadBytes
    return batch
  }
}

/** What became of part of a batch after {@link sendSplitting}. */
export type Settled<A, R, E> =
  | { readonly _tag: "sent"; readonly items: ReadonlyArray<A>; readonly response: R }
  | { readonly _tag: "failed"; readonly items: ReadonlyArray<A>; readonly error: E }

/**
 * Sends `items`; when the batch is refused as a whole for a reason that may be one item's
 * (`isSplittable`: a 400/422 or a validation error), sends each half again, recursively, so that a
 * poison item fails alone: at most about 2·log2(n) extra requests per poison item. Other failures
 * (5xx after retries, transport, auth) fail the whole batch: splitting would not help.
 */
export const sendSplitting = <A, R, E, Req>(
  items: ReadonlyArray<A>,
  send: (items: ReadonlyArray<A>) => Effect.Effect<R, E, Req>,
  isSplittable: (error: E) => boolean
): Effect.Effect<ReadonlyArray<Settled<A, R, E>>, never, Req> =>
  Effect.matchEffect(send(items), {
    onSuccess: (response) => Effect.succeed([{ _tag: "sent", items, response } as const]),
    onFailure: (error) => {
      if (items.length < 2 || !isSplittable(error)) return Effect.succeed([{ _tag: "failed", items, error } as const])
      const middle = Math.ceil(items.length / 2)
      return Effect.zipWith(
        sendSplitting(items.slice(0, middle), send, isSplittable),
        sendSplitting(items.slice(middle), send, isSplittable),
        (left, right) => [...left, ...right]
      )
    }
  })

/**
 * A map that keeps its most recently set `capacity` entries, oldest forgotten first, in O(1) per
 * operation.
 *
 * Why not a `Map` trimmed with `map.delete(map.keys().next().value)`: V8 leaves a deleted entry
 * as a hole at the head of the map's table until it is rehashed, and `keys().next()` walks every
 * hole, so that trimming costs O(capacity) per call on a map that is always full (measured: a
 * quarter of the traces mode's callback time with 10 000 remembered runs). Here the insertion
 * order lives in a ring of keys instead.
 *
 * @internal
 */

/** The most recently set `capacity` entries. */
export class RecentMap<K, V> {
  private readonly values = new Map<K, V>()
  /** Keys in the order they were set; a key may appear more than once (see `stale`). */
  private order: Array<K | undefined> = []
  private head = 0
  /** Per key, how many of its occurrences in `order` are stale (it was set again, or deleted). */
  private readonly stale = new Map<K, number>()

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.values.size
  }

  get(key: K): V | undefined {
    return this.values.get(key)
  }

  has(key: K): boolean {
    return this.values.has(key)
  }

  /** Sets the entry as the newest, forgetting the oldest beyond `capacity`. */
  set(key: K, value: V): void {
    const size = this.values.size
    this.values.set(key, value)
    if (this.values.size === size) this.markStale(key)
    this.order.push(key)
    while (this.values.size > this.capacity) this.forgetOldest()
    if (this.order.length > 2 * this.capacity + 64) this.compact()
  }

  /** The live entries, in no particular order. */
  entries(): IterableIterator<[K, V]> {
    return this.values.entries()
  }

  delete(key: K): boolean {
    if (!this.values.delete(key)) return false
    this.markStale(key)
    return true
  }

  private markStale(key: K): void {
    this.stale.set(key, (this.stale.get(key) ?? 0) + 1)
  }

  private forgetOldest(): void {
    while (this.head < this.order.length) {
      const key = this.order[this.head] as K
      this.order[this.head] = undefined
      this.head++
      const stale = this.stale.size === 0 ? undefined : this.stale.get(key)
      if (stale === undefined) {
        this.values.delete(key)
        return
      }
      if (stale === 1) this.stale.delete(key)
      else this.stale.set(key, stale - 1)
    }
  }

  /** Drops the consumed head of `order` and the stale occurrences, keeping the live keys in order. */
  private compact(): void {
    const live: Array<K | undefined> = []
    const skip = new Map(this.stale)
    for (let i = this.head; i < this.order.length; i++) {
      const key = this.order[i] as K
      const n = skip.get(key)
      if (n !== undefined) {
        if (n === 1) skip.delete(key)
        else skip.set(key, n - 1)
        continue
      }
      live.push(key)
    }
    this.order = live
    this.head = 0
    this.stale.clear()
  }
}

/**
 * The span batcher (count and byte limits, order, drain) and the split-and-retry of a batch the
 * server refuses as invalid, as properties over arbitrary inputs (fast-check).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import fc from "fast-check"
import { type Batch, Batcher, sendSplitting } from "../src/internal/spanBatcher.js"

interface Item {
  readonly n: number
  readonly size: number
}

const runBatcher = (
  items: ReadonlyArray<Item>,
  options: { maxItems: number; maxBytes: number; overheadBytes: number },
  flushAt: ReadonlySet<number>
) => {
  const batcher = new Batcher<Item>(options)
  const batches: Array<Batch<Item>> = []
  items.forEach((item, i) => {
    batches.push(...batcher.add(item, item.size))
    if (flushAt.has(i)) {
      const drained = batcher.drain()
      if (drained !== undefined) batches.push(drained)
      assert.strictEqual(batcher.pending, 0, "nothing pending after a drain")
    }
  })
  const last = batcher.drain()
  if (last !== undefined) batches.push(last)
  return { batches, batcher }
}

const bodyBytes = (batch: Batch<Item>, overheadBytes: number) =>
  overheadBytes + batch.items.reduce((sum, item) => sum + item.size, 0) + Math.max(0, batch.items.length - 1)

describe("Batcher", () => {
  it("property: batches keep every item once, in order, within the count and byte limits; drains close the open batch", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 50, max: 20_000 }),
        fc.integer({ min: 0, max: 40 }),
        fc.uniqueArray(fc.nat({ max: 400 }), { maxLength: 10 }),
        (sizes, maxItems, maxBytes, overheadBytes, flushes) => {
          const items = sizes.map((size, n) => ({ n, size }))
          const options = { maxItems, maxBytes, overheadBytes }
          const { batches, batcher } = runBatcher(items, options, new Set(flushes))
          assert.deepStrictEqual(
            batches.flatMap((batch) => batch.items.map((item) => item.n)),
            items.map((item) => item.n),
            "every item exactly once, in the order added"
          )
          for (const batch of batches) {
            assert.isAbove(batch.items.length, 0, "no empty batch")
            assert.isAtMost(batch.items.length, maxItems)
            assert.strictEqual(batch.bytes, bodyBytes(batch, overheadBytes), "bytes counted exactly")
            if (batch.items.length > 1) assert.isAtMost(batch.bytes, maxBytes, "over the byte cap only when alone")
          }
          assert.strictEqual(batcher.pending, 0)
          assert.strictEqual(batcher.pendingBytes, overheadBytes)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("property: a batch is closed as soon as it is full, not later (no batch could have taken the next item)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 100, max: 10_000 }),
        (sizes, maxItems, maxBytes) => {
          const items = sizes.map((size, n) => ({ n, size }))
          const { batches } = runBatcher(items, { maxItems, maxBytes, overheadBytes: 12 }, new Set())
          batches.slice(0, -1).forEach((batch, i) => {
            const next = batches[i + 1]!.items[0]!
            const full = batch.items.length >= maxItems || batch.bytes >= maxBytes
            assert.isTrue(
              full || batch.bytes + 1 + next.size > maxBytes,
              "closed only when full or the next would overflow"
            )
          })
        }
      ),
      { numRuns: 300 }
    )
  })

  it("shift removes the oldest pending item and its bytes", () => {
    const batcher = new Batcher<Item>({ maxItems: 10, maxBytes: 1000, overheadBytes: 5 })
    batcher.add({ n: 1, size: 10 }, 10)
    batcher.add({ n: 2, size: 20 }, 20)
    assert.strictEqual(batcher.pendingBytes, 5 + 10 + 1 + 20)
    assert.deepStrictEqual(
      batcher.shift((item) => item.size),
      { n: 1, size: 10 }
    )
    assert.strictEqual(batcher.pendingBytes, 5 + 20)
    assert.deepStrictEqual(batcher.drain()?.items, [{ n: 2, size: 20 }])
  })
})

describe("sendSplitting", () => {
  it.effect("property: a poison item fails alone; every other item is sent exactly once; bounded requests", () =>
    Effect.sync(() =>
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 200 }),
          fc.uniqueArray(fc.nat({ max: 199 }), { maxLength: 5 }),
          (count, poisonIndexes) => {
            const items = Array.from({ length: count }, (_, n) => n)
            const poison = new Set(poisonIndexes.filter((i) => i < count))
            const sent: Array<number> = []
            let requests = 0
            const send = (batch: ReadonlyArray<number>) =>
              Effect.suspend(() => {
                requests++
                if (batch.some((n) => poison.has(n))) return Effect.fail("invalid" as const)
                sent.push(...batch)
                return Effect.succeed(batch.length)
              })
            const settled = Effect.runSync(sendSplitting(items, send, (error) => error === "invalid"))
            const failed = settled.flatMap((s) => (s._tag === "failed" ? s.items : []))
            assert.deepStrictEqual(
              [...failed].sort((a, b) => a - b),
              [...poison].sort((a, b) => a - b)
            )
            for (const s of settled) if (s._tag === "failed") assert.lengthOf(s.items, 1, "a failure is one item")
            assert.deepStrictEqual(
              sent,
              items.filter((n) => !poison.has(n)),
              "the others exactly once, in order"
            )
            const depth = Math.ceil(Math.log2(Math.max(2, count)))
            assert.isAtMost(requests, 1 + Math.max(1, poison.size) * 2 * depth + 1)
          }
        ),
        { numRuns: 200 }
      )
    )
  )

  it.effect("a failure that is not splittable fails the whole batch in one request", () =>
    Effect.gen(function* () {
      let requests = 0
      const settled = yield* sendSplitting(
        [1, 2, 3, 4],
        () =>
          Effect.suspend(() => {
            requests++
            return Effect.fail("server down")
          }),
        (error) => error === "invalid"
      )
      assert.strictEqual(requests, 1)
      assert.deepStrictEqual(settled, [{ _tag: "failed", items: [1, 2, 3, 4], error: "server down" }])
    })
  )
})

/**
 * The bounded map of recent entries behind the run tree's ended runs, the tracker's remembered
 * outcomes and the handler's prompt links: capacity, oldest-first forgetting, refresh and delete.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { RecentMap } from "../src/internal/recentMap.js"

describe("RecentMap", () => {
  it("keeps the last `capacity` entries set, forgetting the oldest first", () => {
    const map = new RecentMap<string, number>(3)
    for (let i = 1; i <= 5; i++) map.set(`k${i}`, i)
    assert.strictEqual(map.size, 3)
    assert.isFalse(map.has("k2"))
    assert.deepStrictEqual(
      ["k3", "k4", "k5"].map((k) => map.get(k)),
      [3, 4, 5]
    )
  })

  it("setting a key again makes it the newest; a deleted key leaves no trace", () => {
    const map = new RecentMap<string, number>(2)
    map.set("a", 1)
    map.set("b", 2)
    map.set("a", 3)
    map.set("c", 4)
    assert.deepStrictEqual([map.get("a"), map.has("b"), map.get("c")], [3, false, 4])
    map.delete("a")
    map.set("d", 5)
    map.set("a", 6)
    assert.deepStrictEqual([map.has("c"), map.get("d"), map.get("a")], [false, 5, 6])
  })

  it("property: behaves like a Map trimmed oldest-first (the reference model), whatever the operations", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), key: fc.integer({ min: 0, max: 12 }), value: fc.integer() }),
      fc.record({ kind: fc.constant("delete" as const), key: fc.integer({ min: 0, max: 12 }) })
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 300 }), (capacity, ops) => {
        const map = new RecentMap<number, number>(capacity)
        const model = new Map<number, number>()
        for (const o of ops) {
          if (o.kind === "set") {
            map.set(o.key, o.value)
            model.delete(o.key)
            model.set(o.key, o.value)
            if (model.size > capacity) model.delete(model.keys().next().value as number)
          } else {
            assert.strictEqual(map.delete(o.key), model.delete(o.key))
          }
          assert.strictEqual(map.size, model.size)
        }
        assert.deepStrictEqual(
          new Map([...map.entries()].sort((a, b) => a[0] - b[0])),
          new Map([...model].sort((a, b) => a[0] - b[0]))
        )
      }),
      { numRuns: 300 }
    )
  })
})

/**
 * The traces mode's callback state machine: ids, parents, hidden runs, duplicates, late children,
 * eviction and events.
 */
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { RunTree, spanIdOf, traceIdOf } from "../src/internal/runTree.js"

const tree = (maxRuns = 100) => new RunTree<string>({ maxRuns, rememberEnded: 100 })

const started = <D>(result: ReturnType<RunTree<D>["start"]>) => {
  assert.strictEqual(result._tag, "started")
  return (result as Extract<typeof result, { _tag: "started" }>).run
}

const ROOT = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
const CHILD = "0190a2b4-7c6e-7d3a-9f00-aa11bb22cc33"
const GRANDCHILD = "0190a2b4-7c6e-7d3a-9f00-aa11bb22cc34"

describe("ids", () => {
  it("a trace id is the root run's UUID as 32 lowercase hex digits; other run ids are hashed", () => {
    assert.strictEqual(traceIdOf(ROOT), "1b4e28ba2fa111d2883f0016d3cca427")
    assert.strictEqual(traceIdOf(ROOT.toUpperCase()), "1b4e28ba2fa111d2883f0016d3cca427")
    assert.match(traceIdOf("my-run"), /^[0-9a-f]{32}$/)
    assert.strictEqual(traceIdOf("my-run"), traceIdOf("my-run"), "deterministic")
    assert.notStrictEqual(
      traceIdOf("00000000-0000-0000-0000-000000000000"),
      "0".repeat(32),
      "never the invalid all-zero id"
    )
  })

  it("property: span ids are 16 hex digits, deterministic, and distinct for the runs of a trace", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.uuid(), { minLength: 1, maxLength: 300 }), (runIds) => {
        const t = tree(1000)
        const root = started(t.start(runIds[0]!, undefined, false, "root", 0))
        const ids = new Set([root.spanId])
        for (const runId of runIds.slice(1)) {
          const run = started(t.start(runId, runIds[0], false, "child", 0))
          assert.match(run.spanId, /^[0-9a-f]{16}$/)
          assert.strictEqual(run.spanId, spanIdOf(runId))
          assert.strictEqual(run.traceId, root.traceId)
          ids.add(run.spanId)
        }
        assert.strictEqual(ids.size, runIds.length)
      }),
      { numRuns: 50 }
    )
  })
})

describe("RunTree", () => {
  it("children share the root's trace; parent_id is the parent's span id; a root has none", () => {
    const t = tree()
    const root = started(t.start(ROOT, undefined, false, "root", 1))
    const child = started(t.start(CHILD, ROOT, false, "child", 2))
    assert.isNull(root.parentSpanId)
    assert.strictEqual(child.traceId, traceIdOf(ROOT))
    assert.strictEqual(child.parentSpanId, root.spanId)
    assert.strictEqual(t.traceIdFor(CHILD), traceIdOf(ROOT))
  })

  it("a hidden run's children attach to its nearest visible ancestor, through several hidden levels", () => {
    const t = tree()
    const root = started(t.start(ROOT, undefined, false, "root", 1))
    started(t.start(CHILD, ROOT, true, "hidden", 2))
    started(t.start("hidden-2", CHILD, true, "hidden too", 3))
    const leaf = started(t.start(GRANDCHILD, "hidden-2", false, "leaf", 4))
    assert.strictEqual(leaf.parentSpanId, root.spanId)
    assert.strictEqual(leaf.traceId, root.traceId)
  })

  it("a run whose parent was never seen starts a trace of its own; one whose parent ended still joins it", () => {
    const t = tree()
    const orphan = started(t.start(CHILD, "never-seen", false, "orphan", 1))
    assert.strictEqual(orphan.traceId, traceIdOf(CHILD))
    assert.isNull(orphan.parentSpanId)
    const root = started(t.start(ROOT, undefined, false, "root", 1))
    t.end(ROOT)
    const late = started(t.start(GRANDCHILD, ROOT, false, "late child", 5))
    assert.strictEqual(late.traceId, root.traceId)
    assert.strictEqual(late.parentSpanId, root.spanId)
  })

  it("duplicate starts and ends (LangChain may deliver twice) change nothing", () => {
    const t = tree()
    started(t.start(ROOT, undefined, false, "root", 1))
    assert.strictEqual(t.start(ROOT, undefined, false, "again", 2)._tag, "duplicate")
    assert.strictEqual(t.end(ROOT)?.data, "root")
    assert.isUndefined(t.end(ROOT), "a second end is unknown")
    assert.strictEqual(t.start(ROOT, undefined, false, "restart", 3)._tag, "duplicate", "an ended run does not restart")
    assert.strictEqual(t.size, 0)
  })

  it("expire closes runs idle for the TTL; overflow closes the oldest beyond maxRuns; closeAll closes every run", () => {
    const t = tree(2)
    started(t.start("a", undefined, false, "a", 0))
    started(t.start("b", undefined, false, "b", 50))
    assert.deepStrictEqual(
      t.expire(100, 60).map((r) => r.runId),
      ["a"]
    )
    started(t.start("c", undefined, false, "c", 100))
    started(t.start("d", undefined, false, "d", 100))
    assert.deepStrictEqual(
      t.overflow().map((r) => r.runId),
      ["b"]
    )
    t.touch("c", 500)
    assert.deepStrictEqual(
      t.expire(560, 100).map((r) => r.runId),
      ["d"]
    )
    assert.deepStrictEqual(
      t.closeAll().map((r) => r.runId),
      ["c"]
    )
    assert.strictEqual(t.size, 0)
  })

  it("events go to the run's span, or to the nearest visible open ancestor of a hidden run", () => {
    const t = tree()
    const root = started(t.start(ROOT, undefined, false, "root", 1))
    started(t.start(CHILD, ROOT, true, "hidden", 2))
    const event = { name: "custom", timestamp: "2026-01-01T00:00:00.000Z", attributes: { a: 1 } }
    assert.isTrue(t.addEvent(CHILD, event, 3))
    assert.isTrue(t.addEvent(ROOT, { ...event, name: "own" }, 3))
    assert.deepStrictEqual(
      root.events?.map((e) => e.name),
      ["custom", "own"]
    )
    assert.isFalse(t.addEvent("unknown", event, 3))
  })
})

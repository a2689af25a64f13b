/**
 * The sampling decision (`internal/sampling.ts`): deterministic per trace id, the kept share close
 * to the rate over many ids (random-looking and sequential ones), 0 and 1 exact, the boundary, and
 * the option's validation.
 */
import { assert, describe, it } from "@effect/vitest"
import { traceIdOf } from "../src/internal/runTree.js"
import { isRootSampled, isSampled, sampleRateOption, traceHash } from "../src/internal/sampling.js"

/** Sequential trace ids: the worst case for a sampler that reads the id's own bits. */
const sequential = (n: number): ReadonlyArray<string> =>
  Array.from({ length: n }, (_, i) => i.toString(16).padStart(32, "0"))

/** UUID-like ids from a fixed-seed generator (xorshift32): reproducible, random-looking. */
const seeded = (n: number): ReadonlyArray<string> => {
  let s = 0x2545f491
  const word = () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0).toString(16).padStart(8, "0")
  }
  return Array.from({ length: n }, () => word() + word() + word() + word())
}

/** Time-ordered (v7-like) ids: the same leading timestamp bits for many ids, a counter after. */
const timeOrdered = (n: number): ReadonlyArray<string> =>
  Array.from({ length: n }, (_, i) => `0190f2a4b7c0${(7000 + i).toString(16).padStart(4, "0")}8000${"0".repeat(12)}`)

const share = (ids: ReadonlyArray<string>, rate: number): number =>
  ids.filter((id) => isSampled(id, rate)).length / ids.length

describe("isSampled", () => {
  it("is deterministic: the same id and rate give the same answer, whatever was asked before", () => {
    const ids = seeded(2000)
    const first = ids.map((id) => isSampled(id, 0.3))
    const again = [...ids].reverse().map((id) => isSampled(id, 0.3))
    assert.deepStrictEqual(again.reverse(), first)
    // A fixed value: the answer cannot depend on the process (no random seed, no state).
    assert.strictEqual(traceHash("0b0d5e4c9e1b4c1f8d3b6a2e5f7c9d10"), traceHash("0b0d5e4c9e1b4c1f8d3b6a2e5f7c9d10"))
    assert.strictEqual(traceHash(""), 6_892_766_106_177_555)
    assert.notStrictEqual(traceHash("00000000000000000000000000000001"), traceHash("00000000000000000000000000000002"))
  })

  it("keeps a share of the traces within ±1.5 points of the rate, for random-looking, sequential and time-ordered ids", () => {
    const n = 20_000
    for (const [name, ids] of [
      ["seeded", seeded(n)],
      ["sequential", sequential(n)],
      ["time-ordered", timeOrdered(n)]
    ] as const) {
      for (const rate of [0.01, 0.1, 0.25, 0.5, 0.9]) {
        const kept = share(ids, rate)
        assert.approximately(kept, rate, 0.015, `${name} ids at rate ${rate}: kept ${kept}`)
      }
    }
  })

  it("is monotonic in the rate: a trace kept at a rate is kept at every higher rate", () => {
    for (const id of seeded(500)) {
      let kept = false
      for (const rate of [0.05, 0.2, 0.4, 0.6, 0.8, 0.95]) {
        const now = isSampled(id, rate)
        if (kept) assert.isTrue(now, `${id} kept at a lower rate but not at ${rate}`)
        kept = now
      }
    }
  })

  it("rate 0 keeps nothing and rate 1 keeps everything, exactly", () => {
    const ids = [...seeded(5000), ...sequential(5000), "f".repeat(32), "0".repeat(32)]
    assert.strictEqual(share(ids, 0), 0)
    assert.strictEqual(share(ids, 1), 1)
  })

  it("boundary: a trace is kept iff its hash is below rate × 2^53", () => {
    for (const id of seeded(50)) {
      const h = traceHash(id)
      assert.isTrue(Number.isSafeInteger(h) && h >= 0 && h < 2 ** 53, `hash ${h} in [0, 2^53)`)
      assert.isFalse(isSampled(id, h / 2 ** 53), "rate exactly at the hash: dropped")
      assert.isTrue(isSampled(id, (h + 1) / 2 ** 53), "the next representable step: kept")
    }
  })
})

describe("isRootSampled", () => {
  it("decides as isSampled on the root's trace id, for UUIDs in any case and for other run ids", () => {
    const uuids = Array.from({ length: 3000 }, () => crypto.randomUUID())
    const runIds = [
      ...uuids,
      ...uuids.slice(0, 500).map((id) => id.toUpperCase()),
      "00000000-0000-0000-0000-000000000000",
      "not-a-uuid",
      "run-42",
      "0b0d5e4c9e1b4c1f8d3b6a2e5f7c9d1",
      "0b0d5e4c9e1b4c1f8d3b6a2e5f7c9d100",
      "",
      "ÿ0b0d5e4c9e1b4c1f8d3b6a2e5f7c9d10"
    ]
    for (const rate of [0, 0.3, 0.7, 1]) {
      for (const runId of runIds) {
        assert.strictEqual(isRootSampled(runId, rate), isSampled(traceIdOf(runId), rate), `${runId} at ${rate}`)
      }
    }
    const kept = uuids.filter((id) => isRootSampled(id, 0.5)).length / uuids.length
    assert.approximately(kept, 0.5, 0.05)
  })
})

describe("sampleRateOption", () => {
  it("accepts 0 to 1 and defaults to 1", () => {
    assert.strictEqual(sampleRateOption(undefined), 1)
    for (const rate of [0, 0.5, 1]) assert.strictEqual(sampleRateOption(rate), rate)
  })

  it("throws a message naming the option for anything else", () => {
    for (const bad of [-0.1, 1.01, Number.NaN, Number.POSITIVE_INFINITY, "0.5", null]) {
      assert.throws(() => sampleRateOption(bad), /sampleRate must be a number from 0 to 1/)
    }
  })
})

/**
 * Span times beyond 2^53 keep every digit through the emulator (issue 12): the JSON body is parsed
 * with `exactJson.ts`, the times are stored exactly, written back as JSON integers by the read API,
 * as nine-fraction-digit ISO strings by the public trace route, and survive the data file (journal
 * and snapshot). Also `exactJson.ts` itself: round trips, the JSON depth scan, malformed input.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { startEmulator } from "promptlayer-effect/emulator"
import { hasBigInt, parseExact, scanJson, stringifyExact } from "../src/internal/emulator/exactJson.js"

type Started = Awaited<ReturnType<typeof startEmulator>>

const TRACE = "e1e2e3e4e5e6e7e8e9e0e1e2e3e4e5e6"
const START = 1_800_000_000_123_456_789n
const END = 1_800_000_000_123_456_790n // 1 ns later: JSON.parse reads both as the same double
const EVENT = 1_800_000_000_555_555_555n

/** A `/spans-bulk` body written as the client writes it: the times as bare JSON integers. */
const body = (spanId: string) =>
  `{"spans":[{"start_time":${START},"end_time":${END},"name":"exact","context":{"trace_id":"${TRACE}","span_id":"${spanId}","trace_state":""},"kind":"SpanKind.CLIENT","parent_id":null,"status":{"status_code":"StatusCode.OK"},"attributes":{"big":${END + 1000n},"small":42},"events":[{"name":"tick","timestamp":${EVENT},"attributes":{}}],"resource":{"attributes":{},"schema_url":""},"log_request":{"provider":"openai","model":"m","input":{"type":"chat","messages":[]},"output":{"type":"chat","messages":[]},"metadata":{"n":"1"},"parameters":{"seed":12345678901234567890}}}]}`

const post = (emulator: Started, text: string) =>
  fetch(`${emulator.url}/spans-bulk`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": emulator.apiKey },
    body: text
  })

const getText = async (emulator: Started, path: string) => {
  const response = await fetch(`${emulator.url}${path}`, { headers: { "x-api-key": emulator.apiKey } })
  assert.strictEqual(response.status, 200, path)
  return response.text()
}

/** What must hold for the span whenever it is read back. */
const assertExact = async (emulator: Started) => {
  const [stored] = emulator.store.traces.spansOf(TRACE)
  assert.strictEqual(stored?.start_time, START.toString())
  assert.strictEqual(stored?.end_time, END.toString())
  const read = await getText(emulator, `/emulator/traces/${TRACE}`)
  assert.include(read, `"start_time":${START},"end_time":${END}`)
  assert.include(read, `"timestamp":${EVENT}`)
  assert.include(read, `"big":${END + 1000n},"small":42`)
  const [summary] = (JSON.parse(await getText(emulator, "/emulator/traces")) as { items: Array<any> }).items
  assert.strictEqual(summary.duration_ms, 0.000001, "1 ns, computed from the exact times")
  const pub = JSON.parse(await getText(emulator, `/api/public/v2/traces/${TRACE}`)) as { spans: Array<any> }
  assert.strictEqual(pub.spans[0].start_time, "2027-01-15T08:00:00.123456789Z")
  assert.strictEqual(pub.spans[0].end_time, "2027-01-15T08:00:00.123456790Z")
  assert.include(await getText(emulator, `/traces/${TRACE}`), "2027-01-15T08:00:00.123456789Z")
}

describe("exact nanosecond times through the emulator", () => {
  it("a span's integer times beyond 2^53 round-trip digit for digit (memory, read API, data file)", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "pl-exact-"))
    const dataFile = Path.join(dir, "state.json")
    try {
      const first = await startEmulator({ port: 0, dataFile })
      try {
        const response = await post(first, body("abcdefabcdef0001"))
        assert.strictEqual(response.status, 201, await response.clone().text())
        await assertExact(first)
        // Inside `log_request`, integers are read as `/log-request` reads them (numbers).
        const [request] = first.store.snapshot().requests
        assert.isDefined(request)
        assert.strictEqual((request!.body.parameters as { seed: unknown }).seed, Number("12345678901234567890"))
      } finally {
        await first.close()
      }
      // Replayed from the journal, then (a snapshot was written at the second start) from the snapshot.
      for (let round = 0; round < 2; round++) {
        const again = await startEmulator({ port: 0, dataFile })
        try {
          await assertExact(again)
        } finally {
          await again.close()
        }
      }
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("an invalid span with exact times is still refused with the 422 detail list", async () => {
    const emulator = await startEmulator({ port: 0 })
    try {
      const bad = body("abcdefabcdef0002").replace('"kind":"SpanKind.CLIENT"', '"kind":"CLIENT"')
      const response = await post(emulator, bad.replace(`"start_time":${START}`, '"start_time":-1'))
      assert.strictEqual(response.status, 422)
      const detail = ((await response.json()) as { detail: Array<{ loc: Array<unknown> }> }).detail
      assert.deepStrictEqual(
        detail.map((d) => d.loc.join(".")),
        ["body.spans.0.kind", "body.spans.0.start_time"]
      )
      assert.deepStrictEqual(emulator.store.traces.list(), [])
    } finally {
      await emulator.close()
    }
  })
})

/** JSON values with integers of any size (bigint beyond 2^53), as the emulator reads them. */
const exactValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(null, true, false),
    fc.string(),
    // A double that is an integer beyond 2^53 is written as an integer, so read back as a bigint.
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .filter((d) => !Object.is(d, -0) && (Number.isSafeInteger(d) || !Number.isInteger(d))),
    fc
      .bigInt({ min: -(2n ** 80n), max: 2n ** 80n })
      .map((b) => (b >= -(2n ** 53n) + 1n && b <= 2n ** 53n - 1n ? Number(b) : b)),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie("value"), { maxKeys: 4 })
  )
})).value

/** The nesting depth of JSON text, character by character (the scanner before `exactJson.ts`). */
const naiveDepth = (text: string) => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === "\\") i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === "{" || c === "[") deepest = Math.max(deepest, ++depth)
    else if (c === "}" || c === "]") depth--
  }
  return deepest
}

describe("exactJson", () => {
  it("parseExact(stringifyExact(v)) is v, for values with integers of any size", () => {
    fc.assert(
      fc.property(exactValue, fc.constantFrom(undefined, 2), (value, space) => {
        const text = stringifyExact(value, space)
        assert.deepStrictEqual(parseExact(text), value)
        // Without a bigint, exactly what JSON.parse and JSON.stringify give.
        if (!hasBigInt(value)) assert.strictEqual(text, JSON.stringify(value, null, space))
      }),
      { numRuns: 300 }
    )
  })

  it("the depth scan agrees with a character-by-character scan", () => {
    fc.assert(
      fc.property(fc.json({ depthSize: "medium" }), fc.integer({ min: 0, max: 6 }), (text, limit) => {
        const depth = naiveDepth(text)
        assert.strictEqual(scanJson(text, limit).tooDeep, depth > limit)
        assert.strictEqual(scanJson(text).depth, depth)
      }),
      { numRuns: 300 }
    )
  })

  it("integer keys, repeated keys, exponents and __proto__ keys keep the right digits", () => {
    assert.deepStrictEqual(parseExact('{"2":1800000000123456789,"1":1800000000123456788}'), {
      1: 1_800_000_000_123_456_788n,
      2: 1_800_000_000_123_456_789n
    })
    assert.deepStrictEqual(parseExact('{"a":1800000000123456789,"a":1800000000123456788}'), {
      a: 1_800_000_000_123_456_788n
    })
    assert.deepStrictEqual(parseExact("[1e19,1800000000123456789,9007199254740991,-9007199254740993]"), [
      1e19,
      1_800_000_000_123_456_789n,
      9007199254740991,
      -9_007_199_254_740_993n
    ])
    const proto = parseExact('{"__proto__":{"x":18000000000000000001}}') as Record<string, unknown>
    assert.strictEqual(Object.getPrototypeOf(proto), Object.prototype)
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(proto, "__proto__")?.value, {
      x: 18_000_000_000_000_000_001n
    })
    assert.strictEqual(parseExact("18000000000000000001"), 18_000_000_000_000_000_001n)
  })

  it("malformed text is refused as JSON.parse refuses it (a big integer is never quoted into validity)", () => {
    for (const text of [
      "0123456789012345678",
      "[12345678901234567890.]",
      '{"a":12345678901234567890abc}',
      '"abc',
      "[1,"
    ]) {
      assert.throws(() => parseExact(text), SyntaxError, undefined, text)
    }
    assert.strictEqual(scanJson('"\\"[[[').tooDeep, false)
  })
})

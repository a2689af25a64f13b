/**
 * The `/spans-bulk` body check's two paths (`internal/emulator/spansBulkBody.ts`): the hand-written
 * check accepts only what the Schema accepts, and decodes it to the same value; what it refuses,
 * the Schema reports with the 422 details.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { decodeSpansBulk, quickBatch, schemaBatch } from "../src/internal/emulator/spansBulkBody.js"

const validSpan = (i: number): Record<string, unknown> => ({
  name: `span ${i}`,
  context: { trace_id: "a".repeat(32), span_id: `${i}`.padStart(16, "0"), trace_state: "" },
  kind: "SpanKind.INTERNAL",
  parent_id: i === 0 ? null : "0".repeat(16),
  start_time: 1_800_000_000_123_456_789n + BigInt(i),
  end_time: "1800000000999999999",
  status: { status_code: "StatusCode.OK", description: null },
  attributes: { "lc.run_type": "chain", n: i },
  events: [{ name: "e", timestamp: 1_800_000_000_555_555_555n, attributes: {} }],
  links: [],
  resource: { attributes: { "service.name": "test" }, schema_url: "" },
  log_request: i % 2 === 0 ? null : { provider: "openai", model: "m" }
})

/** Paths into a span whose value the property replaces or deletes. */
const PATHS: ReadonlyArray<ReadonlyArray<string>> = [
  ["name"],
  ["context"],
  ["context", "trace_id"],
  ["context", "span_id"],
  ["context", "trace_state"],
  ["kind"],
  ["parent_id"],
  ["start_time"],
  ["end_time"],
  ["status"],
  ["status", "status_code"],
  ["status", "description"],
  ["attributes"],
  ["events"],
  ["events", "0"],
  ["links"],
  ["resource"],
  ["resource", "attributes"],
  ["resource", "attributes", "service.name"],
  ["resource", "schema_url"],
  ["log_request"]
]

/** Values a client may put anywhere: every JSON type, the enums, times valid and not. */
const anyValue = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    true,
    0,
    -1,
    1.5,
    "",
    "x",
    "123",
    "12a",
    1e30,
    2n ** 70n,
    "SpanKind.CLIENT",
    "StatusCode.ERROR",
    [],
    [{}],
    [1],
    {},
    { a: 1 },
    { a: "b" }
  ),
  fc.jsonValue({ maxDepth: 2 })
)

const setPath = (root: Record<string, unknown>, path: ReadonlyArray<string>, value: unknown) => {
  let target: any = root
  for (const key of path.slice(0, -1)) {
    if (typeof target[key] !== "object" || target[key] === null) return
    target = target[key]
  }
  const last = path[path.length - 1]!
  if (value === undefined) delete target[last]
  else target[last] = value
}

const mutatedBatch = fc
  .tuple(
    fc.integer({ min: 0, max: 3 }),
    fc.array(fc.tuple(fc.nat(3), fc.constantFrom(...PATHS), anyValue), { maxLength: 3 }),
    fc.constantFrom(undefined, true, false, "yes")
  )
  .map(([count, mutations, closeAfter]) => {
    const spans = Array.from({ length: count }, (_, i) => validSpan(i))
    for (const [index, path, value] of mutations) {
      const span = spans[index]
      if (span !== undefined) setPath(span, path, structuredClone(value))
    }
    return closeAfter === undefined ? { spans } : { spans, close_after: closeAfter }
  })

describe("spansBulkBody", () => {
  it("the hand-written check accepts only what the Schema accepts, with the same decoded value", () => {
    let quickAccepted = 0
    let schemaAccepted = 0
    fc.assert(
      fc.property(mutatedBatch, (body) => {
        const quick = quickBatch(body)
        const schema = schemaBatch(body)
        if ("ok" in schema) schemaAccepted++
        if (quick === undefined) {
          // Never refuse what the Schema accepts either: the fast path must stay the common path.
          assert.isFalse("ok" in schema, "the Schema accepts a batch the quick check refused")
          return
        }
        quickAccepted++
        assert.isTrue("ok" in schema, "the quick check accepted a batch the Schema refuses")
        assert.deepStrictEqual(
          JSON.parse(JSON.stringify(quick, big)),
          JSON.parse(JSON.stringify((schema as any).ok, big))
        )
      }),
      { numRuns: 1000 }
    )
    assert.isAbove(quickAccepted, 50, "the property must see valid batches")
    assert.strictEqual(quickAccepted, schemaAccepted)
  })

  it("an invalid batch gets the Schema's details, every problem listed", () => {
    const bad = { spans: [validSpan(0), { ...validSpan(1), kind: "CLIENT", start_time: -5 }] }
    const decoded = decodeSpansBulk(bad)
    assert.isTrue("details" in decoded)
    assert.deepStrictEqual(
      ("details" in decoded ? decoded.details : []).map((d) => d.loc.join(".")),
      ["body.spans.1.kind", "body.spans.1.start_time"]
    )
    assert.deepStrictEqual(decodeSpansBulk([1]), {
      details: [{ loc: ["body"], msg: "Input should be a valid dictionary", type: "dict_type" }]
    })
  })
})

const big = (_key: string, value: unknown) => (typeof value === "bigint" ? `${value}n` : value)

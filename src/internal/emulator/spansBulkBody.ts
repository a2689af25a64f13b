/**
 * The body of the emulator's `POST /spans-bulk`, checked as the real server checks it (OpenAPI
 * `CreateSpansBulk`, `Span`, `SpanContext`, `SpanStatus`, `SpanResource`): {@link decodeSpansBulk}
 * gives the decoded batch, or the 422 `detail` of every problem.
 *
 * Two paths, one rule set: a valid batch (the common case) is recognized by a hand-written check
 * that builds the decoded value without copying (Effect Schema's decoding of a 100-span batch was
 * the route's largest cost after the store); anything it does not accept goes through the Schema,
 * which reports every problem. `test/SpansBulkBody.test.ts` checks that the hand-written check
 * accepts only what the Schema accepts, with the same result.
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaIssue from "effect/SchemaIssue"
import { flattenIssue, locOf } from "./storeFailure.js"

/** `SpanKind` of the document. */
export const SPAN_KINDS = [
  "SpanKind.CLIENT",
  "SpanKind.CONSUMER",
  "SpanKind.INTERNAL",
  "SpanKind.PRODUCER",
  "SpanKind.SERVER"
] as const

/** `StatusCode` of the document. */
export const STATUS_CODES = ["StatusCode.ERROR", "StatusCode.OK", "StatusCode.UNSET"] as const

/** The latest instant a JavaScript `Date` holds, in nanoseconds. */
const MAX_NANOS = 8_640_000_000_000_000_000_000n

/** Exact nanoseconds as a decimal string, or undefined when `input` is not a valid time. */
export const parseNanos = (input: unknown): string | undefined => {
  let value: bigint
  if (typeof input === "bigint") value = input
  else if (typeof input === "number") {
    if (!Number.isInteger(input)) return undefined
    value = BigInt(input)
  } else if (typeof input === "string" && /^\d{1,22}$/.test(input)) {
    value = BigInt(input)
  } else return undefined
  return value < 0n || value > MAX_NANOS ? undefined : value.toString()
}

const Nanos = Schema.Union([Schema.Number, Schema.String, Schema.BigInt]).pipe(
  Schema.decodeTo(Schema.String, {
    decode: SchemaGetter.transformEffect((input: number | string | bigint) => {
      const nanos = parseNanos(input)
      return nanos === undefined
        ? Effect.fail(
            new SchemaIssue.InvalidValue(
              {
                message:
                  "Input should be a non-negative integer of nanoseconds since the epoch (a JSON integer, or a string of digits for full precision)"
              },
              input
            )
          )
        : Effect.succeed(nanos)
    }),
    encode: SchemaGetter.passthroughSupertype()
  })
)

const oneOf = (values: ReadonlyArray<string>) =>
  `${values
    .slice(0, -1)
    .map((v) => `'${v}'`)
    .join(", ")} or '${values[values.length - 1]}'`

const JsonObject = Schema.Record(Schema.String, Schema.Unknown)

const SpanSchema = Schema.Struct({
  name: Schema.String,
  context: Schema.Struct({ trace_id: Schema.String, span_id: Schema.String, trace_state: Schema.String }),
  kind: Schema.Literals(SPAN_KINDS).annotate({ message: `Input should be ${oneOf(SPAN_KINDS)}` }),
  parent_id: Schema.optional(Schema.NullOr(Schema.String)),
  start_time: Nanos,
  end_time: Nanos,
  status: Schema.Struct({
    status_code: Schema.Literals(STATUS_CODES).annotate({ message: `Input should be ${oneOf(STATUS_CODES)}` }),
    description: Schema.optional(Schema.NullOr(Schema.String))
  }),
  attributes: JsonObject,
  events: Schema.optional(Schema.Array(JsonObject)),
  links: Schema.optional(Schema.Array(JsonObject)),
  resource: Schema.Struct({
    attributes: Schema.Record(Schema.String, Schema.String),
    schema_url: Schema.String
  }),
  log_request: Schema.optional(Schema.NullOr(JsonObject))
})

const BulkSchema = Schema.Struct({ spans: Schema.Array(SpanSchema), close_after: Schema.optional(Schema.Boolean) })

/** A decoded span. */
export type WireSpan = typeof SpanSchema.Type

/** A decoded `/spans-bulk` body. */
export type WireBatch = typeof BulkSchema.Type

/** One entry of a 422 `detail` list. */
export type Detail = { readonly loc: ReadonlyArray<string | number>; readonly msg: string; readonly type: string }

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const isString = (u: unknown): u is string => typeof u === "string"

/** An array of objects (checked index by index: `every` would skip holes). */
const isRecordList = (u: unknown): u is Array<Record<string, unknown>> => {
  if (!Array.isArray(u)) return false
  for (let i = 0; i < u.length; i++) if (!isRecord(u[i])) return false
  return true
}

const KINDS: ReadonlySet<unknown> = new Set(SPAN_KINDS)
const CODES: ReadonlySet<unknown> = new Set(STATUS_CODES)

/** A valid span decoded without the Schema (same rules), or undefined when anything is off. */
const quickSpan = (u: unknown): WireSpan | undefined => {
  if (!isRecord(u) || !isString(u.name)) return undefined
  const { context, status, resource, attributes, events, links, parent_id, log_request } = u
  if (!isRecord(context) || !isString(context.trace_id) || !isString(context.span_id)) return undefined
  if (!isString(context.trace_state) || !KINDS.has(u.kind)) return undefined
  if (!(parent_id === undefined || parent_id === null || isString(parent_id))) return undefined
  const start_time = parseNanos(u.start_time)
  const end_time = parseNanos(u.end_time)
  if (start_time === undefined || end_time === undefined) return undefined
  if (!isRecord(status) || !CODES.has(status.status_code)) return undefined
  if (!(status.description === undefined || status.description === null || isString(status.description)))
    return undefined
  if (!isRecord(attributes)) return undefined
  if (!(events === undefined || isRecordList(events)) || !(links === undefined || isRecordList(links))) return undefined
  if (!isRecord(resource) || !isString(resource.schema_url) || !isRecord(resource.attributes)) return undefined
  if (!Object.values(resource.attributes).every(isString)) return undefined
  if (!(log_request === undefined || log_request === null || isRecord(log_request))) return undefined
  return {
    name: u.name,
    context: { trace_id: context.trace_id, span_id: context.span_id, trace_state: context.trace_state },
    kind: u.kind as WireSpan["kind"],
    ...(parent_id === undefined ? {} : { parent_id }),
    start_time,
    end_time,
    status: {
      status_code: status.status_code as WireSpan["status"]["status_code"],
      ...(status.description === undefined ? {} : { description: status.description })
    },
    attributes,
    ...(events === undefined ? {} : { events }),
    ...(links === undefined ? {} : { links }),
    resource: { attributes: resource.attributes as Record<string, string>, schema_url: resource.schema_url },
    ...(log_request === undefined ? {} : { log_request })
  }
}

/**
 * A valid batch decoded by the hand-written check (its records are the input's, not copies), or
 * undefined when the Schema must decide. Exported for the test that compares both paths.
 */
export const quickBatch = (input: unknown): WireBatch | undefined => {
  if (!isRecord(input) || !Array.isArray(input.spans)) return undefined
  const { close_after } = input
  if (!(close_after === undefined || typeof close_after === "boolean")) return undefined
  const spans: Array<WireSpan> = []
  for (const item of input.spans) {
    const span = quickSpan(item)
    if (span === undefined) return undefined
    spans.push(span)
  }
  return close_after === undefined ? { spans } : { spans, close_after }
}

/** The batch decoded by the Schema, or the 422 `detail` of every problem. Exported for the test that compares both paths. */
export const schemaBatch = (input: unknown): { readonly ok: WireBatch } | { readonly details: Array<Detail> } => {
  if (!isRecord(input)) {
    return { details: [{ loc: ["body"], msg: "Input should be a valid dictionary", type: "dict_type" }] }
  }
  const result = Schema.decodeUnknownResult(BulkSchema, { errors: "all" })(input)
  if (Result.isSuccess(result)) return { ok: result.success }
  return {
    details: flattenIssue(result.failure.issue).map((issue) => ({
      loc: locOf("body", issue.path),
      msg: issue.tag === "MissingKey" ? "Field required" : issue.message,
      type: issue.tag === "MissingKey" ? "missing" : "value_error"
    }))
  }
}

/**
 * A `/spans-bulk` body decoded (valid) or the 422 `detail` of every problem in it.
 *
 * @example
 * ```ts
 * const decoded = decodeSpansBulk(body)
 * if ("details" in decoded) throw unprocessable(decoded.details)
 * ```
 */
export const decodeSpansBulk = (input: unknown): { readonly ok: WireBatch } | { readonly details: Array<Detail> } => {
  const quick = quickBatch(input)
  return quick === undefined ? schemaBatch(input) : { ok: quick }
}

/**
 * Shape checks of persisted emulator state (snapshots and journal changes), so that a damaged or
 * hand-edited data file is refused at load with the first bad entry named
 * (`requests[3].id: expected a positive integer, got -1`) instead of being served and failing later.
 * Hand-written rather than `Schema` so that checking 50 000 stored requests at start stays fast.
 */
import { stringifyExact } from "./exactJson.js"
import { SPAN_KINDS, STATUS_CODES } from "./traces.js"

/** A check: the problem at `path`, or undefined when `u` is fine. */
type Check = (u: unknown, path: string) => string | undefined

const show = (u: unknown): string => {
  const text = stringifyExact(u)
  return text === undefined ? String(u) : text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const expected = (what: string) => (path: string, u: unknown) => `${path}: expected ${what}, got ${show(u)}`

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const str: Check = (u, p) => (typeof u === "string" ? undefined : expected("a string")(p, u))
const num: Check = (u, p) => (typeof u === "number" && Number.isFinite(u) ? undefined : expected("a number")(p, u))
const posInt: Check = (u, p) =>
  typeof u === "number" && Number.isSafeInteger(u) && u > 0 ? undefined : expected("a positive integer")(p, u)
const record: Check = (u, p) => (isRecord(u) ? undefined : expected("an object")(p, u))
const any: Check = () => undefined
const nullOr =
  (check: Check): Check =>
  (u, p) =>
    u === null ? undefined : check(u, p)
const oneOf =
  (...values: ReadonlyArray<string>): Check =>
  (u, p) =>
    values.includes(u as string) ? undefined : expected(`one of ${values.join(", ")}`)(p, u)
const arrayOf =
  (check: Check): Check =>
  (u, p) => {
    if (!Array.isArray(u)) return expected("an array")(p, u)
    for (let i = 0; i < u.length; i++) {
      const problem = check(u[i], `${p}[${i}]`)
      if (problem !== undefined) return problem
    }
    return undefined
  }
const recordOf =
  (check: Check): Check =>
  (u, p) => {
    if (!isRecord(u)) return expected("an object")(p, u)
    for (const [key, value] of Object.entries(u)) {
      const problem = check(value, `${p}.${key}`)
      if (problem !== undefined) return problem
    }
    return undefined
  }
const struct =
  (fields: Readonly<Record<string, Check>>, optional: ReadonlyArray<string> = []): Check =>
  (u, p) => {
    if (!isRecord(u)) return expected("an object")(p, u)
    for (const [key, check] of Object.entries(fields)) {
      if (!(key in u) && optional.includes(key)) continue
      const problem = check(u[key], `${p}.${key}`)
      if (problem !== undefined) return problem
    }
    return undefined
  }

const promptLink = struct({
  name: nullOr(str),
  id: nullOr(posInt),
  version: nullOr(posInt),
  label: nullOr(str),
  input_variables: record
})

const request = struct({
  id: posInt,
  kind: oneOf("log-request", "track-request"),
  body: record,
  provider: nullOr(str),
  model: nullOr(str),
  function_name: nullOr(str),
  tags: arrayOf(str),
  metadata: record,
  scores: recordOf(num),
  prompt: nullOr(promptLink),
  group_ids: arrayOf(posInt),
  input_tokens: num,
  output_tokens: num,
  tokens: num,
  price: num,
  latency_ms: num,
  status: oneOf("SUCCESS", "WARNING", "ERROR"),
  error_type: nullOr(str),
  error_message: nullOr(str),
  span_id: nullOr(str),
  request_start_time: str,
  request_end_time: str,
  created_at: str,
  input: nullOr(record),
  output: nullOr(record)
})

const group = struct({ id: posInt, created_at: str })

const template = struct({
  id: posInt,
  prompt_name: str,
  tags: arrayOf(str),
  created_at: str,
  updated_at: str,
  versions: arrayOf(
    struct({
      id: posInt,
      version: posInt,
      prompt_template: record,
      commit_message: nullOr(str),
      metadata: nullOr(record),
      created_at: str
    })
  ),
  labels: recordOf(posInt)
})

const span = struct({
  traceId: str,
  spanId: str,
  parentSpanId: nullOr(str),
  name: str,
  span: record,
  resource: nullOr(record),
  received_at: str
})

/** Nanoseconds since the epoch as the traces keep them: a string of decimal digits. */
const nanos: Check = (u, p) =>
  typeof u === "string" && /^\d{1,22}$/.test(u) ? undefined : expected("a string of decimal digits (nanoseconds)")(p, u)
const nonNegInt: Check = (u, p) =>
  typeof u === "number" && Number.isSafeInteger(u) && u >= 0 ? undefined : expected("a non-negative integer")(p, u)

/**
 * A `/spans-bulk` span as `internal/emulator/traces.ts` stores it. Its trace and span ids are any
 * string, as `/spans-bulk` accepts them (hex is the convention, not a rule the API enforces).
 */
const traceSpan = struct({
  id: posInt,
  trace_id: str,
  span_id: str,
  parent_id: nullOr(str),
  trace_state: str,
  name: str,
  kind: oneOf(...SPAN_KINDS),
  start_time: nanos,
  end_time: nanos,
  status: struct({ status_code: oneOf(...STATUS_CODES), description: nullOr(str) }),
  attributes: record,
  events: arrayOf(record),
  links: arrayOf(record),
  resource: struct({ attributes: recordOf(str), schema_url: str }),
  request_log_id: nullOr(posInt),
  tokens: num,
  received_at: str
})

const traceClosure = struct({
  id: str,
  workspace_id: posInt,
  trace_id: str,
  status: oneOf("closed"),
  created_at: str,
  updated_at: str
})

/** Closures of distinct traces. */
const closures: Check = (u, p) => {
  const problem = arrayOf(traceClosure)(u, p)
  if (problem !== undefined) return problem
  const seen = new Set<string>()
  const items = u as ReadonlyArray<{ readonly trace_id: string }>
  for (let i = 0; i < items.length; i++) {
    const id = items[i]!.trace_id
    if (seen.has(id)) return `${p}[${i}].trace_id: trace ${show(id)} closed twice`
    seen.add(id)
  }
  return undefined
}

const workflow = struct({
  id: posInt,
  name: str,
  created_at: str,
  versions: arrayOf(struct({ version: posInt, outputs: nullOr(record), created_at: str })),
  labels: recordOf(posInt)
})

const execution = struct({
  id: posInt,
  workflow_id: posInt,
  workflow_name: str,
  version: posInt,
  input_variables: record,
  metadata: nullOr(record),
  callback_url: nullOr(str),
  nodes: recordOf(
    struct({
      status: oneOf("SUCCESS", "FAILURE"),
      value: any,
      error_message: nullOr(str),
      raw_error_message: nullOr(str),
      is_output_node: (u, p) => (typeof u === "boolean" ? undefined : expected("a boolean")(p, u))
    })
  ),
  final_output: any,
  created_at: str
})

const counters = struct(
  { request: posInt, group: posInt, template: posInt, version: posInt, workflow: posInt, execution: posInt },
  ["workflow", "execution"]
)

/** An entity list whose ids are unique. */
const entities =
  (check: Check): Check =>
  (u, p) => {
    const problem = arrayOf(check)(u, p)
    if (problem !== undefined) return problem
    const seen = new Set<number>()
    const items = u as ReadonlyArray<{ readonly id: number }>
    for (let i = 0; i < items.length; i++) {
      const id = items[i]!.id
      if (seen.has(id)) return `${p}[${i}].id: duplicate id ${id}`
      seen.add(id)
    }
    return undefined
  }

const traces = struct({ next: posInt, spans: entities(traceSpan), closures })

/** The journal record of appended trace state (`TracesChange`). */
const tracesChange = struct({
  from: nonNegInt,
  spans: arrayOf(traceSpan),
  closedFrom: nonNegInt,
  closures: arrayOf(traceClosure),
  next: posInt
})

const snapshot = struct(
  {
    format: oneOf("promptlayer-emulator/1"),
    next: counters,
    requests: entities(request),
    groups: entities(group),
    templates: entities(template),
    spans: arrayOf(span),
    workflows: entities(workflow),
    executions: entities(execution),
    traces
  },
  ["workflows", "executions", "traces"]
)

/** The entity checks by journal change tag. */
export const entityChecks = { request, group, template, workflow, execution } as const

/**
 * Checks a whole snapshot (`Store.snapshot()` data); returns the first problem, e.g.
 * `snapshot.requests[3].id: expected a positive integer, got -1`, or undefined when it is valid.
 */
export const checkSnapshot = (u: unknown): string | undefined => snapshot(u, "snapshot")

/**
 * Checks one journal change (`{ t: "request", v: {...} }`, `{ t: "spans", from, v }`,
 * `{ t: "traces", from, spans, closedFrom, closures, next }`,
 * `{ t: "next", v }` or `{ t: "reset" }`); returns the first problem or undefined.
 */
export const checkChange = (u: unknown, path: string): string | undefined => {
  if (!isRecord(u)) return expected("a change object")(path, u)
  switch (u.t) {
    case "reset":
      return undefined
    case "next":
      return counters(u.v, `${path}.v`)
    case "traces":
      return tracesChange(u, path)
    case "spans":
      return (
        (typeof u.from === "number" && Number.isSafeInteger(u.from) && u.from >= 0
          ? undefined
          : expected("a non-negative integer")(`${path}.from`, u.from)) ?? arrayOf(span)(u.v, `${path}.v`)
      )
    default: {
      const check = entityChecks[u.t as keyof typeof entityChecks]
      if (check === undefined) return expected("a known change type")(`${path}.t`, u.t)
      return check(u.v, `${path}.v`)
    }
  }
}

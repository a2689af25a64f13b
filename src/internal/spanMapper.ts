/**
 * LangChain runs as PromptLayer spans (`POST /spans-bulk`).
 *
 * Two halves: {@link capture} runs on the callback's path and takes a bounded snapshot of a value
 * as it is when the callback fires (strings and LangChain objects, which are not mutated, by
 * reference; plain objects and arrays copied up to a node budget, so a caller that mutates its
 * state afterwards does not change what is logged, and a huge input costs no more than the
 * budget). {@link toSpan} runs later in the tracker's background fiber and turns a run into the
 * wire span: attributes as JSON strings bounded in size, with the cut ones listed.
 *
 * @internal
 */
import * as PromptLayerClient from "../PromptLayerClient.js"
import * as S from "../PromptLayerSchema.js"
import * as Blueprint from "./blueprint.js"
import type { SpanEvent } from "./runTree.js"
import * as SpanWire from "./spanWire.js"

// =============================================================================
// Limits
// =============================================================================

/** Characters of an input or output attribute at most (JSON text); longer ones are cut and marked. */
export const MAX_VALUE_CHARS = 32_768
/** Characters of a metadata value or an event attribute at most. */
export const MAX_META_CHARS = 1024
/** Tags kept per span at most. */
export const MAX_TAGS = 64
/** Events kept per span at most (the first ones). */
export const MAX_EVENTS = 128

/** Nodes (objects, arrays, values) a snapshot copies at most; depth and width are capped too. */
const SNAPSHOT_NODES = 2000
const SNAPSHOT_DEPTH = 8
const SNAPSHOT_WIDTH = 200

/** The marker a snapshot leaves where it stopped copying. */
export const CUT = "…(cut)"

// =============================================================================
// Capture (hot path)
// =============================================================================

const isPlainObject = (u: object): boolean => {
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/** LangChain messages, documents and other serializables: treated as values, kept by reference. */
const isLangChainObject = (u: object): boolean =>
  "lc_serializable" in u || "lc_kwargs" in u || ("pageContent" in u && "metadata" in u)

/**
 * A snapshot of `value` as it is now: primitives and LangChain objects as they are, plain objects
 * and arrays copied (at most {@link SNAPSHOT_NODES} nodes, {@link SNAPSHOT_DEPTH} deep,
 * {@link SNAPSHOT_WIDTH} entries each; beyond, {@link CUT}). Other class instances (Dates, Maps,
 * user classes) are kept by reference and serialized later as JSON would.
 */
export const capture = (value: unknown): unknown => {
  if (value === null || typeof value !== "object") return value
  return copyOf(value, 0, { left: SNAPSHOT_NODES })
}

/** The copy of {@link capture} (a function of the module, not a closure per call: this runs in every callback). */
const copyOf = (u: unknown, depth: number, budget: { left: number }): unknown => {
  budget.left--
  if (u === null || typeof u !== "object") return u
  if (budget.left <= 0 || depth >= SNAPSHOT_DEPTH) return CUT
  if (Array.isArray(u)) {
    const n = Math.min(u.length, SNAPSHOT_WIDTH)
    const out: Array<unknown> = new Array(n)
    for (let i = 0; i < n; i++) out[i] = copyOf(u[i], depth + 1, budget)
    if (u.length > n) out.push(`${CUT} ${u.length - n} more items`)
    return out
  }
  if (!isPlainObject(u) || isLangChainObject(u)) return u
  const out: Record<string, unknown> = {}
  let i = 0
  for (const key in u) {
    if (i++ >= SNAPSHOT_WIDTH) {
      out[CUT] = "more keys"
      break
    }
    out[key] = copyOf((u as Record<string, unknown>)[key], depth + 1, budget)
  }
  return out
}

/**
 * LangChain passes a chain's non-object input as `{ input: value }` and its output as
 * `{ output: value }`: the value itself is what the run took or gave.
 */
export const unwrap = (value: unknown, key: "input" | "output"): unknown => {
  if (value === null || typeof value !== "object" || Array.isArray(value) || !isPlainObject(value)) return value
  const keys = Object.keys(value)
  return keys.length === 1 && keys[0] === key ? (value as Record<string, unknown>)[key] : value
}

// =============================================================================
// Serialization (background)
// =============================================================================

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

const isMessage = (u: Record<string, unknown>): boolean =>
  "content" in u && (typeof u.type === "string" || typeof u._getType === "function")

/**
 * A LangChain message, document or other serializable as plain JSON: `{ role, content, tool_calls? }`,
 * `{ page_content, metadata }`, or its constructor arguments (`lc_kwargs`: a prompt value's messages).
 */
const plain = (u: Record<string, unknown>): unknown => {
  if ("pageContent" in u && "metadata" in u) return { page_content: u.pageContent, metadata: u.metadata }
  if (isMessage(u)) {
    const message = Blueprint.toBlueprintMessage(u)
    if (message !== undefined) return message
  }
  const kwargs = u.lc_kwargs
  return isObject(kwargs) ? kwargs : undefined
}

/** Nodes {@link jsonable} visits at most; beyond, {@link CUT}. Captured values are far smaller (`SNAPSHOT_NODES`). */
const JSONABLE_NODES = 20_000

/**
 * `value` as `JSON.stringify` can write it with no replacer: LangChain objects as plain JSON, bigints
 * as strings, cycles marked `"[circular]"`. Returns `value` itself (no copy) when it holds none of
 * those, which is the common case; copies only the paths that change.
 */
const jsonable = (value: unknown): unknown =>
  value === null || typeof value !== "object"
    ? jsonableOf(value, undefined)
    : jsonableOf(value, { ancestors: new Set(), left: JSONABLE_NODES })

/** The walk of {@link jsonable} (a function of the module, not a closure per call). */
const jsonableOf = (u: unknown, walk: { readonly ancestors: Set<object>; left: number } | undefined): unknown => {
  if (typeof u === "bigint") return u.toString()
  if (u === null || typeof u !== "object" || walk === undefined) return u
  if (--walk.left <= 0) return CUT
  const { ancestors } = walk
  if (ancestors.has(u)) return "[circular]"
  const o = u as Record<string, unknown>
  ancestors.add(u)
  let out: unknown = u
  if (isLangChainObject(o)) out = jsonableOf(plain(o), walk)
  else if (Array.isArray(u)) {
    let copy: Array<unknown> | undefined
    for (let i = 0; i < u.length; i++) {
      const v = jsonableOf(u[i], walk)
      if (v !== u[i]) {
        copy ??= u.slice()
        copy[i] = v
      }
    }
    if (copy !== undefined) out = copy
  } else if (typeof o.toJSON !== "function") {
    let copy: Record<string, unknown> | undefined
    for (const key of Object.keys(o)) {
      const v = jsonableOf(o[key], walk)
      if (v !== o[key]) {
        copy ??= { ...o }
        copy[key] = v
      }
    }
    if (copy !== undefined) out = copy
  }
  ancestors.delete(u)
  return out
}

/** JSON text of a captured value (messages and documents as plain JSON; cycles, functions and symbols left out). */
export const toJson = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  try {
    return JSON.stringify(jsonable(value)) ?? "null"
  } catch (error) {
    return JSON.stringify(`[not serializable: ${error instanceof Error ? error.message : String(error)}]`)
  }
}

/** Cuts a text to `max` characters, saying how much was cut. */
const bounded = (text: string, max: number): { readonly text: string; readonly cut: boolean } =>
  text.length <= max
    ? { text, cut: false }
    : { text: `${text.slice(0, max)}${CUT} ${text.length - max} more characters`, cut: true }

const metaText = (value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined
  if (typeof value === "string") return value
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value)
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString()
  return toJson(value)
}

// =============================================================================
// Spans
// =============================================================================

/** The kind of LangChain run a span is made from. */
export type RunKind = "chain" | "tool" | "retriever" | "llm" | "chat_model"

/** What the handler knows of a run when it starts (captured on the callback's path). */
export interface RunInfo {
  readonly kind: RunKind
  /** LangChain's `runType` of a chain (`prompt`, `parser`, ...) when it gives one. */
  readonly runType: string | undefined
  readonly name: string
  readonly tags: ReadonlyArray<string>
  readonly metadata: Readonly<Record<string, unknown>>
  readonly inputs: unknown
  readonly startedAt: number
  /** A tool call id (tools started for a model's tool call). */
  readonly toolCallId?: string | undefined
}

/** How a run ended. `partial`: it had not ended when it was evicted or the handler shut down. */
export type RunOutcome =
  | { readonly _tag: "end"; readonly endedAt: number; readonly outputs: unknown }
  | { readonly _tag: "error"; readonly endedAt: number; readonly error: unknown }
  | { readonly _tag: "partial"; readonly endedAt: number; readonly reason: string }

/** The ids of a span (from the run tree). */
export interface SpanIds {
  readonly runId: string
  readonly parentRunId: string | undefined
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | null
}

/** Nanoseconds since the epoch of a time in (possibly fractional) epoch milliseconds, as exact digits. */
export const nanosOf = (ms: number): string => {
  const whole = Math.floor(ms)
  const fraction = Math.min(Math.round((ms - whole) * 1e6), 999_999)
  // Digits by concatenation (no BigInt) for the usual epoch times; exact either way.
  if (whole >= 1 && whole <= Number.MAX_SAFE_INTEGER) return `${whole}${`${fraction}`.padStart(6, "0")}`
  return (BigInt(whole) * 1_000_000n + BigInt(fraction)).toString()
}

/** Metadata keys LangGraph and session grouping rely on, lifted to attributes of their own. */
const liftedKeys: ReadonlyArray<readonly [string, string]> = [
  ["langgraph_node", "langgraph.node"],
  ["langgraph_step", "langgraph.step"],
  ["langgraph_path", "langgraph.path"],
  ["langgraph_triggers", "langgraph.triggers"],
  ["langgraph_checkpoint_ns", "langgraph.checkpoint_ns"],
  ["thread_id", "session.thread_id"],
  ["session_id", "session.id"],
  ["conversation_id", "session.conversation_id"]
]

const errorDescription = (error: unknown): string => {
  const text =
    error instanceof Error
      ? `${error.name}: ${error.message}`
      : typeof error === "string"
        ? error
        : (metaText(error) ?? "unknown error")
  return bounded(text, MAX_META_CHARS).text
}

/** LangChain hands a tool its input as a string (JSON for structured tools): the object, when it is one. */
const parsedToolInput = (input: unknown): unknown => {
  if (typeof input !== "string" || !/^\s*[[{]/.test(input)) return input
  try {
    return JSON.parse(input)
  } catch {
    return input
  }
}

const statusOf = (outcome: RunOutcome): S.Span["status"] => {
  switch (outcome._tag) {
    case "end":
      return { status_code: "StatusCode.OK" }
    case "error":
      return { status_code: "StatusCode.ERROR", description: errorDescription(outcome.error) }
    case "partial":
      return {
        status_code: "StatusCode.UNSET",
        description: bounded(`partial: ${outcome.reason}`, MAX_META_CHARS).text
      }
  }
}

/** The attributes of a run's span: run facts, tags, metadata, LangGraph keys, inputs and outputs (bounded). */
export const attributesOf = (
  ids: SpanIds,
  info: RunInfo,
  outcome: RunOutcome,
  withIo: boolean
): Record<string, unknown> => {
  const attributes: Record<string, unknown> = {
    "langchain.run_id": ids.runId,
    "langchain.run_type": info.kind,
    "langchain.name": info.name
  }
  if (ids.parentRunId !== undefined) attributes["langchain.parent_run_id"] = ids.parentRunId
  if (info.runType !== undefined) attributes["langchain.chain_type"] = info.runType
  if (info.toolCallId !== undefined) attributes["langchain.tool_call_id"] = info.toolCallId
  const tags = info.tags.filter((tag) => !/^seq:step:\d+$/.test(tag))
  if (tags.length > 0) attributes["langchain.tags"] = tags.slice(0, MAX_TAGS)
  const cut: Array<string> = []
  for (const [key, value] of Object.entries(info.metadata)) {
    if (key.startsWith("ls_") || key === "__pregel_task_id") continue
    const text = metaText(value)
    if (text === undefined) continue
    const b = bounded(text, MAX_META_CHARS)
    if (b.cut) cut.push(`langchain.metadata.${key}`)
    attributes[`langchain.metadata.${key}`] = b.text
  }
  for (const [key, attribute] of liftedKeys) {
    const text = metaText(info.metadata[key])
    if (text !== undefined) attributes[attribute] = bounded(text, MAX_META_CHARS).text
  }
  if (withIo) {
    const input = bounded(toJson(info.kind === "tool" ? parsedToolInput(info.inputs) : info.inputs), MAX_VALUE_CHARS)
    attributes.function_input = input.text
    if (input.cut) cut.push("function_input")
    if (outcome._tag === "end") {
      const output = bounded(toJson(outcome.outputs), MAX_VALUE_CHARS)
      attributes.function_output = output.text
      if (output.cut) cut.push("function_output")
    }
  }
  if (outcome._tag === "error") attributes["exception.message"] = errorDescription(outcome.error)
  if (outcome._tag === "partial") attributes["langchain.partial"] = true
  if (cut.length > 0) attributes["promptlayer.truncated"] = cut
  return attributes
}

/** The events of a span, bounded: at most {@link MAX_EVENTS}, each attribute value cut to {@link MAX_VALUE_CHARS}. */
export const eventsOf = (events: ReadonlyArray<SpanEvent> | undefined): Array<Record<string, unknown>> =>
  (events ?? []).slice(0, MAX_EVENTS).map((event) => {
    const attributes: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(event.attributes)) {
      attributes[key] =
        typeof value === "string" ? bounded(value, MAX_VALUE_CHARS).text : bounded(toJson(value), MAX_VALUE_CHARS).text
    }
    return { name: event.name, timestamp: event.timestamp, attributes }
  })

/** The span of a chain, tool or retriever run (kind INTERNAL), with its inputs and outputs. */
export const toSpan = (
  ids: SpanIds,
  info: RunInfo,
  outcome: RunOutcome,
  events: ReadonlyArray<SpanEvent> | undefined,
  resource: S.SpanInput["resource"]
): S.SpanInput => ({
  name: info.name,
  context: { trace_id: ids.traceId, span_id: ids.spanId, trace_state: "" },
  kind: "SpanKind.INTERNAL",
  parent_id: ids.parentSpanId,
  start_time: nanosOf(info.startedAt),
  end_time: nanosOf(Math.max(info.startedAt, outcome.endedAt)),
  status: statusOf(outcome),
  attributes: attributesOf(ids, info, outcome, true),
  events: eventsOf(events),
  links: [],
  resource
})

/**
 * The span of a model run (kind CLIENT) carrying its `/log-request` body as `log_request`; inputs and
 * outputs live in the log, not in attributes.
 */
export const toModelSpan = (
  ids: SpanIds,
  info: RunInfo,
  outcome: RunOutcome,
  log: S.LogRequestInput,
  events: ReadonlyArray<SpanEvent> | undefined,
  resource: S.SpanInput["resource"]
): S.SpanInput => {
  const attributes = attributesOf(ids, info, outcome, false)
  attributes["llm.provider"] = log.provider
  attributes["llm.model"] = log.model
  if (log.input_tokens !== undefined) attributes["llm.input_tokens"] = log.input_tokens
  if (log.output_tokens !== undefined) attributes["llm.output_tokens"] = log.output_tokens
  const status: S.Span["status"] =
    log.status === "WARNING"
      ? {
          status_code: "StatusCode.UNSET",
          description: bounded(`partial: ${log.error_message ?? ""}`, MAX_META_CHARS).text
        }
      : log.status === "ERROR"
        ? { status_code: "StatusCode.ERROR", description: log.error_message ?? "error" }
        : statusOf(outcome)
  return {
    name: info.name,
    context: { trace_id: ids.traceId, span_id: ids.spanId, trace_state: "" },
    kind: "SpanKind.CLIENT",
    parent_id: ids.parentSpanId,
    start_time: nanosOf(info.startedAt),
    end_time: nanosOf(Math.max(info.startedAt, outcome.endedAt)),
    status,
    attributes,
    events: eventsOf(events),
    links: [],
    resource,
    log_request: log
  }
}

// =============================================================================
// Encoding (background, without schema validation)
// =============================================================================

const isoOf = (time: unknown): string | undefined => S.parseTimestamp(time)?.toISOString()

/**
 * A span made by {@link toSpan} or {@link toModelSpan}, encoded for `spans.bulkEncoded` with plain
 * code: what the mapper makes is valid by construction (a property test checks it against the
 * `CreateSpansBulk` schema), so only what the schema would transform is transformed (the log's
 * times, to ISO strings). A span that is not as the mapper makes it (a log time that is not a
 * time) goes through `encodeSpanResult`, whose validation error is thrown: the span fails alone.
 */
export const encodeValid = (span: S.SpanInput): PromptLayerClient.EncodedSpan => {
  const log = span.log_request
  let valid = span as S.Span
  if (log !== undefined && log !== null) {
    const start = isoOf(log.request_start_time)
    const end = isoOf(log.request_end_time)
    if (start === undefined || end === undefined || typeof span.start_time !== "string") return encodeChecked(span)
    valid = { ...span, log_request: { ...log, request_start_time: start, request_end_time: end } } as S.Span
  } else if (typeof span.start_time !== "string") return encodeChecked(span)
  const text = SpanWire.encodeSpan(valid)
  return new PromptLayerClient.EncodedSpan(
    text,
    SpanWire.utf8Length(text),
    valid.context.trace_id,
    valid.context.span_id,
    SpanWire.logFactsOf(valid.log_request)
  )
}

const encodeChecked = (span: S.SpanInput): PromptLayerClient.EncodedSpan => {
  const encoded = PromptLayerClient.encodeSpanResult(span)
  if (encoded._tag === "Failure") throw encoded.failure
  return encoded.success
}

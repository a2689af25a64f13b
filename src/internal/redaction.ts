/**
 * The handler's redaction (`hideInputs`, `hideOutputs`, `mask`), applied to the bodies as they are
 * built in the tracker's background fibers: a `/log-request` body (requests mode) and a span with
 * its `log_request` (traces mode). Nothing here runs on a LangChain callback's path: the handler only
 * wraps the event it offers ({@link Redactor.spanJob}, or the `build` of a log).
 *
 * Fails closed: a masker or hide function that throws or returns what cannot be sent turns its
 * field into `REDACTION_FAILED` and counts it; a failure of the walk itself throws from `build`, so
 * the span or log fails alone and nothing raw is sent.
 *
 * @internal
 */
import * as Schema from "effect/Schema"
import type * as PromptLayerClient from "../PromptLayerClient.js"
import {
  HIDDEN,
  type Hide,
  type Masker,
  REDACTION_FAILED,
  type RedactionKind,
  type RedactionOptions
} from "../PromptLayerRedaction.js"
import * as S from "../PromptLayerSchema.js"
import type * as PromptLayerTracker from "../PromptLayerTracker.js"
import { encodeTrusted, type TrustedSpanJob } from "./spanDelivery.js"
import * as SpanMapper from "./spanMapper.js"

/** Nesting depth walked at most; deeper values are replaced (bodies are bounded far below this). */
const MAX_DEPTH = 64

/** Span attributes that are ids, names, kinds, tags or counts: sent as they are. */
const STRUCTURAL_ATTRIBUTES = new Set([
  "langchain.run_id",
  "langchain.parent_run_id",
  "langchain.run_type",
  "langchain.name",
  "langchain.chain_type",
  "langchain.tool_call_id",
  "langchain.tags",
  "langchain.partial",
  "llm.provider",
  "llm.model",
  "llm.input_tokens",
  "llm.output_tokens",
  "promptlayer.truncated"
])

/** Metadata keys of a log that the handler itself writes (ids, names, counts, times): sent as they are. */
const HANDLER_METADATA = new Set([
  "langchain_run_id",
  "langchain_parent_run_id",
  "langchain_run_name",
  "langchain_prompt_index",
  "langchain_unmapped_blocks",
  "langchain_unmapped_block_types",
  "langchain_candidates",
  "langchain_cached",
  "langchain_abandoned",
  "time_to_first_token_ms",
  "first_token_at"
])

/** Keys of a prompt blueprint, its messages, content blocks and tool calls that name structure, not content. */
const PROMPT_STRUCTURE = new Set(["type", "role", "name", "id", "tool_call_id", "template_format", "input_variables"])

const isPrompt = Schema.is(S.Prompt)

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Thrown inside a walk when a value cannot be redacted; caught at the field, which then fails closed. */
class Unredactable {
  readonly _tag = "Unredactable"
}

const unredactable = new Unredactable()

/** Options in force, checked: a bad option throws at construction, naming it. */
const checked = (options: RedactionOptions): RedactionOptions => {
  for (const name of ["hideInputs", "hideOutputs"] as const) {
    const value = options[name]
    if (value !== undefined && typeof value !== "boolean" && typeof value !== "function") {
      throw new TypeError(`PromptLayerCallbackHandler: ${name} must be a boolean or a function, got ${typeof value}`)
    }
  }
  if (options.mask !== undefined && typeof options.mask !== "function") {
    throw new TypeError(`PromptLayerCallbackHandler: mask must be a function, got ${typeof options.mask}`)
  }
  return options
}

/** A text cut to the span mapper's limit: a hide function or masker may return more than it was given. */
const bounded = (text: string): string =>
  text.length <= SpanMapper.MAX_VALUE_CHARS
    ? text
    : `${text.slice(0, SpanMapper.MAX_VALUE_CHARS)}${SpanMapper.CUT} ${text.length - SpanMapper.MAX_VALUE_CHARS} more characters`

/** What {@link Redactor}'s hide step gives for a field hidden by `true`, and for a field that failed closed. */
const HIDE_ALL: unique symbol = Symbol("hidden")
const FAILED: unique symbol = Symbol("failed")

/** A chat or completion prompt holding one text: what a hidden or failed prompt becomes. */
const placeholderPrompt = (prompt: unknown, side: "input" | "output", text: string): S.Prompt => {
  const block = { type: "text", text }
  return isRecord(prompt) && prompt.type === "completion"
    ? { type: "completion", content: [block] }
    : { type: "chat", messages: [{ role: side === "input" ? "user" : "assistant", content: [block] }] }
}

/**
 * The redaction of one handler. `failed` is told of every field that failed closed (the handler's
 * `redactionFailures` counter).
 */
export class Redactor {
  private readonly hideInputs: Hide
  private readonly hideOutputs: Hide
  private readonly masker: Masker | undefined

  private constructor(
    options: RedactionOptions,
    private readonly failed: () => void
  ) {
    this.hideInputs = options.hideInputs ?? false
    this.hideOutputs = options.hideOutputs ?? false
    this.masker = options.mask
  }

  /** The redactor of these options, or undefined when they redact nothing. Throws on a bad option. */
  static make(options: RedactionOptions, failed: () => void): Redactor | undefined {
    const { hideInputs, hideOutputs, mask } = checked(options)
    const redacts = (hideInputs ?? false) !== false || (hideOutputs ?? false) !== false || mask !== undefined
    return redacts ? new Redactor(options, failed) : undefined
  }

  /** A span event whose span is redacted as it is built and encoded (in the tracker's background fiber). */
  spanJob(event: PromptLayerTracker.SpanTrackEvent): PromptLayerTracker.SpanTrackEvent {
    return new RedactedSpan(event, this)
  }

  /** A `/log-request` body, redacted; `prefix` is the body's own path (`log_request.` in a span). */
  logRequest(body: S.LogRequestInput, prefix = ""): S.LogRequestInput {
    const out: Record<string, unknown> = { ...body }
    out.input = this.prompt(body.input, `${prefix}input`, "input")
    out.output = this.prompt(body.output, `${prefix}output`, "output")
    if (body.prompt_input_variables !== undefined) {
      const path = `${prefix}prompt_input_variables`
      const hidden = this.hidden(this.hideInputs, body.prompt_input_variables, isRecord)
      if (hidden === HIDE_ALL) delete out.prompt_input_variables
      else out.prompt_input_variables = hidden === FAILED ? {} : this.value(hidden, path, "input")
    }
    if (body.metadata !== undefined) out.metadata = this.metadata(body.metadata, `${prefix}metadata`)
    if (body.parameters !== undefined) {
      out.parameters = this.value(body.parameters, `${prefix}parameters`, "parameters")
    }
    if (typeof body.error_message === "string") {
      out.error_message = this.text(body.error_message, `${prefix}error_message`, "error")
    }
    return out as S.LogRequestInput
  }

  /** A log's metadata: the values masked, but for the keys the handler writes itself. */
  private metadata(metadata: Readonly<Record<string, string>>, path: string): Record<string, unknown> {
    if (this.masker === undefined) return metadata
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(metadata)) {
      out[key] = HANDLER_METADATA.has(key) ? value : this.value(value, `${path}.${key}`, "metadata")
    }
    return out
  }

  /** A span (and its `log_request`), redacted. */
  span(span: S.SpanInput): S.SpanInput {
    const attributes: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(span.attributes)) {
      attributes[key] = this.attribute(key, value)
    }
    const status =
      typeof span.status.description !== "string"
        ? span.status
        : { ...span.status, description: this.text(span.status.description, "status.description", "error") }
    const events = span.events?.map((event, i) => {
      const eventAttributes = isRecord(event.attributes) ? event.attributes : undefined
      if (eventAttributes === undefined) return event
      const redacted: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(eventAttributes)) {
        redacted[key] =
          typeof value === "string"
            ? this.jsonText(value, `events[${i}].attributes.${key}`, "event", false)
            : this.value(value, `events[${i}].attributes.${key}`, "event")
      }
      return { ...event, attributes: redacted }
    })
    const log = span.log_request
    return {
      ...span,
      attributes,
      status,
      ...(events === undefined ? {} : { events }),
      ...(log === undefined || log === null ? {} : { log_request: this.logRequest(log, "log_request.") })
    }
  }

  private attribute(key: string, value: unknown): unknown {
    if (STRUCTURAL_ATTRIBUTES.has(key)) return value
    const path = `attributes.${key}`
    if (key === "function_input" && typeof value === "string")
      return this.jsonText(value, path, "input", this.hideInputs)
    if (key === "function_output" && typeof value === "string") {
      return this.jsonText(value, path, "output", this.hideOutputs)
    }
    return this.value(value, path, key === "exception.message" ? "error" : "metadata")
  }

  /**
   * A JSON text attribute (a span's input or output, an event attribute): parsed, hidden, masked and
   * written again; a text that is not JSON (cut to its size limit) is hidden and masked as a string.
   */
  private jsonText(text: string, path: string, kind: RedactionKind, hide: Hide): string {
    if (hide === false && this.masker === undefined) return text
    let value: unknown = text
    let json = false
    if (/^\s*[[{"]/.test(text)) {
      try {
        value = JSON.parse(text)
        json = true
      } catch {
        // Cut to its size limit: not JSON any more, redacted as one string.
      }
    }
    const hidden = this.hidden(hide, value, () => true)
    if (hidden === HIDE_ALL) return JSON.stringify(HIDDEN)
    if (hidden === FAILED) return JSON.stringify(REDACTION_FAILED)
    const masked = this.value(hidden, path, kind)
    return bounded(!json && typeof masked === "string" ? masked : SpanMapper.toJson(masked))
  }

  /** A prompt blueprint: its texts, tool arguments and other content masked; its structure kept. */
  private prompt(prompt: S.LogRequestInput["input"], path: string, side: "input" | "output"): S.Prompt {
    const hidden = this.hidden(side === "input" ? this.hideInputs : this.hideOutputs, prompt, isPrompt)
    if (hidden === HIDE_ALL) return placeholderPrompt(prompt, side, HIDDEN)
    if (hidden === FAILED) return placeholderPrompt(prompt, side, REDACTION_FAILED)
    if (this.masker === undefined) return hidden as S.Prompt
    try {
      return this.structured(hidden, path, side, 0) as S.Prompt
    } catch (error) {
      if (!(error instanceof Unredactable)) throw error
      this.failed()
      return placeholderPrompt(prompt, side, REDACTION_FAILED)
    }
  }

  /** Walks a prompt: keys naming structure are kept, the rest is content. */
  private structured(u: unknown, path: string, kind: RedactionKind, depth: number): unknown {
    if (Array.isArray(u)) return u.map((item, i) => this.structured(item, `${path}[${i}]`, kind, depth + 1))
    if (!isRecord(u)) return this.walk(u, path, kind, depth)
    if (depth > MAX_DEPTH) throw unredactable
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(u)) {
      const at = `${path}.${key}`
      if (PROMPT_STRUCTURE.has(key) && (typeof value === "string" || key === "input_variables")) out[key] = value
      else if (key === "function" && isRecord(value)) {
        out[key] = { ...value, arguments: this.walk(value.arguments, `${at}.arguments`, kind, depth + 1) }
      } else out[key] = this.structured(value, at, kind, depth + 1)
    }
    return out
  }

  /** Any value, every string in it masked (keys kept); a failed field becomes the marker. */
  private value(u: unknown, path: string, kind: RedactionKind): unknown {
    if (this.masker === undefined) return u
    try {
      return this.walk(u, path, kind, 0)
    } catch (error) {
      if (!(error instanceof Unredactable)) throw error
      this.failed()
      return REDACTION_FAILED
    }
  }

  private walk(u: unknown, path: string, kind: RedactionKind, depth: number): unknown {
    if (typeof u === "string") return this.mask(u, path, kind)
    if (u === null || typeof u !== "object") return u
    if (depth > MAX_DEPTH) throw unredactable
    if (Array.isArray(u)) return u.map((item, i) => this.walk(item, `${path}[${i}]`, kind, depth + 1))
    const o = u as Record<string, unknown>
    // As `JSON.stringify` would write it: a `toJSON` (a Date, a LangChain object) first.
    if (typeof o.toJSON === "function") return this.walk((o.toJSON as () => unknown)(), path, kind, depth + 1)
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(o)) out[key] = this.walk(o[key], `${path}.${key}`, kind, depth + 1)
    return out
  }

  /** One string through the masker; a throw or a non-string result fails the field closed. */
  private mask(text: string, path: string, kind: RedactionKind): string {
    const masker = this.masker
    if (masker === undefined) return text
    let masked: unknown
    try {
      masked = masker(text, { path, kind })
    } catch {
      throw unredactable
    }
    if (typeof masked !== "string") throw unredactable
    return masked
  }

  /** A string field (an error message): masked, or the marker. */
  private text(text: string, path: string, kind: RedactionKind): string {
    return this.value(text, path, kind) as string
  }

  /**
   * The value to send after `hide`: the value itself, {@link HIDE_ALL} (hidden by `true`), the hide
   * function's result when it is JSON-serializable and `valid`, or {@link FAILED} (counted).
   */
  private hidden(hide: Hide, value: unknown, valid: (u: unknown) => boolean): unknown {
    if (hide === false) return value
    if (hide === true) return HIDE_ALL
    try {
      const result = hide(value)
      if (result !== undefined && typeof JSON.stringify(result) === "string" && valid(result)) return result
    } catch {
      // Falls through: the field fails closed.
    }
    this.failed()
    return FAILED
  }
}

/**
 * A span event of the handler (a run span, valid by construction) whose span is redacted when the
 * tracker encodes it; redaction keeps it valid (strings stay strings, a prompt stays a checked
 * blueprint), so it keeps the fast trusted encoding. Lets go of the wrapped event once encoded.
 */
class RedactedSpan implements PromptLayerTracker.SpanTrackEvent, TrustedSpanJob {
  readonly runId: string | undefined
  readonly parentRunId: string | undefined
  readonly source: string | undefined
  readonly onDelivered: PromptLayerTracker.SpanTrackEvent["onDelivered"]
  private inner: PromptLayerTracker.SpanTrackEvent | undefined

  constructor(
    inner: PromptLayerTracker.SpanTrackEvent,
    private readonly redactor: Redactor
  ) {
    this.runId = inner.runId
    this.parentRunId = inner.parentRunId
    this.source = inner.source
    this.onDelivered = inner.onDelivered
    this.inner = inner
  }

  build(): S.SpanInput {
    const inner = this.inner
    if (inner === undefined) throw new Error("the span was encoded already; its run's data is released")
    return this.redactor.span(inner.build())
  }

  [encodeTrusted](): PromptLayerClient.EncodedSpan {
    const encoded = SpanMapper.encodeValid(this.build())
    this.inner = undefined
    return encoded
  }
}

/**
 * The PromptLayer state machine behind the emulator and the in-memory test layer: pure,
 * synchronous, no HTTP. Methods take parsed wire bodies (`unknown`), validate them like the real
 * server and either return the response body or throw a {@link StoreFailure} carrying the status
 * and body the server would answer with, so that HTTP and in-memory callers map failures the same
 * way.
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as S from "../PromptLayerSchema.js"
import { undocumentedContentBlocks } from "./emulator/contentBlocks.js"
import { Traces, type TracesSnapshot } from "./emulator/traces.js"

// =============================================================================
// Failures
// =============================================================================

/** One entry of a FastAPI-style 422 `detail` list. */
export interface ValidationDetail {
  readonly loc: ReadonlyArray<string | number>
  readonly msg: string
  readonly type: string
}

/** A failure as the server answers it: an HTTP status and a JSON body. */
export class StoreFailure extends Error {
  readonly _tag = "StoreFailure"
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>
  ) {
    super(typeof body.message === "string" ? body.message : `PromptLayer emulator: ${status}`)
  }
}

/** True for a {@link StoreFailure}. */
export const isStoreFailure = (u: unknown): u is StoreFailure => u instanceof StoreFailure

/** `{ success: false, message }` with a status. */
export const failure = (status: number, message: string): StoreFailure =>
  new StoreFailure(status, { success: false, message })

/** 422 `{ detail: [...] }`. */
export const unprocessable = (detail: ReadonlyArray<ValidationDetail>): StoreFailure =>
  new StoreFailure(422, { detail })

/** Runs a store operation, returning `{ ok: true, value }` or `{ ok: false, failure }` instead of throwing. */
export const attempt = <A>(
  f: () => A
): { readonly ok: true; readonly value: A } | { readonly ok: false; readonly failure: StoreFailure } => {
  try {
    return { ok: true, value: f() }
  } catch (error) {
    if (isStoreFailure(error)) return { ok: false, failure: error }
    throw error
  }
}

const decode = <A, I>(schema: Schema.Schema<A, I>, input: unknown, root: string = "body"): A => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw unprocessable([{ loc: [root], msg: "Input should be a valid dictionary", type: "dict_type" }])
  }
  const result = Schema.decodeUnknownEither(schema, { errors: "all" })(input)
  if (Either.isRight(result)) return result.right
  const issues = ParseResult.ArrayFormatter.formatErrorSync(result.left)
  throw unprocessable(
    issues.map((issue) => ({
      loc: [root, ...issue.path.map((p) => (typeof p === "number" ? p : String(p)))],
      msg: issue.message,
      type: issue._tag === "Missing" ? "missing" : issue._tag === "Unexpected" ? "extra_forbidden" : "value_error"
    }))
  )
}

// =============================================================================
// Read model
// =============================================================================

/** The registry template a request is linked to. */
export interface PromptLink {
  readonly name: string | null
  readonly id: number | null
  readonly version: number | null
  readonly label: string | null
  readonly input_variables: Record<string, unknown>
}

/** A logged request as the emulator's read API shows it. */
export interface StoredRequest {
  readonly id: number
  /** Which endpoint logged it. */
  readonly kind: "log-request" | "track-request"
  /** The decoded wire body, without `api_key`. */
  readonly body: Record<string, unknown>
  readonly provider: string | null
  readonly model: string | null
  readonly function_name: string | null
  readonly tags: ReadonlyArray<string>
  readonly metadata: Readonly<Record<string, string>>
  /** Scores by name (`"default"` when unnamed). */
  readonly scores: Readonly<Record<string, number>>
  readonly prompt: PromptLink | null
  readonly group_ids: ReadonlyArray<number>
  readonly input_tokens: number
  readonly output_tokens: number
  readonly tokens: number
  readonly price: number
  /** `request_end_time - request_start_time`, in milliseconds. */
  readonly latency_ms: number
  readonly status: "SUCCESS" | "WARNING" | "ERROR"
  readonly error_type: string | null
  readonly error_message: string | null
  readonly span_id: string | null
  readonly request_start_time: string
  readonly request_end_time: string
  readonly created_at: string
  /** Input messages in blueprint format (null when they could not be derived). */
  readonly input: S.Prompt | null
  /** Output messages in blueprint format. */
  readonly output: S.Prompt | null
}

/** One version of a registry template. */
export interface StoredVersion {
  readonly id: number
  readonly version: number
  readonly prompt_template: Record<string, unknown>
  readonly commit_message: string | null
  readonly metadata: Record<string, unknown> | null
  readonly created_at: string
}

/** A registry template with all its versions and its release labels (label → version number). */
export interface StoredTemplate {
  readonly id: number
  readonly prompt_name: string
  readonly tags: ReadonlyArray<string>
  readonly created_at: string
  readonly updated_at: string
  readonly versions: ReadonlyArray<StoredVersion>
  readonly labels: Readonly<Record<string, number>>
}

/** An OTLP span received on `/v1/traces`, with its resource attributes. */
export interface StoredSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | null
  readonly name: string
  readonly span: Record<string, unknown>
  readonly resource: Record<string, unknown> | null
  readonly received_at: string
}

/**
 * A workflow to serve: its output nodes by name. A string value is an f-string template over the
 * run's input variables (`"Hello {name}"`); any other JSON value is returned as is. Without
 * `outputs`, one output node `"Output"` echoes the input variables.
 */
export interface WorkflowDefinition {
  readonly name: string
  readonly outputs?: Readonly<Record<string, unknown>> | undefined
  /** Release labels that move to this version (`workflow_label_name` of a run). */
  readonly release_labels?: ReadonlyArray<string> | undefined
}

/** A workflow with its versions (each publish of a name adds one) and release labels (label → version). */
export interface StoredWorkflow {
  readonly id: number
  readonly name: string
  readonly created_at: string
  readonly versions: ReadonlyArray<{
    readonly version: number
    readonly outputs: Readonly<Record<string, unknown>> | null
    readonly created_at: string
  }>
  readonly labels: Readonly<Record<string, number>>
}

/** The result of one node of a workflow execution. */
export interface WorkflowNodeResult {
  readonly status: "SUCCESS" | "FAILURE"
  readonly value: unknown
  readonly error_message: string | null
  readonly raw_error_message: string | null
  readonly is_output_node: boolean
}

/** A finished workflow execution (runs complete synchronously). */
export interface StoredExecution {
  readonly id: number
  readonly workflow_id: number
  readonly workflow_name: string
  readonly version: number
  readonly input_variables: Record<string, unknown>
  readonly metadata: Record<string, string> | null
  readonly callback_url: string | null
  readonly nodes: Readonly<Record<string, WorkflowNodeResult>>
  /** The value of the last output node (null when it failed or there is none). */
  readonly final_output: unknown
  readonly created_at: string
}

/** The whole state, as JSON, for persistence. */
export interface Snapshot {
  readonly format: "promptlayer-emulator/1"
  readonly next: {
    readonly request: number
    readonly group: number
    readonly template: number
    readonly version: number
    readonly workflow?: number
    readonly execution?: number
  }
  readonly requests: ReadonlyArray<StoredRequest>
  readonly groups: ReadonlyArray<{ readonly id: number; readonly created_at: string }>
  readonly templates: ReadonlyArray<StoredTemplate>
  readonly spans: ReadonlyArray<StoredSpan>
  /** Absent in files written before workflows were served. */
  readonly workflows?: ReadonlyArray<StoredWorkflow>
  readonly executions?: ReadonlyArray<StoredExecution>
  /** `/spans-bulk` spans and closed traces; absent in files written before traces were served. */
  readonly traces?: TracesSnapshot
}

/** Options of the {@link Store}. */
export interface StoreOptions {
  /** The clock (default: `new Date()`). */
  readonly now?: (() => Date) | undefined
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends ReadonlyArray<infer U> ? Array<U> : T[K] }
type MRequest = Mutable<StoredRequest> & { metadata: Record<string, string>; scores: Record<string, number> }
type MTemplate = Omit<Mutable<StoredTemplate>, "versions" | "labels"> & {
  versions: Array<StoredVersion>
  labels: Record<string, number>
}
type MWorkflow = Omit<StoredWorkflow, "versions" | "labels"> & {
  versions: Array<StoredWorkflow["versions"][number]>
  labels: Record<string, number>
}

const clone = <A>(a: A): A => structuredClone(a)

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const num = (u: unknown): number => (typeof u === "number" && Number.isFinite(u) ? u : 0)

/** The server echoes times as ISO strings without a zone. */
const echoTime = (iso: string): string => iso.replace(/Z$/, "")

// =============================================================================
// Blueprint conversion (track-request → messages shown in the read model)
// =============================================================================

const textBlocks = (content: unknown): Array<Record<string, unknown>> => {
  if (typeof content === "string") return [{ type: "text", text: content }]
  if (Array.isArray(content)) {
    return content.map((block) =>
      typeof block === "string" ? { type: "text", text: block } : isRecord(block) ? { ...block } : { type: "unknown" }
    ) as Array<Record<string, unknown>>
  }
  return []
}

const toMessage = (m: unknown): Record<string, unknown> | undefined => {
  if (!isRecord(m)) return undefined
  const role =
    typeof m.role === "string"
      ? m.role
      : typeof m.type === "string"
        ? (({ human: "user", ai: "assistant" } as Record<string, string>)[m.type as string] ?? m.type)
        : "user"
  const out: Record<string, unknown> = {
    role,
    content: textBlocks(m.content),
    input_variables: [],
    template_format: "f-string"
  }
  if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) out.tool_calls = m.tool_calls
  if (typeof m.tool_call_id === "string") out.tool_call_id = m.tool_call_id
  if (typeof m.name === "string") out.name = m.name
  return out
}

const chat = (messages: ReadonlyArray<Record<string, unknown>>): S.Prompt =>
  ({ type: "chat", messages, input_variables: [] }) as unknown as S.Prompt

const trackInput = (body: typeof S.TrackRequestBody.Type): S.Prompt | null => {
  const kwargs = body.kwargs
  const messages: Array<Record<string, unknown>> = []
  if (typeof kwargs.system === "string") messages.push({ role: "system", content: textBlocks(kwargs.system) })
  if (Array.isArray(kwargs.messages)) {
    for (const m of kwargs.messages) {
      const msg = toMessage(m)
      if (msg) messages.push(msg)
    }
  } else if (typeof kwargs.prompt === "string" || Array.isArray(kwargs.prompt)) {
    for (const p of Array.isArray(kwargs.prompt) ? kwargs.prompt : [kwargs.prompt])
      messages.push({ role: "user", content: textBlocks(String(p)) })
  } else if (Array.isArray(body.args)) {
    for (const a of body.args.flat(2)) {
      const msg = typeof a === "string" ? { role: "user", content: textBlocks(a) } : toMessage(a)
      if (msg) messages.push(msg)
    }
  }
  return messages.length > 0 ? chat(messages) : null
}

const trackOutput = (response: unknown): S.Prompt | null => {
  if (!isRecord(response)) return null
  const messages: Array<Record<string, unknown>> = []
  if (Array.isArray(response.choices)) {
    for (const choice of response.choices) {
      if (!isRecord(choice)) continue
      const msg = isRecord(choice.message) ? choice.message : isRecord(choice.delta) ? choice.delta : choice
      const text = typeof choice.text === "string" ? choice.text : undefined
      const converted = toMessage({ role: "assistant", ...msg, ...(text !== undefined ? { content: text } : {}) })
      if (converted) messages.push(converted)
    }
  } else if (Array.isArray(response.content) && response.type === "message") {
    messages.push({ role: "assistant", content: textBlocks(response.content), input_variables: [] })
  } else if (Array.isArray(response.generations)) {
    for (const gen of response.generations.flat(2)) {
      if (isRecord(gen) && typeof gen.text === "string")
        messages.push({ role: "assistant", content: textBlocks(gen.text) })
    }
  }
  return messages.length > 0 ? chat(messages) : null
}

const usageOf = (response: unknown): { input: number; output: number } => {
  if (!isRecord(response) || !isRecord(response.usage)) return { input: 0, output: 0 }
  const u = response.usage
  return {
    input: num(u.prompt_tokens) || num(u.input_tokens),
    output: num(u.completion_tokens) || num(u.output_tokens)
  }
}

const messageText = (prompt: unknown): string => {
  if (!isRecord(prompt)) return ""
  const blocks = (content: unknown) =>
    Array.isArray(content)
      ? content
          .map((b) => (isRecord(b) && typeof b.text === "string" ? b.text : ""))
          .filter((t) => t !== "")
          .join("\n")
      : ""
  if (Array.isArray(prompt.messages)) {
    return prompt.messages
      .map((m) => (isRecord(m) ? blocks(m.content) : ""))
      .filter((t) => t !== "")
      .join("\n")
  }
  return blocks(prompt.content)
}

// =============================================================================
// Template rendering
// =============================================================================

/** Variables named by an f-string template (`{var}`; `{{` and `}}` are literal braces). */
export const fstringVariables = (text: string): Array<string> => {
  const names: Array<string> = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === "{") {
      if (text[i + 1] === "{") {
        i++
        continue
      }
      const end = text.indexOf("}", i + 1)
      if (end === -1) break
      const name = text.slice(i + 1, end).trim()
      if (name !== "" && !names.includes(name)) names.push(name)
      i = end
    } else if (c === "}" && text[i + 1] === "}") i++
  }
  return names
}

const JINJA_VAR = /\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|[^}]*)?\}\}/g

/** Variables named by a jinja2 template (`{{ var }}`). */
export const jinjaVariables = (text: string): Array<string> => {
  const names: Array<string> = []
  for (const match of text.matchAll(JINJA_VAR)) {
    const name = match[1]!.split(".")[0]!
    if (!names.includes(name)) names.push(name)
  }
  return names
}

const show = (value: unknown): string =>
  typeof value === "string" ? value : value === null || value === undefined ? "" : JSON.stringify(value)

const renderText = (text: string, format: string, vars: Record<string, unknown>, missing: Set<string>): string => {
  if (format === "jinja2") {
    return text.replace(JINJA_VAR, (whole, path: string) => {
      const [head, ...rest] = path.split(".")
      if (!(head! in vars)) {
        missing.add(head!)
        return whole
      }
      let value: unknown = vars[head!]
      for (const key of rest) value = isRecord(value) ? value[key] : undefined
      return show(value)
    })
  }
  let out = ""
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === "{") {
      if (text[i + 1] === "{") {
        out += "{"
        i++
        continue
      }
      const end = text.indexOf("}", i + 1)
      if (end === -1) {
        out += text.slice(i)
        break
      }
      const name = text.slice(i + 1, end).trim()
      if (name in vars) out += show(vars[name])
      else {
        missing.add(name)
        out += text.slice(i, end + 1)
      }
      i = end
    } else if (c === "}" && text[i + 1] === "}") {
      out += "}"
      i++
    } else out += c
  }
  return out
}

const variablesOf = (text: string, format: string) =>
  format === "jinja2" ? jinjaVariables(text) : fstringVariables(text)

const blockTexts = (content: unknown): Array<string> =>
  Array.isArray(content) ? content.flatMap((b) => (isRecord(b) && typeof b.text === "string" ? [b.text] : [])) : []

/** Fills the defaults the real server adds to a published template, and its `input_variables`. */
const normalizeTemplate = (template: Record<string, unknown>): Record<string, unknown> => {
  const t = clone(template)
  const all: Array<string> = []
  const add = (names: ReadonlyArray<string>) => {
    for (const n of names) if (!all.includes(n)) all.push(n)
  }
  if (t.type === "chat" && Array.isArray(t.messages)) {
    t.messages = t.messages.map((m) => {
      if (!isRecord(m)) return m
      const format = typeof m.template_format === "string" ? m.template_format : "f-string"
      const names = blockTexts(m.content).flatMap((text) => variablesOf(text, format))
      add(names)
      return {
        input_variables: [...new Set(names)],
        template_format: format,
        raw_request_display_role: "",
        dataset_examples: [],
        name: null,
        ...m,
        ...(Array.isArray(m.input_variables) && m.input_variables.length > 0
          ? {}
          : { input_variables: [...new Set(names)] })
      }
    })
    return {
      functions: null,
      tools: null,
      function_call: null,
      tool_choice: null,
      dataset_examples: [],
      ...t,
      input_variables: all
    }
  }
  const format = typeof t.template_format === "string" ? t.template_format : "f-string"
  add(blockTexts(t.content).flatMap((text) => variablesOf(text, format)))
  return { template_format: format, ...t, input_variables: all }
}

const render = (template: Record<string, unknown>, vars: Record<string, unknown>, missing: Set<string>) => {
  const t = clone(template)
  const renderBlocks = (content: unknown, format: string) =>
    Array.isArray(content)
      ? content.map((b) =>
          isRecord(b) && typeof b.text === "string" ? { ...b, text: renderText(b.text, format, vars, missing) } : b
        )
      : content
  if (Array.isArray(t.messages)) {
    t.messages = t.messages.map((m) =>
      isRecord(m)
        ? {
            ...m,
            content: renderBlocks(m.content, typeof m.template_format === "string" ? m.template_format : "f-string")
          }
        : m
    )
  } else if (Array.isArray(t.content)) {
    t.content = renderBlocks(t.content, typeof t.template_format === "string" ? t.template_format : "f-string")
  }
  return t
}

const llmKwargs = (template: Record<string, unknown>, metadata: Record<string, unknown> | null) => {
  const model = isRecord(metadata) && isRecord(metadata.model) ? metadata.model : undefined
  const parameters = model && isRecord(model.parameters) ? model.parameters : {}
  const base: Record<string, unknown> = {}
  if (Array.isArray(template.messages)) {
    base.messages = template.messages.map((m) =>
      isRecord(m)
        ? {
            role: m.role,
            content:
              Array.isArray(m.content) && m.content.every((b) => isRecord(b) && b.type === "text")
                ? blockTexts(m.content).join("")
                : m.content
          }
        : m
    )
  } else base.prompt = blockTexts(template.content).join("")
  return { ...base, ...(model && typeof model.name === "string" ? { model: model.name } : {}), ...parameters }
}

// =============================================================================
// Store
// =============================================================================

const LogBody = S.LogRequestBody
const TrackBody = S.TrackRequestBody

const WorkflowDefinitionSchema = Schema.Struct({
  name: S.Name,
  outputs: Schema.optional(Schema.Record({ key: S.Name, value: Schema.Unknown })),
  release_labels: Schema.optional(Schema.Array(S.Name))
})

const ResultsQuery = Schema.Struct({
  workflow_version_execution_id: S.Id,
  return_all_outputs: Schema.optional(Schema.Boolean)
})

const WsTokenQuery = Schema.Struct({ capability: Schema.String.pipe(Schema.minLength(1)) })

/** How long a WebSocket token is valid, as PromptLayer issues them (one hour). */
const WS_TOKEN_TTL_MS = 3_600_000

const RawGetQuery = Schema.Struct({
  version: Schema.optional(S.Id),
  label: Schema.optional(S.Name),
  include_llm_kwargs: Schema.optional(Schema.Boolean),
  resolve_snippets: Schema.optional(Schema.Boolean)
})

/** The PromptLayer state: requests, groups, templates and trace spans. Not thread-shared; synchronous. */
export class Store {
  private readonly now: () => Date
  private nextRequest = 1
  private nextGroup = 1
  private nextTemplate = 1
  private nextVersion = 1
  private readonly requestsById = new Map<number, MRequest>()
  private readonly groups = new Map<number, { id: number; created_at: string }>()
  private readonly templates = new Map<number, MTemplate>()
  private spans: Array<StoredSpan> = []
  private nextWorkflow = 1
  private nextExecution = 1
  private wsTokens = 0
  private readonly workflows = new Map<number, MWorkflow>()
  private readonly executions = new Map<number, StoredExecution>()
  /** Bumped on every change; lets callers persist only when something changed. */
  revision = 0
  /** `/spans-bulk` spans and closed traces (their request logs are this store's requests). */
  readonly traces: Traces

  constructor(options: StoreOptions = {}) {
    this.now = options.now ?? (() => new Date())
    this.traces = new Traces({
      now: this.now,
      checkLog: (input) => void this.checkLogRequest(input),
      createLog: (input, spanId) => {
        const created = this.logRequest(input, { span_id: spanId })
        return { id: created.id as number, tokens: created.tokens as number }
      },
      fail: (status, body) => new StoreFailure(status, body),
      isFailure: isStoreFailure,
      changed: () => {
        this.revision++
      }
    })
  }

  // --- logging --------------------------------------------------------------

  /**
   * Validates a `/log-request` body as the route does (schema, error type, documented content
   * block types) and returns it decoded; throws the 422.
   */
  checkLogRequest(input: unknown): typeof LogBody.Type {
    const body = decode(LogBody, input)
    checkErrorType(body.status, body.error_type)
    const blocks = [
      ...undocumentedContentBlocks(body.input, ["body", "input"]),
      ...undocumentedContentBlocks(body.output, ["body", "output"])
    ]
    if (blocks.length > 0) throw unprocessable(blocks)
    return body
  }

  /**
   * POST `/log-request` → the 201 body (`id`, `prompt_version`, the stored row). `trace.span_id`
   * links the log to a `/spans-bulk` span.
   */
  logRequest(input: unknown, trace: { readonly span_id?: string | undefined } = {}): Record<string, unknown> {
    const body = this.checkLogRequest(input)
    const link =
      body.prompt_name != null || body.prompt_id != null
        ? this.looseLink(body.prompt_name ?? null, body.prompt_id ?? null, body.prompt_version_number ?? null)
        : null
    const scores: Record<string, number> = {}
    if (body.score !== undefined && (body.score > 0 || body.score_name != null))
      scores[body.score_name ?? "default"] = body.score
    const inputTokens = body.input_tokens ?? 0
    const outputTokens = body.output_tokens ?? 0
    const request: MRequest = {
      id: this.nextRequest++,
      kind: "log-request",
      body: stripKey(input),
      provider: body.provider,
      model: body.model,
      function_name: body.function_name ?? "",
      tags: [...(body.tags ?? [])],
      metadata: { ...(body.metadata ?? {}) },
      scores,
      prompt: link ? { ...link, input_variables: { ...(body.prompt_input_variables ?? {}) } } : null,
      group_ids: [],
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      tokens: inputTokens + outputTokens,
      price: body.price ?? 0,
      latency_ms: latency(body.request_start_time, body.request_end_time),
      status: body.status ?? "SUCCESS",
      error_type: body.error_type ?? null,
      error_message: body.error_message ?? null,
      span_id: trace.span_id ?? null,
      request_start_time: body.request_start_time,
      request_end_time: body.request_end_time,
      created_at: this.now().toISOString(),
      input: clone(body.input),
      output: clone(body.output)
    }
    this.requestsById.set(request.id, request)
    this.revision++
    const model = { provider: body.provider, name: body.model, parameters: body.parameters ?? {} }
    return {
      id: request.id,
      user_id: 1,
      workspace_id: 1,
      prompt_id: request.prompt?.id ?? null,
      prompt_version_number: request.prompt?.version ?? null,
      prompt_input_variables: body.prompt_input_variables ?? {},
      provider_type: body.provider,
      function_name: request.function_name,
      function_args: [],
      function_kwargs: { input: body.input, parameters: body.parameters ?? {} },
      request_response: { output: body.output },
      request_start_time: echoTime(body.request_start_time),
      request_end_time: echoTime(body.request_end_time),
      is_sharable: false,
      share_hash: shareHash(request.id),
      share_view_count: 0,
      is_starred: false,
      price: request.price,
      score: body.score ?? 0,
      engine: body.model,
      tokens: request.tokens,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      span_id: request.span_id,
      created_at: new Date(request.created_at).toUTCString(),
      metadata: Object.entries(request.metadata).map(([key, value]) => ({ [key]: value })),
      scores: Object.entries(scores).map(([name, score]) => ({ name, score })),
      type: "request",
      tags_array: request.tags,
      prompt_string: messageText(body.input),
      response_string: messageText(body.output),
      prompt_version: {
        prompt_template: {
          ...body.input,
          messages: [
            ...(Array.isArray((body.input as { messages?: unknown }).messages)
              ? ((body.input as unknown as { messages: Array<unknown> }).messages as Array<unknown>)
              : []),
            ...(Array.isArray((body.output as { messages?: unknown }).messages)
              ? ((body.output as unknown as { messages: Array<unknown> }).messages as Array<unknown>)
              : [])
          ]
        },
        commit_message: null,
        metadata: { model }
      },
      status: request.status,
      error_type: request.error_type,
      error_message: request.error_message
    }
  }

  /** POST `/track-request` → `{ success, request_id, prompt_blueprint, message }`. */
  trackRequest(input: unknown): Record<string, unknown> {
    const body = decode(TrackBody, input)
    checkErrorType(body.status, body.error_type)
    if (body.group_id != null && !this.groups.has(body.group_id)) throw failure(404, `Group ${body.group_id} not found`)
    const usage = usageOf(body.request_response)
    const response = isRecord(body.request_response) ? body.request_response : {}
    const model =
      typeof body.kwargs.model === "string"
        ? body.kwargs.model
        : typeof body.kwargs.model_name === "string"
          ? body.kwargs.model_name
          : typeof response.model === "string"
            ? response.model
            : null
    // LangChain.js's legacy wrappers send the provider as `provider`, not `provider_type`.
    const legacyProvider = isRecord(input) && typeof input.provider === "string" ? input.provider : undefined
    const provider = body.provider_type ?? legacyProvider ?? body.function_name.split(".")[0] ?? null
    const link = body.prompt_id != null ? this.looseLink(null, body.prompt_id, body.prompt_version ?? null) : null
    const inputPrompt = trackInput(body)
    const outputPrompt = trackOutput(body.request_response)
    const request: MRequest = {
      id: this.nextRequest++,
      kind: "track-request",
      body: stripKey(input),
      provider,
      model,
      function_name: body.function_name,
      tags: [...(body.tags ?? [])],
      metadata: { ...(body.metadata ?? {}) },
      scores: {},
      prompt: link ? { ...link, input_variables: { ...(body.prompt_input_variables ?? {}) } } : null,
      group_ids: body.group_id != null ? [body.group_id] : [],
      input_tokens: usage.input,
      output_tokens: usage.output,
      tokens: usage.input + usage.output,
      price: 0,
      latency_ms: latency(body.request_start_time, body.request_end_time),
      status: body.status ?? "SUCCESS",
      error_type: body.error_type ?? null,
      error_message: body.error_message ?? null,
      span_id: body.span_id ?? null,
      request_start_time: body.request_start_time,
      request_end_time: body.request_end_time,
      created_at: this.now().toISOString(),
      input: inputPrompt,
      output: outputPrompt
    }
    this.requestsById.set(request.id, request)
    this.revision++
    const { model: _model, messages: _messages, ...parameters } = body.kwargs
    return {
      success: true,
      request_id: request.id,
      prompt_blueprint: body.return_prompt_blueprint
        ? {
            prompt_template: {
              type: "chat",
              messages: [
                ...((inputPrompt as { messages?: Array<unknown> } | null)?.messages ?? []),
                ...((outputPrompt as { messages?: Array<unknown> } | null)?.messages ?? [])
              ],
              functions: [],
              tools: [],
              function_call: null,
              tool_choice: null,
              input_variables: [],
              dataset_examples: []
            },
            commit_message: null,
            metadata: { model: { provider, name: model, parameters } },
            provider_base_url_name: null,
            report_id: null,
            inference_client_name: null
          }
        : null,
      message: "Request tracked successfully"
    }
  }

  // --- tracking -------------------------------------------------------------

  /** POST `/library-track-score`: sets the named score (default `"default"`). */
  trackScore(input: unknown): { success: true } {
    const body = decode(S.TrackScoreBody, input)
    const request = this.mustFind(body.request_id)
    request.scores[body.name ?? "default"] = body.score
    this.revision++
    return { success: true }
  }

  /** POST `/library-track-metadata`: merges (a key tracked again replaces its value). */
  trackMetadata(input: unknown): { success: true } {
    const body = decode(S.TrackMetadataBody, input)
    const request = this.mustFind(body.request_id)
    Object.assign(request.metadata, body.metadata)
    this.revision++
    return { success: true }
  }

  /** POST `/library-track-prompt`: links the request to a registry template (which must exist). */
  trackPrompt(input: unknown): { success: true } {
    const body = decode(S.TrackPromptBody, input)
    const request = this.mustFind(body.request_id)
    const template = this.findTemplate(body.prompt_name)
    if (template === undefined) throw failure(404, `Prompt template '${body.prompt_name}' not found`)
    const version = this.resolveVersion(template, body.version ?? undefined, body.label ?? undefined)
    request.prompt = {
      name: template.prompt_name,
      id: template.id,
      version: version.version,
      label: body.label ?? null,
      input_variables: { ...body.prompt_input_variables }
    }
    this.revision++
    return { success: true }
  }

  /** POST `/track-group`: adds the request to an existing group. */
  trackGroup(input: unknown): { success: true } {
    const body = decode(S.TrackGroupBody, input)
    const request = this.mustFind(body.request_id)
    if (!this.groups.has(body.group_id)) throw failure(404, `Group ${body.group_id} not found`)
    if (!request.group_ids.includes(body.group_id)) request.group_ids.push(body.group_id)
    this.revision++
    return { success: true }
  }

  /** POST `/create-group` → `{ success, id }`. */
  createGroup(): { success: true; id: number } {
    const id = this.nextGroup++
    this.groups.set(id, { id, created_at: this.now().toISOString() })
    this.revision++
    return { success: true, id }
  }

  // --- prompt registry ------------------------------------------------------

  /** POST `/rest/prompt-templates` (201): a new version each time; `release_labels` move to it. */
  publishTemplate(wire: unknown): Record<string, unknown> {
    const body = decode(S.PublishTemplateWire, wire)
    const meta = body.prompt_template
    const version = body.prompt_version
    const name = meta.prompt_name
    const now = this.now().toISOString()
    let template = this.findTemplateByName(name)
    if (template === undefined) {
      template = {
        id: this.nextTemplate++,
        prompt_name: name,
        tags: [...(meta.tags ?? version.tags ?? [])],
        created_at: now,
        updated_at: now,
        versions: [],
        labels: {}
      }
      this.templates.set(template.id, template)
    } else if (meta.tags !== undefined) template.tags = [...meta.tags]
    const stored: StoredVersion = {
      id: this.nextVersion++,
      version: template.versions.length + 1,
      prompt_template: normalizeTemplate(version.prompt_template as unknown as Record<string, unknown>),
      commit_message: version.commit_message ?? meta.commit_message ?? null,
      metadata: (version.metadata ?? meta.metadata ?? null) as Record<string, unknown> | null,
      created_at: now
    }
    template.versions.push(stored)
    template.updated_at = now
    const labels = body.release_labels ?? version.release_labels ?? meta.release_labels ?? null
    for (const label of labels ?? []) template.labels[label] = stored.version
    this.revision++
    return {
      id: template.id,
      prompt_name: template.prompt_name,
      prompt_version_id: stored.id,
      version_number: stored.version,
      tags: [...template.tags],
      release_labels: labels === null ? null : [...labels],
      prompt_template: clone(stored.prompt_template),
      commit_message: stored.commit_message,
      metadata: clone(stored.metadata),
      external_ids: null
    }
  }

  /**
   * POST `/prompt-templates/{identifier}`: by name or id, at a version or release label (label
   * wins); `input_variables` rendered unless `skip_input_variable_rendering`.
   */
  getTemplate(identifier: string | number, params: unknown = {}): Record<string, unknown> {
    const p = decode(S.GetTemplateParams, params ?? {})
    const template = this.findTemplate(identifier)
    if (template === undefined) throw failure(404, `Prompt template '${identifier}' not found`)
    const version = this.resolveVersion(template, p.version, p.label)
    let promptTemplate = clone(version.prompt_template)
    if (p.input_variables !== undefined && p.skip_input_variable_rendering !== true) {
      const missing = new Set<string>()
      promptTemplate = render(promptTemplate, p.input_variables, missing)
      if (missing.size > 0) {
        throw failure(
          422,
          `Missing input variable${missing.size > 1 ? "s" : ""} for prompt template '${template.prompt_name}': ${[...missing].join(", ")}`
        )
      }
    }
    const metadata = clone(version.metadata)
    const kwargs = llmKwargs(promptTemplate, metadata)
    return {
      id: template.id,
      prompt_name: template.prompt_name,
      tags: [...template.tags],
      workspace_id: 1,
      commit_message: version.commit_message,
      metadata,
      prompt_template: promptTemplate,
      llm_kwargs: p.model_parameter_overrides ? { ...kwargs, ...p.model_parameter_overrides } : kwargs,
      provider_base_url: null,
      custom_provider: null,
      provider_id: null,
      version: version.version,
      snippets: [],
      warning: null
    }
  }

  /** GET `/prompt-templates/{identifier}?version&label&include_llm_kwargs` (the raw template). */
  getTemplateRaw(identifier: string | number, query: unknown = {}): Record<string, unknown> {
    const q = decode(RawGetQuery, query ?? {}, "query")
    const template = this.findTemplate(identifier)
    if (template === undefined) throw failure(404, `Prompt template '${identifier}' not found`)
    const version = this.resolveVersion(template, q.version, q.label)
    return {
      success: true,
      id: template.id,
      prompt_name: template.prompt_name,
      version: version.version,
      workspace_id: 1,
      prompt_template: clone(version.prompt_template),
      metadata: clone(version.metadata),
      commit_message: version.commit_message,
      tags: [...template.tags],
      created_at: version.created_at,
      snippets: [],
      ...(q.include_llm_kwargs ? { llm_kwargs: llmKwargs(version.prompt_template, version.metadata) } : {})
    }
  }

  /** GET `/prompt-templates`: newest first; `name` (partial, case-insensitive), `label`, `tags` (all). */
  listTemplates(params: unknown = {}): Record<string, unknown> {
    const p = decode(S.ListTemplatesParams, params ?? {}, "query")
    if (p.status === "deleted") return page([], 1, p.per_page ?? 30)
    const name = p.name?.toLowerCase()
    const items: Array<Record<string, unknown>> = []
    for (const template of [...this.templates.values()].sort((a, b) => b.id - a.id)) {
      if (name !== undefined && !template.prompt_name.toLowerCase().includes(name)) continue
      if (p.tags !== undefined && !p.tags.every((tag) => template.tags.includes(tag))) continue
      let version = template.versions[template.versions.length - 1]!
      if (p.label !== undefined) {
        const n = template.labels[p.label]
        if (n === undefined) continue
        version = template.versions[n - 1]!
      }
      items.push({
        id: template.id,
        prompt_name: template.prompt_name,
        tags: [...template.tags],
        folder_id: null,
        prompt_template: clone(version.prompt_template),
        version: version.version,
        commit_message: version.commit_message,
        metadata: clone(version.metadata),
        parent_folder_name: null,
        full_folder_path: null,
        release_labels: Object.entries(template.labels)
          .filter(([, v]) => v === version.version)
          .map(([label]) => label)
      })
    }
    return page(items, p.page ?? 1, p.per_page ?? 30)
  }

  // --- workflows ------------------------------------------------------------

  /**
   * Publishes a workflow ({@link WorkflowDefinition}): a new workflow, or a new version of the one
   * with that name (its id stays). Returns the workflow as `GET /workflows/{name}` shows it.
   */
  publishWorkflow(input: unknown): Record<string, unknown> {
    const definition = decode(WorkflowDefinitionSchema, input)
    const now = this.now().toISOString()
    let workflow = [...this.workflows.values()].find((w) => w.name === definition.name)
    if (workflow === undefined) {
      workflow = { id: this.nextWorkflow++, name: definition.name, created_at: now, versions: [], labels: {} }
      this.workflows.set(workflow.id, workflow)
    }
    const version = workflow.versions.length + 1
    workflow.versions.push({
      version,
      outputs: definition.outputs === undefined ? null : clone(definition.outputs),
      created_at: now
    })
    for (const label of definition.release_labels ?? []) workflow.labels[label] = version
    this.revision++
    return workflowView(workflow)
  }

  /** GET `/workflows/{name or id}` → `{ success, workflow: { id, workspace_id, user_id, name, is_draft, is_deleted } }`. */
  getWorkflow(identifier: string | number): Record<string, unknown> {
    return { success: true, workflow: workflowView(this.mustFindWorkflow(identifier)) }
  }

  /**
   * POST `/workflows/{name or id}/run` → `{ success, message, warning, workflow_version_execution_id }`
   * (the route answers 202 instead of 201 when `callback_url` is given; the callback is not called).
   * Runs synchronously: each output node's string value is rendered over `input_variables`; a node
   * naming a missing variable fails (`FAILURE`), and `warning` names the missing variables.
   */
  runWorkflow(identifier: string | number, input: unknown): Record<string, unknown> {
    const body = decode(S.RunWorkflowBody, input)
    const workflow = this.mustFindWorkflow(identifier)
    const label = body.workflow_label_name ?? undefined
    const versionNumber = body.workflow_version_number ?? undefined
    if (label !== undefined && versionNumber !== undefined) {
      throw failure(400, "workflow_label_name and workflow_version_number are mutually exclusive")
    }
    let version = workflow.versions[workflow.versions.length - 1]!
    if (label !== undefined) {
      const n = workflow.labels[label]
      if (n === undefined) throw failure(404, `Release label '${label}' not found for workflow '${workflow.name}'`)
      version = workflow.versions[n - 1]!
    } else if (versionNumber !== undefined) {
      const found = workflow.versions[versionNumber - 1]
      if (found === undefined) throw failure(404, `Version ${versionNumber} of workflow '${workflow.name}' not found`)
      version = found
    }
    const vars = { ...(body.input_variables ?? {}) }
    const outputs = version.outputs ?? { Output: vars }
    const nodes: Record<string, WorkflowNodeResult> = {}
    const allMissing = new Set<string>()
    let finalOutput: unknown = null
    for (const [name, template] of Object.entries(outputs)) {
      const missing = new Set<string>()
      const value = typeof template === "string" ? renderText(template, "f-string", vars, missing) : clone(template)
      const error =
        missing.size === 0 ? null : `Missing input variable${missing.size > 1 ? "s" : ""}: ${[...missing].join(", ")}`
      for (const m of missing) allMissing.add(m)
      nodes[name] = {
        status: error === null ? "SUCCESS" : "FAILURE",
        value: error === null ? value : null,
        error_message: error,
        raw_error_message: error,
        is_output_node: true
      }
      finalOutput = nodes[name]!.value
    }
    const execution: StoredExecution = {
      id: this.nextExecution++,
      workflow_id: workflow.id,
      workflow_name: workflow.name,
      version: version.version,
      input_variables: clone(vars),
      metadata: body.metadata ? { ...body.metadata } : null,
      callback_url: body.callback_url ?? null,
      nodes,
      final_output: finalOutput,
      created_at: this.now().toISOString()
    }
    this.executions.set(execution.id, execution)
    this.revision++
    return {
      success: true,
      message: "Workflow execution created successfully",
      warning: allMissing.size === 0 ? null : `Missing input variables: ${[...allMissing].join(", ")}`,
      workflow_version_execution_id: execution.id
    }
  }

  /**
   * GET `/workflow-version-execution-results?workflow_version_execution_id&return_all_outputs`: the
   * node results by name with `return_all_outputs`, else the final output. Always finished (200).
   */
  workflowResults(query: unknown): unknown {
    const q = decode(ResultsQuery, query ?? {}, "query")
    const execution = this.executions.get(q.workflow_version_execution_id)
    if (execution === undefined) {
      throw failure(404, `Workflow version execution ${q.workflow_version_execution_id} not found`)
    }
    return q.return_all_outputs === true ? clone(execution.nodes) : clone(execution.final_output)
  }

  /**
   * POST `/ws-token-request-library?capability=<channel>` (201): a fake token for PromptLayer's
   * Centrifugo WebSocket. The emulator serves no WebSocket: clients poll {@link workflowResults}.
   */
  wsToken(query: unknown): Record<string, unknown> {
    const q = decode(WsTokenQuery, query ?? {}, "query")
    const issued = this.now().getTime()
    return {
      success: true,
      token_details: {
        expires: issued + WS_TOKEN_TTL_MS,
        token: `emulator-ws-token-${++this.wsTokens}`,
        issued,
        capability: { "user:1": ["presence", "subscribe"], [q.capability]: ["presence", "subscribe"] },
        clientId: "1"
      }
    }
  }

  /** Every workflow with its versions and labels, oldest first (copies). */
  workflowsList(): Array<StoredWorkflow> {
    return [...this.workflows.values()].map(clone)
  }

  /** Every workflow execution, newest first (copies). */
  workflowExecutions(): Array<StoredExecution> {
    return [...this.executions.values()].sort((a, b) => b.id - a.id).map(clone)
  }

  // --- tracing --------------------------------------------------------------

  /** POST `/v1/traces` (OTLP JSON): keeps every span; returns the number accepted. */
  exportTraces(input: unknown): { accepted: number } {
    if (!isRecord(input) || !Array.isArray(input.resourceSpans)) {
      throw unprocessable([{ loc: ["body", "resourceSpans"], msg: "Field required", type: "missing" }])
    }
    const received_at = this.now().toISOString()
    let accepted = 0
    for (const rs of input.resourceSpans) {
      if (!isRecord(rs)) continue
      const resource = isRecord(rs.resource) ? rs.resource : null
      const scopes = Array.isArray(rs.scopeSpans)
        ? rs.scopeSpans
        : Array.isArray(rs.instrumentationLibrarySpans)
          ? rs.instrumentationLibrarySpans
          : []
      for (const ss of scopes) {
        if (!isRecord(ss) || !Array.isArray(ss.spans)) continue
        for (const span of ss.spans) {
          if (!isRecord(span)) continue
          this.spans.push({
            traceId: String(span.traceId ?? ""),
            spanId: String(span.spanId ?? ""),
            parentSpanId: typeof span.parentSpanId === "string" && span.parentSpanId !== "" ? span.parentSpanId : null,
            name: String(span.name ?? ""),
            span: clone(span),
            resource: clone(resource),
            received_at
          })
          accepted++
        }
      }
    }
    if (accepted > 0) this.revision++
    return { accepted }
  }

  // --- read model -----------------------------------------------------------

  /** Every logged request, newest first (copies). */
  requests(): Array<StoredRequest> {
    return [...this.requestsById.values()].sort((a, b) => b.id - a.id).map(clone)
  }

  /** One request by id (a copy), or undefined. */
  request(id: number): StoredRequest | undefined {
    const r = this.requestsById.get(id)
    return r === undefined ? undefined : clone(r)
  }

  /** Every registry template with its versions and labels, newest first (copies). */
  templatesList(): Array<StoredTemplate> {
    return [...this.templates.values()].sort((a, b) => b.id - a.id).map(clone)
  }

  /** Group ids created so far. */
  groupIds(): Array<number> {
    return [...this.groups.keys()]
  }

  /** Spans received on `/v1/traces`, oldest first (copies). */
  traceSpans(): Array<StoredSpan> {
    return this.spans.map(clone)
  }

  /** Counts of what is stored. */
  counts(): { requests: number; groups: number; templates: number; versions: number; spans: number } {
    let versions = 0
    for (const t of this.templates.values()) versions += t.versions.length
    return {
      requests: this.requestsById.size,
      groups: this.groups.size,
      templates: this.templates.size,
      versions,
      spans: this.spans.length
    }
  }

  // --- persistence ----------------------------------------------------------

  /** The whole state as JSON-safe data. */
  snapshot(): Snapshot {
    return {
      format: "promptlayer-emulator/1",
      next: {
        request: this.nextRequest,
        group: this.nextGroup,
        template: this.nextTemplate,
        version: this.nextVersion,
        workflow: this.nextWorkflow,
        execution: this.nextExecution
      },
      requests: [...this.requestsById.values()].map(clone),
      groups: [...this.groups.values()].map(clone),
      templates: [...this.templates.values()].map(clone),
      spans: this.spans.map(clone),
      workflows: [...this.workflows.values()].map(clone),
      executions: [...this.executions.values()].map(clone),
      traces: this.traces.snapshot()
    }
  }

  /** Replaces the whole state with a snapshot. */
  restore(snapshot: Snapshot): void {
    if (!isRecord(snapshot) || snapshot.format !== "promptlayer-emulator/1") {
      throw new Error("not a promptlayer-emulator/1 snapshot")
    }
    this.clear()
    for (const r of snapshot.requests) this.requestsById.set(r.id, clone(r) as MRequest)
    for (const g of snapshot.groups) this.groups.set(g.id, clone(g))
    for (const t of snapshot.templates) this.templates.set(t.id, clone(t) as MTemplate)
    this.spans = snapshot.spans.map(clone)
    for (const w of snapshot.workflows ?? []) this.workflows.set(w.id, clone(w) as MWorkflow)
    for (const e of snapshot.executions ?? []) this.executions.set(e.id, clone(e))
    this.traces.restore(snapshot.traces)
    const maxId = (ids: Iterable<number>) => Math.max(0, ...ids) + 1
    this.nextRequest = Math.max(snapshot.next.request, maxId(this.requestsById.keys()))
    this.nextGroup = Math.max(snapshot.next.group, maxId(this.groups.keys()))
    this.nextTemplate = Math.max(snapshot.next.template, maxId(this.templates.keys()))
    this.nextVersion = Math.max(
      snapshot.next.version,
      maxId([...this.templates.values()].flatMap((t) => t.versions.map((v) => v.id)))
    )
    this.nextWorkflow = Math.max(snapshot.next.workflow ?? 1, maxId(this.workflows.keys()))
    this.nextExecution = Math.max(snapshot.next.execution ?? 1, maxId(this.executions.keys()))
    this.revision++
  }

  /** Forgets everything; ids start again at 1. */
  reset(): void {
    this.clear()
    this.revision++
  }

  private clear() {
    this.requestsById.clear()
    this.groups.clear()
    this.templates.clear()
    this.spans = []
    this.workflows.clear()
    this.executions.clear()
    this.traces.clear()
    this.nextWorkflow = 1
    this.nextExecution = 1
    this.nextRequest = 1
    this.nextGroup = 1
    this.nextTemplate = 1
    this.nextVersion = 1
  }

  // --- helpers --------------------------------------------------------------

  private mustFind(id: number): MRequest {
    const request = this.requestsById.get(id)
    if (request === undefined) throw failure(404, `Request ${id} not found`)
    return request
  }

  private findTemplateByName(name: string): MTemplate | undefined {
    for (const t of this.templates.values()) if (t.prompt_name === name) return t
    return undefined
  }

  private findTemplate(identifier: string | number): MTemplate | undefined {
    const byName = this.findTemplateByName(String(identifier))
    if (byName !== undefined) return byName
    const id = typeof identifier === "number" ? identifier : /^\d+$/.test(identifier) ? Number(identifier) : Number.NaN
    return this.templates.get(id)
  }

  private findWorkflow(identifier: string | number): MWorkflow | undefined {
    for (const w of this.workflows.values()) if (w.name === String(identifier)) return w
    const id = typeof identifier === "number" ? identifier : /^\d+$/.test(identifier) ? Number(identifier) : Number.NaN
    return this.workflows.get(id)
  }

  private mustFindWorkflow(identifier: string | number): MWorkflow {
    const workflow = this.findWorkflow(identifier)
    if (workflow === undefined) throw failure(404, `Workflow '${identifier}' not found`)
    return workflow
  }

  private resolveVersion(template: MTemplate, version: number | undefined, label: string | undefined): StoredVersion {
    if (label !== undefined) {
      const n = template.labels[label]
      if (n === undefined)
        throw failure(404, `Release label '${label}' not found for prompt template '${template.prompt_name}'`)
      return template.versions[n - 1]!
    }
    if (version !== undefined) {
      const v = template.versions[version - 1]
      if (v === undefined)
        throw failure(404, `Version ${version} of prompt template '${template.prompt_name}' not found`)
      return v
    }
    return template.versions[template.versions.length - 1]!
  }

  private looseLink(
    name: string | null,
    id: number | null,
    version: number | null
  ): Omit<PromptLink, "input_variables"> {
    const template = id !== null ? this.templates.get(id) : name !== null ? this.findTemplateByName(name) : undefined
    return {
      name: template?.prompt_name ?? name,
      id: template?.id ?? id,
      version: version ?? (template ? template.versions.length : null),
      label: null
    }
  }
}

const checkErrorType = (status: string | undefined, errorType: string | null | undefined) => {
  if (errorType === undefined || errorType === null) return
  const allowed = S.errorTypeStatuses[errorType as keyof typeof S.errorTypeStatuses]
  const actual = status ?? "SUCCESS"
  if (!allowed.includes(actual as "WARNING" | "ERROR")) {
    throw unprocessable([
      {
        loc: ["body", "error_type"],
        msg: `error_type ${errorType} requires status ${allowed.join(" or ")} (got ${actual})`,
        type: "value_error"
      }
    ])
  }
}

const workflowView = (workflow: MWorkflow): Record<string, unknown> => ({
  id: workflow.id,
  workspace_id: 1,
  user_id: null,
  name: workflow.name,
  is_draft: false,
  is_deleted: false
})

const stripKey = (input: unknown): Record<string, unknown> => {
  if (!isRecord(input)) return {}
  const { api_key: _key, ...rest } = input
  return clone(rest)
}

const shareHash = (id: number) => {
  let h = 0x811c9dc5
  let out = ""
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ (id + i * 0x9e3779b9), 0x01000193) >>> 0
    out += h.toString(16).padStart(8, "0")
  }
  return out
}

const latency = (start: string, end: string) => Math.max(0, Date.parse(end) - Date.parse(start))

const page = (items: Array<Record<string, unknown>>, pageNum: number, perPage: number) => {
  const total = items.length
  const pages = Math.ceil(total / perPage)
  const slice = items.slice((pageNum - 1) * perPage, pageNum * perPage)
  return {
    items: slice,
    page: pageNum,
    per_page: perPage,
    pages,
    total,
    has_next: pageNum < pages,
    has_prev: pageNum > 1,
    next_num: pageNum < pages ? pageNum + 1 : null,
    prev_num: pageNum > 1 ? pageNum - 1 : null
  }
}

/**
 * The PromptLayer state machine behind the emulator and the in-memory test layer: pure,
 * synchronous, no HTTP. Methods take parsed wire bodies (`unknown`), validate them like the real
 * server and either return the response body or throw a {@link StoreFailure} carrying the status
 * and body the server would answer with, so that HTTP and in-memory callers map failures the same
 * way.
 */
import * as Schema from "effect/Schema"
import * as S from "../../PromptLayerSchema.js"
import { undocumentedContentBlocks } from "./contentBlocks.js"
import { stringifyExact } from "./exactJson.js"
import { clone, dict, isRecord, own, rawField, setOwn } from "./records.js"
import { checkSnapshot } from "./snapshotValidation.js"
import { decode, failure, isStoreFailure, StoreFailure, unprocessable } from "./storeFailure.js"
import { llmKwargs, normalizeTemplate, render, renderText } from "./templateRendering.js"
import { Traces, type TracesChange, type TracesMark, type TracesSnapshot } from "./traces.js"
import { messageText, trackInput, trackOutput, usageOf } from "./trackPrompts.js"

export {
  attempt,
  failure,
  isStoreFailure,
  StoreFailure,
  unprocessable,
  type ValidationDetail
} from "./storeFailure.js"
export { fstringVariables, jinjaVariables } from "./templateRendering.js"

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
  /**
   * Total JSON size of what writes may add (requests, spans, template versions, workflow runs);
   * a write past it fails with 507. Default: no limit.
   */
  readonly maxStoredBytes?: number | undefined
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

/** The spans of an OTLP `resourceSpans` list with their resource (`instrumentationLibrarySpans` read too); non-objects skipped. */
const otlpSpans = (resourceSpans: ReadonlyArray<unknown>) => {
  const found: Array<{ readonly resource: Record<string, unknown> | null; readonly span: Record<string, unknown> }> = []
  for (const rs of resourceSpans) {
    if (!isRecord(rs)) continue
    const resource = isRecord(rs.resource) ? rs.resource : null
    const scopes = Array.isArray(rs.scopeSpans)
      ? rs.scopeSpans
      : Array.isArray(rs.instrumentationLibrarySpans)
        ? rs.instrumentationLibrarySpans
        : []
    for (const ss of scopes) {
      if (!isRecord(ss) || !Array.isArray(ss.spans)) continue
      for (const span of ss.spans) if (isRecord(span)) found.push({ resource, span })
    }
  }
  return found
}

/** The server echoes times as ISO strings without a zone. */
const echoTime = (iso: string): string => iso.replace(/Z$/, "")

// =============================================================================
// Store
// =============================================================================

const LogBody = S.LogRequestBody
const TrackBody = S.TrackRequestBody

const WorkflowDefinitionSchema = Schema.Struct({
  name: S.Name,
  outputs: Schema.optional(Schema.Record(S.Name, Schema.Unknown)),
  release_labels: Schema.optional(Schema.Array(S.Name))
})

const ResultsQuery = Schema.Struct({
  workflow_version_execution_id: S.Id,
  return_all_outputs: Schema.optional(Schema.Boolean)
})

const OtlpQuery = Schema.Struct({ close_after: Schema.optional(Schema.Boolean) })

const WsTokenQuery = Schema.Struct({ capability: Schema.String.check(Schema.isMinLength(1)) })

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
  /** Changes not yet cut for the journal (undefined when not persisted). */
  private pending: Pending | undefined
  private onChange: (() => void) | undefined
  /** `/spans-bulk` spans and closed traces (their request logs are this store's requests). */
  readonly traces: Traces

  private readonly maxStoredBytes: number
  /** JSON size of what writes added since the last reset (or of the restored snapshot). */
  private storedBytes = 0

  constructor(options: StoreOptions = {}) {
    this.now = options.now ?? (() => new Date())
    this.maxStoredBytes = options.maxStoredBytes ?? Number.POSITIVE_INFINITY
    this.traces = new Traces({
      now: this.now,
      checkLog: (input) => this.checkLogRequest(input),
      createLog: (log, spanId, copy) => {
        const request = this.insertLog(log.body, log.input, spanId, copy)
        return { id: request.id, tokens: request.tokens }
      },
      fail: (status, body) => new StoreFailure(status, body),
      isFailure: isStoreFailure,
      charge: (input, size) => this.charge(input, size),
      changed: () => this.touchAppended(),
      hasOtlpSpans: (traceId) => this.spans.some((span) => span.traceId === traceId)
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

  /** JSON size of what the store keeps (what {@link StoreOptions.maxStoredBytes} limits). */
  get bytesStored(): number {
    return this.storedBytes
  }

  /**
   * Counts `value` against the limit before a write keeps it (its JSON size, or `size` when the
   * caller knows it, e.g. the request body's length); 507 when it would pass the limit.
   */
  private charge(value: unknown, size: number = Buffer.byteLength(stringifyExact(value) ?? "")): void {
    if (this.maxStoredBytes === Number.POSITIVE_INFINITY) return
    if (this.storedBytes + size > this.maxStoredBytes) {
      throw failure(
        507,
        `Emulator storage full: ${this.storedBytes} bytes stored, limit ${this.maxStoredBytes} (maxStoredBytes); POST /emulator/reset or raise the limit`
      )
    }
    this.storedBytes += size
  }

  /**
   * POST `/log-request` → the 201 body (`id`, `prompt_version`, the stored row). `trace.span_id`
   * links the log to a `/spans-bulk` span.
   */
  logRequest(input: unknown, trace: { readonly span_id?: string | undefined } = {}): Record<string, unknown> {
    const body = this.checkLogRequest(input)
    // A span's log was counted with its whole /spans-bulk batch, before anything was stored.
    if (trace.span_id === undefined) this.charge(input)
    const request = this.insertLog(body, input, trace.span_id ?? null, true)
    return this.logResponse(body, request)
  }

  /**
   * Stores a request log from a body already checked by {@link checkLogRequest} (`input` is the raw
   * body it was decoded from; copied unless `copy` is false, for a body nobody else holds).
   */
  private insertLog(body: typeof LogBody.Type, input: unknown, spanId: string | null, copy: boolean): MRequest {
    const link =
      body.prompt_name != null || body.prompt_id != null
        ? this.looseLink(body.prompt_name ?? null, body.prompt_id ?? null, body.prompt_version_number ?? null)
        : null
    const scores = dict<number>({})
    if (body.score !== undefined && (body.score > 0 || body.score_name != null))
      setOwn(scores, body.score_name ?? "default", body.score)
    const inputTokens = body.input_tokens ?? 0
    const outputTokens = body.output_tokens ?? 0
    const request: MRequest = {
      id: this.nextRequest++,
      kind: "log-request",
      body: stripKey(input, copy),
      provider: body.provider,
      model: body.model,
      function_name: body.function_name ?? "",
      tags: [...(body.tags ?? [])],
      metadata: dict(rawField(input, "metadata")),
      scores,
      prompt: link ? { ...link, input_variables: dict(rawField(input, "prompt_input_variables")) } : null,
      group_ids: [],
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      tokens: inputTokens + outputTokens,
      price: body.price ?? 0,
      latency_ms: latency(body.request_start_time, body.request_end_time),
      status: body.status ?? "SUCCESS",
      error_type: body.error_type ?? null,
      error_message: body.error_message ?? null,
      span_id: spanId,
      request_start_time: body.request_start_time,
      request_end_time: body.request_end_time,
      created_at: this.now().toISOString(),
      input: copy ? clone(body.input) : body.input,
      output: copy ? clone(body.output) : body.output
    }
    this.touch("request", request.id)
    this.requestsById.set(request.id, request)
    return request
  }

  /** The 201 body of `/log-request` for a stored log. */
  private logResponse(body: typeof LogBody.Type, request: MRequest): Record<string, unknown> {
    const inputTokens = request.input_tokens
    const outputTokens = request.output_tokens
    const scores = request.scores
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
    this.charge(input)
    const request: MRequest = {
      id: this.nextRequest++,
      kind: "track-request",
      body: stripKey(input),
      provider,
      model,
      function_name: body.function_name,
      tags: [...(body.tags ?? [])],
      metadata: dict(rawField(input, "metadata")),
      scores: dict({}),
      prompt: link ? { ...link, input_variables: dict(rawField(input, "prompt_input_variables")) } : null,
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
    this.touch("request", request.id)
    this.requestsById.set(request.id, request)
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
    setOwn(request.scores, body.name ?? "default", body.score)
    this.revision++
    return { success: true }
  }

  /** POST `/library-track-metadata`: merges (a key tracked again replaces its value). */
  trackMetadata(input: unknown): { success: true } {
    const body = decode(S.TrackMetadataBody, input)
    const request = this.mustFind(body.request_id)
    const metadata = dict<string>(rawField(input, "metadata"))
    this.charge(metadata)
    for (const [key, value] of Object.entries(metadata)) setOwn(request.metadata, key, value)
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
      input_variables: dict(rawField(input, "prompt_input_variables"))
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
    this.touch("group", id)
    this.groups.set(id, { id, created_at: this.now().toISOString() })
    return { success: true, id }
  }

  // --- prompt registry ------------------------------------------------------

  /** POST `/rest/prompt-templates` (201): a new version each time; `release_labels` move to it. */
  publishTemplate(wire: unknown): Record<string, unknown> {
    const body = decode(S.PublishTemplateWire, wire)
    this.charge(wire)
    const meta = body.prompt_template
    const version = body.prompt_version
    const name = meta.prompt_name
    const now = this.now().toISOString()
    let template = this.findTemplateByName(name)
    this.touch("template", template?.id ?? this.nextTemplate)
    if (template === undefined) {
      template = {
        id: this.nextTemplate++,
        prompt_name: name,
        tags: [...(meta.tags ?? version.tags ?? [])],
        created_at: now,
        updated_at: now,
        versions: [],
        labels: dict({})
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
    for (const label of labels ?? []) setOwn(template.labels, label, stored.version)
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
      promptTemplate = render(promptTemplate, dict(rawField(params, "input_variables")), missing)
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
        const n = own(template.labels, p.label)
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
    this.touch("workflow", workflow?.id ?? this.nextWorkflow)
    if (workflow === undefined) {
      workflow = { id: this.nextWorkflow++, name: definition.name, created_at: now, versions: [], labels: dict({}) }
      this.workflows.set(workflow.id, workflow)
    }
    const version = workflow.versions.length + 1
    workflow.versions.push({
      version,
      outputs: definition.outputs === undefined ? null : clone(definition.outputs),
      created_at: now
    })
    for (const label of definition.release_labels ?? []) setOwn(workflow.labels, label, version)
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
      const n = own(workflow.labels, label)
      if (n === undefined) throw failure(404, `Release label '${label}' not found for workflow '${workflow.name}'`)
      version = workflow.versions[n - 1]!
    } else if (versionNumber !== undefined) {
      const found = workflow.versions[versionNumber - 1]
      if (found === undefined) throw failure(404, `Version ${versionNumber} of workflow '${workflow.name}' not found`)
      version = found
    }
    const vars = dict(rawField(input, "input_variables"))
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
    this.charge(input)
    const execution: StoredExecution = {
      id: this.nextExecution++,
      workflow_id: workflow.id,
      workflow_name: workflow.name,
      version: version.version,
      input_variables: clone(vars),
      metadata: body.metadata ? dict<string>(rawField(input, "metadata")) : null,
      callback_url: body.callback_url ?? null,
      nodes,
      final_output: finalOutput,
      created_at: this.now().toISOString()
    }
    this.touch("execution", execution.id)
    this.executions.set(execution.id, execution)
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

  /**
   * POST `/v1/traces` (OTLP JSON): keeps every span; returns the number accepted. With
   * `close_after: true` (the query flag) the request's traces are closed once it is stored. A
   * request with a span of a closed trace (closed by `close_after` here or on `/spans-bulk`, or by
   * `POST /api/public/v2/traces/{trace_id}/close`) is refused whole: 409
   * `{ error, trace_ids }`, nothing stored.
   */
  exportTraces(input: unknown, query: unknown = {}): { accepted: number } {
    if (!isRecord(input) || !Array.isArray(input.resourceSpans)) {
      throw unprocessable([{ loc: ["body", "resourceSpans"], msg: "Field required", type: "missing" }])
    }
    const q = decode(OtlpQuery, query ?? {}, "query")
    const spans = otlpSpans(input.resourceSpans)
    const traceIds = spans.map(({ span }) => String(span.traceId ?? "")).filter((id) => id !== "")
    const closed = this.traces.closedAmong(traceIds)
    if (closed.length > 0) {
      throw new StoreFailure(409, { error: `Trace already closed: ${closed.join(", ")}`, trace_ids: closed })
    }
    this.charge(input)
    const received_at = this.now().toISOString()
    for (const { resource, span } of spans) {
      this.spans.push({
        traceId: String(span.traceId ?? ""),
        spanId: String(span.spanId ?? ""),
        parentSpanId: typeof span.parentSpanId === "string" && span.parentSpanId !== "" ? span.parentSpanId : null,
        name: String(span.name ?? ""),
        span: clone(span),
        resource: clone(resource),
        received_at
      })
    }
    if (spans.length > 0) this.touchAppended()
    if (q.close_after === true) this.traces.closeAll(traceIds)
    return { accepted: spans.length }
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
      next: this.counters(),
      requests: [...this.requestsById.values()].map(clone),
      groups: [...this.groups.values()].map(clone),
      templates: [...this.templates.values()].map(clone),
      spans: this.spans.map(clone),
      workflows: [...this.workflows.values()].map(clone),
      executions: [...this.executions.values()].map(clone),
      traces: this.traces.snapshot()
    }
  }

  /**
   * Replaces the whole state with a snapshot, after checking it: a snapshot with a bad entry
   * throws an `Error` naming the first one (`snapshot.requests[3].id: expected a positive integer,
   * got -1`) and changes nothing.
   */
  restore(snapshot: Snapshot): void {
    const problem = checkSnapshot(snapshot)
    if (problem !== undefined) throw new Error(problem)
    this.markReplaced()
    this.clear()
    for (const r of snapshot.requests) this.requestsById.set(r.id, clone(r) as MRequest)
    for (const g of snapshot.groups) this.groups.set(g.id, clone(g))
    for (const t of snapshot.templates) this.templates.set(t.id, clone(t) as MTemplate)
    this.spans = snapshot.spans.map(clone)
    for (const w of snapshot.workflows ?? []) this.workflows.set(w.id, clone(w) as MWorkflow)
    for (const e of snapshot.executions ?? []) this.executions.set(e.id, clone(e))
    this.traces.restore(snapshot.traces)
    const next = snapshot.next
    this.setCounters({ ...next, workflow: next.workflow ?? 1, execution: next.execution ?? 1 })
    this.continueIds()
    if (this.pending !== undefined) {
      for (const kind of ENTITY_KINDS)
        for (const id of this.entities(kind).keys()) this.pending.keys.set(`${kind}:${id}`, [kind, id])
    }
    this.revision++
    this.onChange?.()
  }

  /** Forgets everything; ids start again at 1. */
  reset(): void {
    this.markReplaced()
    this.clear()
    this.revision++
    this.onChange?.()
  }

  /**
   * Applies one journal change while loading a data file (not recorded). The change must have
   * passed `checkChange`; call {@link continueIds} after the last one.
   */
  applyChange(change: JournalChange): void {
    switch (change.t) {
      case "reset":
        this.clear()
        return
      case "next":
        this.setCounters(change.v)
        return
      case "spans":
        this.spans.length = Math.min(this.spans.length, change.from)
        for (const span of change.v) this.spans.push(span)
        return
      case "traces":
        this.traces.applyChange(change)
        return
      default:
        this.entities(change.t).set(change.v.id, change.v)
    }
  }

  /** Makes every id counter continue after the largest id stored (after a load). */
  continueIds(): void {
    const after = (ids: Iterable<number>, next: number) => {
      let max = next - 1
      for (const id of ids) if (id > max) max = id
      return max + 1
    }
    this.nextRequest = after(this.requestsById.keys(), this.nextRequest)
    this.nextGroup = after(this.groups.keys(), this.nextGroup)
    this.nextTemplate = after(this.templates.keys(), this.nextTemplate)
    for (const t of this.templates.values())
      this.nextVersion = after(
        t.versions.map((v) => v.id),
        this.nextVersion
      )
    this.nextWorkflow = after(this.workflows.keys(), this.nextWorkflow)
    this.nextExecution = after(this.executions.keys(), this.nextExecution)
    this.traces.continueIds()
    // After a restore or a data file's replay, the limit counts everything now held.
    this.storedBytes =
      this.maxStoredBytes === Number.POSITIVE_INFINITY ? 0 : Buffer.byteLength(stringifyExact(this.snapshot()))
  }

  /**
   * Starts recording changes for a journal: `onChange` is called after each change,
   * {@link takeChanges} cuts the changes so far as one journal line, and {@link rollback} undoes
   * changes whose line could not be made durable.
   */
  trackChanges(onChange: () => void): void {
    this.onChange = onChange
    this.pending = this.freshPending()
  }

  /** True when changes were made since the last {@link takeChanges}. */
  hasChanges(): boolean {
    const p = this.pending
    return (
      p !== undefined &&
      (p.reset ||
        p.keys.size > 0 ||
        this.spans !== p.base.spans ||
        this.spans.length !== p.base.spansLength ||
        this.traces.changedSince(p.base.traces))
    )
  }

  /**
   * The changes since the last call as one journal line (a JSON array of {@link JournalChange}s
   * and a newline), serialized now, with what undoes them; undefined when nothing changed.
   */
  takeChanges(): ChangeBatch | undefined {
    const p = this.pending
    if (p === undefined || !this.hasChanges()) return undefined
    const parts: Array<string> = []
    if (p.reset) parts.push('{"t":"reset"}')
    for (const [kind, id] of p.keys.values()) {
      const value = this.entities(kind).get(id)
      if (value !== undefined) parts.push(`{"t":"${kind}","v":${JSON.stringify(value)}}`)
    }
    const from = this.spans === p.base.spans && this.spans.length >= p.base.spansLength ? p.base.spansLength : 0
    if (from < this.spans.length)
      parts.push(`{"t":"spans","from":${from},"v":${JSON.stringify(this.spans.slice(from))}}`)
    const traces = this.traces.exportChange(p.base.traces)
    if (traces !== undefined) parts.push(stringifyExact(traces))
    const counters = this.counters()
    if (JSON.stringify(counters) !== JSON.stringify(p.base.counters))
      parts.push(`{"t":"next","v":${JSON.stringify(counters)}}`)
    this.pending = this.freshPending()
    return { line: `[${parts.join(",")}]\n`, undo: { steps: p.steps, base: p.base } }
  }

  /**
   * Undoes the changes of `batches` (cut by {@link takeChanges}, oldest first, none of them
   * durable) and every change made since: the state is back to what it was before the first.
   */
  rollback(batches: ReadonlyArray<Undo>): void {
    const p = this.pending
    if (p === undefined) return
    const all = [...batches, { steps: p.steps, base: p.base }]
    for (let b = all.length - 1; b >= 0; b--) {
      const steps = all[b]!.steps
      for (let i = steps.length - 1; i >= 0; i--) {
        const step = steps[i]!
        if (step.kind === "state") {
          this.clear()
          for (const kind of ENTITY_KINDS)
            for (const [id, value] of step.before[kind]) this.entities(kind).set(id, value)
          this.spans = step.before.spans
        } else if (step.before === undefined) this.entities(step.kind).delete(step.id)
        else this.entities(step.kind).set(step.id, step.before)
      }
    }
    const base = all[0]!.base
    this.spans = base.spans
    this.spans.length = Math.min(this.spans.length, base.spansLength)
    this.setCounters(base.counters)
    this.traces.rollback(base.traces)
    this.pending = this.freshPending()
    this.revision++
  }

  /**
   * The state as snapshot JSON (the {@link Snapshot} shape) in small parts, one entity each, so
   * that a large state can be written without blocking. Entities are read as their part is made:
   * one changed meanwhile appears in its newer form (the journal written after the snapshot began
   * holds that change too).
   */
  *snapshotParts(): Generator<string> {
    yield '{"format":"promptlayer-emulator/1"'
    for (const [kind, key] of SNAPSHOT_LISTS) {
      yield `,"${key}":[`
      const map = this.entities(kind)
      let first = true
      for (const id of [...map.keys()]) {
        const value = this.entities(kind).get(id)
        if (value === undefined) continue
        yield first ? JSON.stringify(value) : `,${JSON.stringify(value)}`
        first = false
      }
      yield "]"
    }
    yield ',"spans":['
    const count = this.spans.length
    for (let i = 0; i < count; i++) {
      const span = this.spans[i]
      if (span !== undefined) yield i === 0 ? JSON.stringify(span) : `,${JSON.stringify(span)}`
    }
    yield '],"traces":'
    yield* this.traces.snapshotParts()
    yield `,"next":${JSON.stringify(this.counters())}}`
  }

  private clear() {
    this.storedBytes = 0
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

  /** Records (for the journal) that an entity is about to change or be created. */
  private touch(kind: EntityKind, id: number) {
    this.revision++
    const p = this.pending
    if (p === undefined) return
    const key = `${kind}:${id}`
    if (!p.keys.has(key)) {
      p.keys.set(key, [kind, id])
      p.steps.push({ kind, id, before: clone(this.entities(kind).get(id)) })
    }
    this.onChange?.()
  }

  /** Records that an append-only list (OTLP spans, trace state) grew: the journal diffs it against the batch's base. */
  private touchAppended() {
    this.revision++
    this.onChange?.()
  }

  /** Records (for the journal) that the whole state is about to be replaced. */
  private markReplaced() {
    const p = this.pending
    if (p === undefined) return
    const before = { spans: this.spans } as SavedState
    for (const kind of ENTITY_KINDS) (before as Record<EntityKind, unknown>)[kind] = new Map(this.entities(kind))
    p.steps.push({ kind: "state", before })
    p.reset = true
    p.keys.clear()
  }

  private freshPending(): Pending {
    return {
      keys: new Map(),
      steps: [],
      reset: false,
      base: {
        counters: this.counters(),
        spans: this.spans,
        spansLength: this.spans.length,
        traces: this.traces.mark()
      }
    }
  }

  private entities(kind: EntityKind): Map<number, { readonly id: number }> {
    switch (kind) {
      case "request":
        return this.requestsById
      case "group":
        return this.groups
      case "template":
        return this.templates
      case "workflow":
        return this.workflows
      case "execution":
        return this.executions
    }
  }

  private counters(): Counters {
    return {
      request: this.nextRequest,
      group: this.nextGroup,
      template: this.nextTemplate,
      version: this.nextVersion,
      workflow: this.nextWorkflow,
      execution: this.nextExecution
    }
  }

  private setCounters(c: Counters) {
    this.nextRequest = c.request
    this.nextGroup = c.group
    this.nextTemplate = c.template
    this.nextVersion = c.version
    this.nextWorkflow = c.workflow
    this.nextExecution = c.execution
  }

  // --- helpers --------------------------------------------------------------

  /** The request to change (recorded for the journal before the caller changes it). */
  private mustFind(id: number): MRequest {
    const request = this.requestsById.get(id)
    if (request === undefined) throw failure(404, `Request ${id} not found`)
    this.touch("request", id)
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
      const n = own(template.labels, label)
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

// =============================================================================
// Journal records
// =============================================================================

type EntityKind = "request" | "group" | "template" | "workflow" | "execution"

const ENTITY_KINDS: ReadonlyArray<EntityKind> = ["request", "group", "template", "workflow", "execution"]

/** The snapshot's entity lists, in file order (spans and counters follow). */
const SNAPSHOT_LISTS: ReadonlyArray<readonly [EntityKind, string]> = [
  ["request", "requests"],
  ["group", "groups"],
  ["template", "templates"],
  ["workflow", "workflows"],
  ["execution", "executions"]
]

interface Counters {
  readonly request: number
  readonly group: number
  readonly template: number
  readonly version: number
  readonly workflow: number
  readonly execution: number
}

/**
 * One change of a journal line: an entity as it now is (`request`, `group`, `template`,
 * `workflow`, `execution`), spans from index `from` on, the trace state's appended entries
 * (`traces`, see {@link TracesChange}), the id counters, or a reset.
 */
export type JournalChange =
  | { readonly t: "request"; readonly v: StoredRequest }
  | { readonly t: "group"; readonly v: { readonly id: number; readonly created_at: string } }
  | { readonly t: "template"; readonly v: StoredTemplate }
  | { readonly t: "workflow"; readonly v: StoredWorkflow }
  | { readonly t: "execution"; readonly v: StoredExecution }
  | { readonly t: "spans"; readonly from: number; readonly v: ReadonlyArray<StoredSpan> }
  | TracesChange
  | { readonly t: "next"; readonly v: Counters }
  | { readonly t: "reset" }

type SavedState = Record<EntityKind, Map<number, { readonly id: number }>> & { spans: Array<StoredSpan> }

type UndoStep =
  | { readonly kind: EntityKind; readonly id: number; readonly before: { readonly id: number } | undefined }
  | { readonly kind: "state"; readonly before: SavedState }

interface Base {
  readonly counters: Counters
  readonly spans: Array<StoredSpan>
  readonly spansLength: number
  readonly traces: TracesMark
}

interface Pending {
  readonly keys: Map<string, readonly [EntityKind, number]>
  readonly steps: Array<UndoStep>
  reset: boolean
  readonly base: Base
}

/** What undoes one cut batch of changes (opaque to the journal). */
export interface Undo {
  readonly steps: ReadonlyArray<UndoStep>
  readonly base: Base
}

/** A batch of changes cut for the journal: its line and what undoes it. */
export interface ChangeBatch {
  readonly line: string
  readonly undo: Undo
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

const stripKey = (input: unknown, copy = true): Record<string, unknown> => {
  if (!isRecord(input)) return {}
  const { api_key: _key, ...rest } = input
  return copy ? clone(rest) : rest
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

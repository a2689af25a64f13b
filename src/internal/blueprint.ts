/**
 * Conversion of LangChain runs (messages, prompts, generations, errors) into PromptLayer
 * `/log-request` bodies in blueprint format. Pure functions over plain data; they run in the
 * tracker's background fibers, never on the LLM call path. No runtime import of `@langchain/core`:
 * messages are read by shape, so any copy of the library works.
 *
 * @internal
 */
import * as S from "../PromptLayerSchema.js"

type Json = Record<string, unknown>
type Block = { readonly type: string; readonly [key: string]: unknown }
type BlueprintMessage = {
  role: string
  content: Array<Block>
  name?: string
  tool_calls?: Array<{ id: string; type: "function"; function: { name: string; arguments: string } }>
  tool_call_id?: string
}

/**
 * Run metadata keys that link a log to a PromptLayer registry template. They are mapped to the
 * `/log-request` fields and not copied into the logged metadata.
 *
 * | metadata key                          | `/log-request` field       |
 * | ------------------------------------- | -------------------------- |
 * | `promptlayer_prompt_name`             | `prompt_name`              |
 * | `promptlayer_prompt_id`               | `prompt_id`                |
 * | `promptlayer_prompt_version`          | `prompt_version_number`    |
 * | `promptlayer_prompt_input_variables`  | `prompt_input_variables`   |
 * | `promptlayer_prompt_label`            | metadata `prompt_label` (the API has no label field) |
 */

// LangChain tags the steps of a sequence `seq:step:N`: bookkeeping, not the user's tags.
const internalTag = /^seq:step:\d+$/

export const PROMPT_KEYS = {
  name: "promptlayer_prompt_name",
  id: "promptlayer_prompt_id",
  version: "promptlayer_prompt_version",
  label: "promptlayer_prompt_label",
  inputVariables: "promptlayer_prompt_input_variables"
} as const

const reservedKeys = new Set<string>(Object.values(PROMPT_KEYS))

/**
 * Run metadata LangChain adds itself and that is not copied into the logged metadata: the `ls_*`
 * keys (already the request's provider, model and parameters) and `versions` (package versions).
 */
const isLangChainKey = (key: string): boolean => key.startsWith("ls_") || key === "versions"

/** What the handler recorded at the start of a run. Holds references only; nothing is converted yet. */
export interface RunStart {
  readonly kind: "chat" | "llm"
  readonly runId: string
  readonly parentRunId: string | undefined
  /** The messages (chat) or prompt string (LLM) of this run's prompt. */
  readonly input: ReadonlyArray<unknown> | string
  readonly invocationParams: Json
  readonly tags: ReadonlyArray<string>
  readonly metadata: Json
  readonly runName: string | undefined
  readonly serializedId: ReadonlyArray<string> | undefined
  readonly batchSize: number
  readonly startedAt: number
  /** Index of this prompt when one callback carried several prompts. */
  readonly promptIndex: number | undefined
}

/** How the run ended. */
export type RunEnd =
  | {
      readonly _tag: "end"
      readonly endedAt: number
      readonly firstTokenAt: number | undefined
      /** The generations (candidates) of this run's prompt. */
      readonly generations: ReadonlyArray<unknown>
      readonly llmOutput: Json | undefined
      readonly cached: boolean
    }
  | {
      readonly _tag: "error"
      readonly endedAt: number
      readonly firstTokenAt: number | undefined
      readonly error: unknown
    }
  | {
      readonly _tag: "abandoned"
      readonly endedAt: number
      readonly firstTokenAt: number | undefined
      readonly reason: string
    }

// =============================================================================
// Helpers
// =============================================================================

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const str = (u: unknown): string | undefined => (typeof u === "string" && u.trim() !== "" ? u : undefined)

const positiveInt = (u: unknown): number | undefined => {
  const n = typeof u === "string" && /^\d+$/.test(u.trim()) ? Number(u) : u
  return typeof n === "number" && Number.isInteger(n) && n > 0 ? n : undefined
}

const nonNegativeInt = (u: unknown): number | undefined =>
  typeof u === "number" && Number.isFinite(u) && u >= 0 ? Math.round(u) : undefined

/** A JSON-safe copy: functions, symbols and cycles dropped, bigints as strings. */
export const jsonSafe = (value: unknown): unknown => {
  const seen = new WeakSet<object>()
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString()
      if (typeof v === "function" || typeof v === "symbol") return undefined
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return undefined
        seen.add(v)
      }
      return v
    })
    return text === undefined ? undefined : JSON.parse(text)
  } catch {
    return undefined
  }
}

const asString = (value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined
  if (typeof value === "string") return value
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value)
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString()
  const json = jsonSafe(value)
  // A value whose JSON form is a string (a `toJSON()` such as URL's) is that string, not quoted.
  return json === undefined ? undefined : typeof json === "string" ? json : JSON.stringify(json)
}

/** Truncates to `max` characters, marking the cut. */
export const truncate = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`

/** The class name of a serialized LangChain object (`["langchain", "chat_models", "openai", "ChatOpenAI"]`). */
export const className = (id: ReadonlyArray<string> | undefined): string | undefined =>
  id !== undefined && id.length > 0 ? id[id.length - 1] : undefined

// =============================================================================
// Messages
// =============================================================================

// Blocks whose content is carried by the message's `tool_calls` (or has no place in a log).
const toolBlockTypes = new Set([
  "tool_use",
  "tool_call",
  "tool_call_chunk",
  "invalid_tool_call",
  "function_call",
  "server_tool_call",
  "server_tool_call_chunk"
])

const annotationTypes = new Set(["url_citation", "file_citation", "map_citation", "container_file_citation"])

// The text blocks that stand for a block PromptLayer has no type for, with that block's type:
// `toLogRequest` counts them in metadata without changing the blocks' shape.
const unmapped = new WeakMap<Block, string>()

const base64Of = (data: unknown): string | undefined => {
  if (typeof data === "string") return data === "" ? undefined : data
  if (!(data instanceof Uint8Array) || data.length === 0) return undefined
  let binary = ""
  for (let i = 0; i < data.length; i += 0x8000) {
    binary += String.fromCharCode(...data.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

const dataUrlMime = (url: string): string | undefined => /^data:([^;,]+)[;,]/i.exec(url)?.[1]

/** Where the bytes of a media block are: a URL, base64 data, a provider file id, or plain text. */
type Source =
  | { readonly kind: "url"; readonly url: string }
  | { readonly kind: "base64"; readonly data: string }
  | { readonly kind: "id"; readonly id: string }
  | { readonly kind: "text"; readonly text: string }

interface MediaPart {
  readonly source: Source | undefined
  readonly mime: string | undefined
  readonly name: string | undefined
}

/**
 * Reads a media block in any of the shapes LangChain passes on: v1 standard (`url` / `data` /
 * `fileId`, `mimeType`), v0 data blocks (`source_type`, `mime_type`, `id`), Anthropic (`source`),
 * OpenAI (`file.file_data` / `file.file_id`, `input_audio`).
 */
const mediaPart = (part: Json): MediaPart => {
  const meta = isObject(part.metadata) ? part.metadata : {}
  const file = isObject(part.file) ? part.file : {}
  const source = isObject(part.source) ? part.source : {}
  const audio = isObject(part.input_audio) ? part.input_audio : {}
  const name =
    str(meta.filename) ?? str(meta.name) ?? str(file.filename) ?? str(part.filename) ?? str(part.title) ?? undefined
  const audioMime = str(audio.format) !== undefined ? `audio/${audio.format as string}` : undefined
  const mime = str(part.mimeType) ?? str(part.mime_type) ?? str(source.media_type) ?? audioMime
  const url = str(part.url) ?? (source.type === "url" ? str(source.url) : undefined) ?? str(file.file_data)
  if (url !== undefined) return { source: { kind: "url", url }, mime: mime ?? dataUrlMime(url), name }
  const text = part.source_type === "text" || source.type === "text" ? (str(part.text) ?? str(source.data)) : undefined
  if (text !== undefined) return { source: { kind: "text", text }, mime, name }
  const data =
    base64Of(part.data) ?? (source.type === "base64" ? base64Of(source.data) : undefined) ?? base64Of(audio.data)
  if (data !== undefined) return { source: { kind: "base64", data }, mime, name }
  const id =
    str(part.fileId) ??
    str(part.file_id) ??
    str(file.file_id) ??
    str(source.file_id) ??
    (part.source_type === "id" ? str(part.id) : undefined)
  return { source: id === undefined ? undefined : { kind: "id", id }, mime, name }
}

/** A text block standing for a block that cannot be mapped, counted by {@link toLogRequest}. */
const unmappedBlock = (type: string, description: string): Block => {
  const block: Block = { type: "text", text: `[${type}: ${description}]` }
  unmapped.set(block, type)
  return block
}

const describeBlock = (part: Json): string => {
  const json = JSON.stringify(jsonSafe(part) ?? {})
  return `content block not supported by PromptLayer ${truncate(json, 500)}`
}

const mediaBlock = (type: string, part: Json): Block => {
  const { mime, name, source } = mediaPart(part)
  const label = [name, mime].filter((s) => s !== undefined).join(", ")
  if (source === undefined) return unmappedBlock(type, `${label === "" ? "" : `${label}, `}no url, data or file id`)
  if (source.kind === "text") return { type: "text", text: source.text }
  if (source.kind === "id") {
    return unmappedBlock(type, `${label === "" ? "" : `${label}, `}provider file id ${source.id} (not viewable)`)
  }
  const fallbackMime = type === "image" ? "image/png" : "application/octet-stream"
  const url = source.kind === "url" ? source.url : `data:${mime ?? fallbackMime};base64,${source.data}`
  if (type === "image") return { type: "image_url", image_url: { url } }
  const format = source.kind === "base64" || url.startsWith("data:") ? "base64" : "url"
  return {
    type: "media",
    media: { title: name ?? type, type: mime ?? dataUrlMime(url) ?? "application/octet-stream", url, format }
  }
}

const textBlock = (part: Json): Block | undefined => {
  if (typeof part.text !== "string") return unmappedBlock("text", "a text block without text")
  if (part.text === "") return undefined
  const annotations = Array.isArray(part.annotations)
    ? part.annotations.filter((a) => isObject(a) && typeof a.type === "string" && annotationTypes.has(a.type))
    : []
  return annotations.length > 0
    ? { type: "text", text: part.text, annotations: jsonSafe(annotations) }
    : { type: "text", text: part.text }
}

/** A thinking block; none for reasoning with neither text nor signature (an encrypted, unsummarised one). */
const thinkingBlock = (thinking: unknown, signature: unknown): Block | undefined => {
  const sig = str(signature)
  const text = typeof thinking === "string" ? thinking : ""
  if (text === "" && sig === undefined) return undefined
  return { type: "thinking", thinking: text, ...(sig === undefined ? {} : { signature: sig }) }
}

/** LangChain v1 `reasoning`, else the summary parts of OpenAI Responses `reasoning` items. */
const reasoningText = (part: Json): string => {
  if (typeof part.reasoning === "string") return part.reasoning
  const summary = Array.isArray(part.summary) ? part.summary : []
  return summary.flatMap((s) => (isObject(s) && typeof s.text === "string" ? [s.text] : [])).join("\n\n")
}

const imageUrlBlock = (part: Json): Block => {
  const image = part.image_url
  const url = typeof image === "string" ? image : isObject(image) ? str(image.url) : undefined
  if (url === undefined) return unmappedBlock("image_url", "an image_url block without a url")
  const detail = isObject(image) ? str(image.detail) : undefined
  return { type: "image_url", image_url: detail === undefined ? { url } : { url, detail } }
}

/**
 * One LangChain content block as a PromptLayer one: LangChain's standard blocks are mapped
 * (`reasoning` and Bedrock's `reasoning_content` → `thinking`, `image` → `image_url`, `file` /
 * `audio` / `video` / `document` / `input_audio` → `media`, `text-plain` and `refusal` → `text`),
 * PromptLayer's own types pass, anything else becomes a text block describing it. Nothing
 * undocumented is passed raw: the real API rejects the whole log for one unknown block.
 */
const contentBlock = (part: unknown): Block | undefined => {
  if (typeof part === "string") return part === "" ? undefined : { type: "text", text: part }
  if (!isObject(part) || typeof part.type !== "string") {
    return part === null || part === undefined ? undefined : unmappedBlock("unknown", describeBlock({ value: part }))
  }
  const type = part.type
  if (toolBlockTypes.has(type)) return undefined
  switch (type) {
    case "text":
      return textBlock(part)
    case "text-plain":
      return typeof part.text === "string" ? { type: "text", text: part.text } : mediaBlock(type, part)
    case "reasoning":
      return thinkingBlock(reasoningText(part), isObject(part.extras) ? part.extras.signature : part.signature)
    case "reasoning_content": {
      const reasoning = isObject(part.reasoningText) ? part.reasoningText : {}
      return thinkingBlock(reasoning.text, reasoning.signature)
    }
    case "thinking":
      return typeof part.thinking === "string"
        ? thinkingBlock(part.thinking, part.signature)
        : unmappedBlock(type, "a thinking block without text")
    case "refusal":
      return { type: "text", text: str(part.refusal) ?? "(refused)" }
    case "image_url":
      return imageUrlBlock(part)
    case "image":
    case "file":
    case "audio":
    case "video":
    case "document":
    case "input_audio":
      return mediaBlock(type, part)
  }
  if (!S.CONTENT_BLOCK_TYPES.has(type)) return unmappedBlock(type, describeBlock(part))
  const safe = jsonSafe(part)
  return isObject(safe) ? (safe as Block) : undefined
}

/**
 * Content as an array of PromptLayer content blocks (a plain string is a "Malformed Request" to
 * PromptLayer). Every block is of a type PromptLayer documents: LangChain's are mapped onto them,
 * and a block that cannot be mapped becomes a text block describing it.
 */
export const contentBlocks = (content: unknown): Array<Block> => {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }]
  if (Array.isArray(content)) return content.flatMap((part) => contentBlock(part) ?? [])
  return []
}

const messageType = (message: Json): string => {
  const type = message.type
  if (typeof type === "string") return type
  const getType = (message as { _getType?: () => string; getType?: () => string })._getType
  return typeof getType === "function" ? getType.call(message) : "generic"
}

const roles: Record<string, string> = {
  human: "user",
  user: "user",
  ai: "assistant",
  assistant: "assistant",
  system: "system",
  developer: "developer",
  tool: "tool",
  function: "function"
}

const toolCallsOf = (message: Json): BlueprintMessage["tool_calls"] => {
  const calls: NonNullable<BlueprintMessage["tool_calls"]> = []
  const push = (id: unknown, name: unknown, args: unknown) => {
    const fn = str(name)
    if (fn === undefined) return
    const argumentsText = typeof args === "string" ? args : JSON.stringify(jsonSafe(args ?? {}) ?? {})
    calls.push({
      id: str(id) ?? `call_${calls.length}`,
      type: "function",
      function: { name: fn, arguments: argumentsText }
    })
  }
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    if (isObject(call)) push(call.id, call.name, call.args)
  }
  for (const call of Array.isArray(message.invalid_tool_calls) ? message.invalid_tool_calls : []) {
    if (isObject(call)) push(call.id, call.name, call.args)
  }
  if (calls.length === 0) {
    const raw = isObject(message.additional_kwargs) ? message.additional_kwargs.tool_calls : undefined
    for (const call of Array.isArray(raw) ? raw : []) {
      if (isObject(call) && isObject(call.function)) push(call.id, call.function.name, call.function.arguments)
    }
  }
  return calls.length > 0 ? calls : undefined
}

/** One LangChain message as a blueprint message: role, content blocks, tool calls, tool results. */
export const toBlueprintMessage = (input: unknown): BlueprintMessage | undefined => {
  if (typeof input === "string") return { role: "user", content: contentBlocks(input) }
  if (!isObject(input)) return undefined
  const type = messageType(input)
  if (type === "remove") return undefined
  const role = roles[type] ?? str(input.role) ?? "user"
  const message: BlueprintMessage = { role: roles[role] ?? role, content: contentBlocks(input.content) }
  const name = str(input.name)
  if (name !== undefined) message.name = name
  if (message.role === "assistant") {
    const calls = toolCallsOf(input)
    if (calls !== undefined) message.tool_calls = calls
  }
  if (message.role === "tool") {
    const id = str(input.tool_call_id)
    if (id !== undefined) message.tool_call_id = id
  }
  return message
}

/** The types of the blocks of a prompt that were logged as text because PromptLayer has no type for them. */
const unmappedIn = (prompt: S.LogRequestInput["input"]): Array<string> => {
  const p = prompt as { readonly messages?: ReadonlyArray<{ readonly content?: unknown }>; readonly content?: unknown }
  const contents = p.messages !== undefined ? p.messages.map((m) => m.content) : [p.content]
  return contents.flatMap((content) =>
    Array.isArray(content) ? content.flatMap((block) => unmapped.get(block as Block) ?? []) : []
  )
}

const chatPrompt = (messages: ReadonlyArray<BlueprintMessage>): S.LogRequestInput["input"] => ({
  type: "chat",
  messages
})

const completionPrompt = (texts: ReadonlyArray<string>): S.LogRequestInput["input"] => ({
  type: "completion",
  content: texts.filter((t) => t !== "").map((text) => ({ type: "text", text }))
})

// =============================================================================
// Generations, usage, errors
// =============================================================================

const generationMessage = (generation: unknown): BlueprintMessage | undefined => {
  if (!isObject(generation)) return undefined
  if (isObject(generation.message)) {
    const message = toBlueprintMessage(generation.message)
    if (message !== undefined) {
      if (message.content.length === 0 && message.tool_calls === undefined && typeof generation.text === "string") {
        message.content = contentBlocks(generation.text)
      }
      return { ...message, role: "assistant" }
    }
  }
  return { role: "assistant", content: contentBlocks(generation.text) }
}

const responseMetadataOf = (generations: ReadonlyArray<unknown>): Json => {
  for (const g of generations) {
    if (isObject(g) && isObject(g.message) && isObject(g.message.response_metadata)) return g.message.response_metadata
  }
  return {}
}

interface Usage {
  readonly input: number
  readonly output: number
  readonly details: Record<string, string>
}

const usageOf = (
  generations: ReadonlyArray<unknown>,
  llmOutput: Json | undefined,
  batchSize: number
): Usage | undefined => {
  for (const g of generations) {
    const usage = isObject(g) && isObject(g.message) ? g.message.usage_metadata : undefined
    if (!isObject(usage)) continue
    const details: Record<string, string> = {}
    const inputDetails = isObject(usage.input_token_details) ? usage.input_token_details : {}
    const outputDetails = isObject(usage.output_token_details) ? usage.output_token_details : {}
    for (const [k, v] of Object.entries(inputDetails)) {
      const n = nonNegativeInt(v)
      if (n !== undefined) details[`input_tokens_${k}`] = String(n)
    }
    for (const [k, v] of Object.entries(outputDetails)) {
      const n = nonNegativeInt(v)
      if (n !== undefined) details[`output_tokens_${k}`] = String(n)
    }
    return {
      input: nonNegativeInt(usage.input_tokens) ?? 0,
      output: nonNegativeInt(usage.output_tokens) ?? 0,
      details
    } satisfies Usage
  }
  const tokenUsage = isObject(llmOutput?.tokenUsage)
    ? llmOutput.tokenUsage
    : isObject(llmOutput?.token_usage)
      ? llmOutput.token_usage
      : undefined
  if (tokenUsage === undefined || Object.keys(tokenUsage).length === 0) return undefined
  const input = nonNegativeInt(tokenUsage.promptTokens ?? tokenUsage.prompt_tokens ?? tokenUsage.input_tokens) ?? 0
  const output =
    nonNegativeInt(tokenUsage.completionTokens ?? tokenUsage.completion_tokens ?? tokenUsage.output_tokens) ?? 0
  // LangChain gives a batch's llmOutput totals to its first prompt only (and {} to the others):
  // keep that, so that nothing is counted twice, and say so.
  const details: Record<string, string> = batchSize > 1 ? { token_usage_scope: "batch" } : {}
  return { input, output, details } satisfies Usage
}

const errorText = (error: unknown): string => {
  if (error instanceof Error) return error.message || error.name
  if (typeof error === "string") return error
  return asString(error) ?? "unknown error"
}

/** The PromptLayer `error_type` of an LLM error: rate limit, quota, timeout, auth where recognisable. */
export const errorTypeOf = (error: unknown): NonNullable<S.LogRequestInput["error_type"]> => {
  const e = isObject(error) || error instanceof Error ? (error as Json) : {}
  const status = nonNegativeInt(e.status ?? e.statusCode ?? (isObject(e.response) ? e.response.status : undefined))
  const text =
    `${String(e.name ?? "")} ${String(e.code ?? "")} ${String(e.type ?? "")} ${errorText(error)}`.toLowerCase()
  if (/insufficient_quota|quota/.test(text)) return "PROVIDER_QUOTA_LIMIT"
  if (status === 429 || /rate.?limit|too many requests|\b429\b/.test(text)) return "PROVIDER_RATE_LIMIT"
  if (status === 408 || /timeout|timed out|etimedout|deadline/.test(text)) return "PROVIDER_TIMEOUT"
  if (
    status === 401 ||
    status === 403 ||
    /unauthori[sz]ed|authentication|permission denied|invalid api key|incorrect api key|\b401\b|\b403\b/.test(text)
  ) {
    return "PROVIDER_AUTH_ERROR"
  }
  return "PROVIDER_ERROR"
}

// =============================================================================
// The body
// =============================================================================

const modelKeys = new Set(["model", "model_name", "modelName", "provider", "model_provider", "_type"])
const secretKey = /api_?key|secret|password|authorization|credential/i

const parametersOf = (invocationParams: Json): Json => {
  const out: Json = {}
  for (const [key, value] of Object.entries(invocationParams)) {
    if (modelKeys.has(key) || secretKey.test(key) || value === undefined) continue
    const safe = jsonSafe(value)
    if (safe !== undefined) out[key] = safe
  }
  return out
}

const promptLinkOf = (metadata: Json) => {
  let variables: Json | undefined
  const raw = metadata[PROMPT_KEYS.inputVariables]
  if (isObject(raw)) variables = jsonSafe(raw) as Json
  else if (typeof raw === "string") {
    try {
      const parsed: unknown = JSON.parse(raw)
      if (isObject(parsed)) variables = parsed
    } catch {
      variables = undefined
    }
  }
  return {
    name: str(metadata[PROMPT_KEYS.name]),
    id: positiveInt(metadata[PROMPT_KEYS.id]),
    version: positiveInt(metadata[PROMPT_KEYS.version]),
    label: str(metadata[PROMPT_KEYS.label]),
    variables
  }
}

/** The integration package in a serialized id: `openai` in `["langchain", "llms", "openai", "OpenAI"]`. */
const packageOf = (id: ReadonlyArray<string> | undefined): string | undefined =>
  id !== undefined && id.length >= 4 && id[0] === "langchain" ? str(id[id.length - 2]) : undefined

/**
 * The provider, by precedence: invocation params, `ls_provider` metadata, response metadata, then
 * the integration package named in the model's serialized id (LLMs have no `ls_provider`).
 */
export const providerOf = (run: RunStart, responseMetadata: Json): string =>
  str(run.invocationParams.provider) ??
  str(run.invocationParams.model_provider) ??
  str(run.metadata.ls_provider) ??
  str(responseMetadata.model_provider) ??
  packageOf(run.serializedId) ??
  "langchain"

/** The model, by precedence: invocation params, `ls_model_name` metadata, response metadata, class name. */
export const modelOf = (run: RunStart, responseMetadata: Json): string =>
  str(run.invocationParams.model) ??
  str(run.invocationParams.model_name) ??
  str(run.invocationParams.modelName) ??
  str(run.metadata.ls_model_name) ??
  str(responseMetadata.model_name) ??
  str(responseMetadata.model) ??
  className(run.serializedId) ??
  "unknown"

/**
 * The `/log-request` body of one prompt of a run.
 *
 * All candidates of the prompt (`n > 1`) are kept: the output holds one assistant message (chat) or
 * one text block (completion) per candidate, in order, and metadata `langchain_candidates` counts them.
 *
 * Content blocks PromptLayer has no type for are logged as text blocks describing them; metadata
 * `langchain_unmapped_blocks` counts them and `langchain_unmapped_block_types` names their types.
 * The run's metadata is copied as strings (a `Date` as its ISO string, objects as JSON), except the
 * `promptlayer_prompt_*` keys (the template link) and LangChain's own `ls_*` and `versions` keys.
 */
export const toLogRequest = (run: RunStart, end: RunEnd, plTags: ReadonlyArray<string>): S.LogRequestInput => {
  const generations = end._tag === "end" ? end.generations : []
  const responseMetadata = responseMetadataOf(generations)

  const input =
    run.kind === "llm"
      ? completionPrompt([typeof run.input === "string" ? run.input : String(run.input)])
      : chatPrompt(
          (Array.isArray(run.input) ? run.input : []).flatMap((m) => {
            const message = toBlueprintMessage(m)
            return message === undefined ? [] : [message]
          })
        )
  const output =
    run.kind === "llm"
      ? completionPrompt(generations.map((g) => (isObject(g) && typeof g.text === "string" ? g.text : "")))
      : chatPrompt(generations.flatMap((g) => generationMessage(g) ?? []))

  const metadata: Record<string, string> = {}
  for (const [key, value] of Object.entries(run.metadata)) {
    if (reservedKeys.has(key) || isLangChainKey(key)) continue
    const text = asString(value)
    if (text !== undefined) metadata[truncate(key, 1024)] = text
  }
  metadata.langchain_run_id = run.runId
  if (run.parentRunId !== undefined) metadata.langchain_parent_run_id = run.parentRunId
  const runName = run.runName ?? className(run.serializedId)
  if (runName !== undefined) metadata.langchain_run_name = runName
  if (run.promptIndex !== undefined) metadata.langchain_prompt_index = String(run.promptIndex)
  const unmappedTypes = [input, output].flatMap(unmappedIn)
  if (unmappedTypes.length > 0) {
    metadata.langchain_unmapped_blocks = String(unmappedTypes.length)
    metadata.langchain_unmapped_block_types = [...new Set(unmappedTypes)].join(",")
  }
  if (end.firstTokenAt !== undefined) {
    metadata.time_to_first_token_ms = String(Math.max(0, end.firstTokenAt - run.startedAt))
    metadata.first_token_at = new Date(end.firstTokenAt).toISOString()
  }

  const body: {
    -readonly [K in keyof S.LogRequestInput]: S.LogRequestInput[K]
  } = {
    provider: providerOf(run, responseMetadata),
    model: modelOf(run, responseMetadata),
    input,
    output,
    request_start_time: run.startedAt,
    request_end_time: Math.max(end.endedAt, run.startedAt),
    parameters: parametersOf(run.invocationParams),
    tags: [...new Set([...plTags, ...run.tags.filter((tag) => !internalTag.test(tag))])],
    function_name: run.serializedId !== undefined ? run.serializedId.join(".") : "langchain",
    status: "SUCCESS"
  }

  const link = promptLinkOf(run.metadata)
  if (link.name !== undefined) body.prompt_name = link.name
  if (link.id !== undefined) body.prompt_id = link.id
  if (link.version !== undefined) body.prompt_version_number = link.version
  if (link.variables !== undefined) body.prompt_input_variables = link.variables
  if (link.label !== undefined) metadata.prompt_label = link.label

  if (end._tag === "end") {
    if (generations.length > 1) metadata.langchain_candidates = String(generations.length)
    if (end.cached) metadata.langchain_cached = "true"
    const usage = usageOf(generations, end.llmOutput, run.batchSize)
    if (usage !== undefined) {
      body.input_tokens = usage.input
      body.output_tokens = usage.output
      Object.assign(metadata, usage.details)
    }
  } else if (end._tag === "error") {
    body.status = "ERROR"
    body.error_type = errorTypeOf(end.error)
    body.error_message = truncate(errorText(end.error), 1024)
  } else {
    body.status = "WARNING"
    body.error_type = "PROVIDER_PARTIAL_RESPONSE"
    body.error_message = truncate(end.reason, 1024)
    metadata.langchain_abandoned = "true"
  }
  body.metadata = metadata
  return body
}

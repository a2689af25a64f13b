/**
 * Blueprint conversion for `/track-request`: the provider's request and response (OpenAI,
 * Anthropic, LangChain shapes) as the chat blueprints shown in the read model.
 */
import type * as S from "../../PromptLayerSchema.js"
import { isRecord, num } from "./records.js"

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

/** The prompt of a `/track-request` body (`kwargs.messages`, `kwargs.prompt` or `args`) as a chat blueprint; null when none. */
export const trackInput = (body: typeof S.TrackRequestBody.Type): S.Prompt | null => {
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

/** The answer of a `/track-request` `request_response` (OpenAI choices, Anthropic message, LangChain generations) as a chat blueprint; null when none. */
export const trackOutput = (response: unknown): S.Prompt | null => {
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

/** Input and output tokens of a provider response's `usage` (OpenAI or Anthropic names); 0 when absent. */
export const usageOf = (response: unknown): { input: number; output: number } => {
  if (!isRecord(response) || !isRecord(response.usage)) return { input: 0, output: 0 }
  const u = response.usage
  return {
    input: num(u.prompt_tokens) || num(u.input_tokens),
    output: num(u.completion_tokens) || num(u.output_tokens)
  }
}

/** The text of a blueprint's messages (or content), one line per message, for the read model. */
export const messageText = (prompt: unknown): string => {
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

/**
 * The handler a user would write with the official `promptlayer` SDK: it awaits `logRequest` in
 * `handleLLMEnd` (LangChain runs it on its serial background callback queue). The baseline of the
 * benchmarks (bench/scenarios.ts and bench/tracesScenarios.ts).
 */
import { BaseCallbackHandler } from "@langchain/core/callbacks/base"
import type { BaseMessage } from "@langchain/core/messages"
import type { LLMResult } from "@langchain/core/outputs"
import type { PromptLayer } from "promptlayer"

const roleOf = (m: BaseMessage) => {
  const type = m.getType()
  return type === "human" ? "user" : type === "ai" ? "assistant" : type === "system" ? "system" : type
}

const text = (content: unknown) => (typeof content === "string" ? content : JSON.stringify(content))

/** Logs each chat model call with `await pl.logRequest(...)` when it ends. */
export class NaivePromptLayerHandler extends BaseCallbackHandler {
  name = "NaivePromptLayerHandler"
  private readonly runs = new Map<string, { messages: Array<BaseMessage>; start: number; params: unknown }>()
  constructor(
    private readonly pl: PromptLayer,
    private readonly tags: Array<string>
  ) {
    super()
  }
  override async handleChatModelStart(
    _llm: unknown,
    messages: Array<Array<BaseMessage>>,
    runId: string,
    _parentRunId?: string,
    extraParams?: Record<string, unknown>
  ) {
    this.runs.set(runId, { messages: messages[0] ?? [], start: Date.now(), params: extraParams?.invocation_params })
  }
  override async handleLLMEnd(output: LLMResult, runId: string) {
    const run = this.runs.get(runId)
    this.runs.delete(runId)
    if (run === undefined) return
    await this.pl.logRequest({
      provider: "openai",
      model: "fake-list-chat-model",
      input: {
        type: "chat",
        messages: run.messages.map((m) => ({ role: roleOf(m), content: [{ type: "text", text: text(m.content) }] }))
      } as never,
      output: {
        type: "chat",
        messages: (output.generations[0] ?? []).map((g) => ({
          role: "assistant",
          content: [{ type: "text", text: g.text }]
        }))
      } as never,
      request_start_time: run.start,
      request_end_time: Date.now(),
      tags: this.tags,
      parameters: (run.params ?? {}) as never
    })
  }
}

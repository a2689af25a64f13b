/**
 * A chat model for agent tests: answers each call with the next scripted `AIMessage` (tool calls or
 * text), whatever the input, and accepts `bindTools` (returning itself) like a tool-calling model.
 * The script is shared by every copy, so a graph that rebinds the model still walks it in order.
 */
import { BaseChatModel } from "@langchain/core/language_models/chat_models"
import { AIMessage, type BaseMessage } from "@langchain/core/messages"
import type { ChatResult } from "@langchain/core/outputs"

export type ScriptStep =
  | { readonly text: string }
  | { readonly toolCalls: ReadonlyArray<{ readonly name: string; readonly args: Record<string, unknown> }> }

export class ScriptedToolModel extends BaseChatModel {
  private readonly state: { next: number }

  constructor(
    readonly script: ReadonlyArray<ScriptStep>,
    state: { next: number } = { next: 0 }
  ) {
    super({})
    this.state = state
  }

  _llmType(): string {
    return "scripted-tool-model"
  }

  override bindTools(): this {
    return this
  }

  async _generate(_messages: Array<BaseMessage>): Promise<ChatResult> {
    const step = this.script[Math.min(this.state.next, this.script.length - 1)]!
    const n = this.state.next++
    const message =
      "text" in step
        ? new AIMessage({ content: step.text, tool_calls: [] })
        : new AIMessage({
            content: "",
            tool_calls: step.toolCalls.map((call, i) => ({
              id: `call_${n}_${i}`,
              name: call.name,
              args: call.args,
              type: "tool_call" as const
            }))
          })
    return { generations: [{ text: typeof message.content === "string" ? message.content : "", message }] }
  }
}

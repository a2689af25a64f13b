/**
 * "Simple example with ChatOpenAI" of the PromptLayer LangChain integration guide: the handler in
 * the chat model's `callbacks`, tagged `chatopenai`, and one call with two human messages.
 *
 * Run: `npx tsx examples/chat.ts` (embedded emulator + local OpenAI stub; set
 * `PROMPTLAYER_API_KEY` / `OPENAI_API_KEY` for the real services).
 */
import { HumanMessage } from "@langchain/core/messages"
import { PromptLayerCallbackHandler } from "promptlayer-effect/langchain"
import type { Environment } from "./support/environment.js"
import { type ExampleResult, isMain, runExample } from "./support/run.js"

export const main = async (env: Environment): Promise<ExampleResult> => {
  const requestIds: Array<number> = []
  const handler = new PromptLayerCallbackHandler({
    ...env.promptLayer,
    plTags: ["chatopenai"],
    plIdCallback: (requestId) => requestIds.push(requestId)
  })
  const chat = env.chatModel({ temperature: 0, callbacks: [handler] })
  try {
    const answer = await chat.invoke([
      new HumanMessage("What comes after 1,2,3 ?"),
      new HumanMessage("Tell me another joke?")
    ])
    return { requestIds, answers: [String(answer.content)] }
  } finally {
    // Waits until the log is delivered (and plIdCallback has run), then releases the handler's client.
    await handler.shutdown()
  }
}

if (isMain(import.meta.url)) await runExample("chat", main)

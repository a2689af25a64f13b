/**
 * "GPT4All" example of the PromptLayer LangChain integration guide: a completion (non-chat) model
 * on a local server, tags `langchain` and `gpt4all`, and the handler passed in the call's `config`
 * at invoke time instead of the model's constructor.
 *
 * The local model is `OpenAI` from `@langchain/openai` pointed at an OpenAI-compatible server on
 * 127.0.0.1 (the project's stub here; GPT4All's or llama.cpp's local API server speak the same
 * protocol). Run: `npx tsx examples/completion.ts`.
 */
import { PromptLayerCallbackHandler } from "promptlayer-effect/langchain"
import type { Environment } from "./support/environment.js"
import { type ExampleResult, isMain, runExample } from "./support/run.js"

export const main = async (env: Environment): Promise<ExampleResult> => {
  const requestIds: Array<number> = []
  const model = env.llm({ maxTokens: 64 })
  const handler = new PromptLayerCallbackHandler({
    ...env.promptLayer,
    plTags: ["langchain", "gpt4all"],
    plIdCallback: (requestId) => requestIds.push(requestId)
  })
  try {
    const response = await model.invoke("Once upon a time, ", { callbacks: [handler] })
    return { requestIds, answers: [response] }
  } finally {
    await handler.shutdown()
  }
}

if (isMain(import.meta.url)) await runExample("completion", main)

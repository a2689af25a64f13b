/**
 * "Full featured example" of the PromptLayer LangChain integration guide: the `example` template
 * (version 1) fetched from the prompt registry as a LangChain prompt, run with
 * `{ product: "toasters" }`, and in `plIdCallback` the request is scored 100, given the metadata
 * `{ foo: "bar" }` and linked to the template with its input variables.
 *
 * Written with the Promise client (`promptlayer-effect/promise`), which has the official
 * `promptlayer` SDK's method names. Run: `npx tsx examples/full.ts`.
 */
import { PromptLayerCallbackHandler } from "promptlayer-effect/langchain"
import { PromptLayer } from "promptlayer-effect/promise"
import type { Environment } from "./support/environment.js"
import { type ExampleResult, isMain, runExample } from "./support/run.js"

export const main = async (env: Environment): Promise<ExampleResult> => {
  const promptlayer = new PromptLayer(env.promptLayer)
  const requestIds: Array<number> = []
  // The handler reports a failing plIdCallback without throwing; keep the error to fail the example.
  const trackingErrors: Array<unknown> = []

  const plIdCallback = async (requestId: number) => {
    requestIds.push(requestId)
    try {
      await promptlayer.track.score({ request_id: requestId, score: 100 })
      await promptlayer.track.metadata({ request_id: requestId, metadata: { foo: "bar" } })
      await promptlayer.track.prompt({
        request_id: requestId,
        prompt_name: "example",
        prompt_input_variables: { product: "toasters" },
        version: 1
      })
    } catch (error) {
      trackingErrors.push(error)
    }
  }
  const handler = new PromptLayerCallbackHandler({ ...env.promptLayer, plIdCallback })

  let answer: string
  try {
    const examplePrompt = await promptlayer.templates.get("example", { version: 1, langchain: true })
    const model = env.chatModel({ callbacks: [handler] })
    answer = String((await examplePrompt.pipe(model).invoke({ product: "toasters" })).content)
  } finally {
    // Resolves once the log is delivered and plIdCallback (with its tracking calls) has finished.
    await handler.shutdown()
    await promptlayer.close()
  }
  if (trackingErrors.length > 0) throw trackingErrors[0]
  return { requestIds, answers: [answer] }
}

if (isMain(import.meta.url)) await runExample("full", main)

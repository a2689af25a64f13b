/**
 * The full featured example as an Effect program: the PromptLayer layers composed once (client
 * with its retry and timeout policy, background tracker, HTTP over fetch), the handler made in a
 * scope (`PromptLayerCallbackHandler.make`, flushed when the scope closes), the `example` template
 * fetched as a LangChain prompt, and the handler's `requestIds` stream piped into a scoring
 * pipeline that scores, annotates and links every logged request.
 *
 * Run: `npx tsx examples/effect-app.ts`.
 */
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import type { BaseChatModel } from "@langchain/core/language_models/chat_models"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { PromptLayerClient, PromptLayerTracker } from "promptlayer-effect"
import { PromptLayerCallbackHandler, PromptLayerLangChainPrompt } from "promptlayer-effect/langchain"
import type { Environment } from "./support/environment.js"
import { type ExampleResult, isMain, runExample } from "./support/run.js"

/** The app's PromptLayer layers: the client (and its policy) and the tracker the handler logs through. */
export const PromptLayerLive = (options: { readonly apiKey: string; readonly baseURL: string }) =>
  PromptLayerTracker.layer({ concurrency: 4 }).pipe(
    Layer.provideMerge(
      PromptLayerClient.layerWith({
        apiKey: options.apiKey,
        baseUrl: options.baseURL,
        retry: { maxAttempts: 4, attemptTimeout: "10 seconds" }
      })
    ),
    Layer.provide(FetchHttpClient.layer)
  )

/** Runs the `example` prompt on `model` once; the scoring pipeline handles the logged request. */
export const program = (model: BaseChatModel) =>
  Effect.gen(function* () {
    const client = yield* PromptLayerClient.PromptLayerClient
    const handler = yield* PromptLayerCallbackHandler.make({ plTags: ["effect-app"] })

    const score = ({ requestId }: PromptLayerTracker.DeliveredLog) =>
      Effect.all(
        [
          client.track.score({ request_id: requestId, score: 100 }),
          client.track.metadata({ request_id: requestId, metadata: { foo: "bar" } }),
          client.track.prompt({
            request_id: requestId,
            prompt_name: "example",
            prompt_input_variables: { product: "toasters" },
            version: 1
          })
        ],
        { discard: true }
      ).pipe(Effect.as(requestId))

    const calls = 1
    const requestIds = yield* handler.subscribeRequestIds
    const scoring = yield* requestIds.pipe(
      Stream.take(calls),
      Stream.mapEffect(score),
      Stream.runCollect,
      Effect.timeout("30 seconds"),
      Effect.forkScoped
    )

    const prompt = yield* PromptLayerLangChainPrompt.get("example", { version: 1 })
    const answer = yield* Effect.tryPromise((signal) =>
      prompt.pipe(model).invoke({ product: "toasters" }, { callbacks: [handler], signal })
    )
    const scored = yield* Fiber.join(scoring)
    return { requestIds: scored, answers: [String(answer.content)] }
  }).pipe(Effect.scoped, Effect.withSpan("examples/effect-app"))

export const main = (env: Environment): Promise<ExampleResult> =>
  Effect.runPromise(program(env.chatModel()).pipe(Effect.provide(PromptLayerLive(env.promptLayer))))

if (isMain(import.meta.url)) await runExample("effect-app", main)

/**
 * `promptlayer-effect/langchain`: the LangChain.js integration. Needs the optional peer dependency
 * `@langchain/core`.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as PromptLayerLangChainPrompt from "./PromptLayerLangChainPrompt.js"

/**
 * The PromptLayer callback handler for LangChain.js.
 *
 * @since 0.1.0
 */
export { installShutdownHooks, PromptLayerCallbackHandler, shutdownAll } from "./PromptLayerCallbackHandler.js"

/**
 * @since 0.1.0
 */
export type {
  PromptLayerCallbackHandlerOptions,
  PromptLayerCallbackHandlerStats,
  SamplingStats,
  ShutdownHooksOptions,
  ShutdownOutcome
} from "./PromptLayerCallbackHandler.js"

/**
 * Redaction: the option types of `hideInputs`, `hideOutputs` and `mask`, and ready-made maskers.
 *
 * @since 0.3.0
 */
export * as PromptLayerRedaction from "./PromptLayerRedaction.js"

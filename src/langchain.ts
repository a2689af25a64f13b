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

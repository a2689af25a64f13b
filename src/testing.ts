/**
 * `promptlayer-effect/testing`: an in-memory PromptLayer (no HTTP) for your tests.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as PromptLayerTest from "./PromptLayerTest.js"

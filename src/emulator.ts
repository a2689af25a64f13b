/**
 * promptlayer-effect/emulator: a local PromptLayer-compatible server for tests, demos and offline
 * development.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as PromptLayerEmulator from "./PromptLayerEmulator.js"

/**
 * @since 0.1.0
 */
export { DEFAULT_API_KEY, startEmulator } from "./PromptLayerEmulator.js"

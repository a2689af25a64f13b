/**
 * promptlayer-effect: the Effect-native client for PromptLayer.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as PromptLayerClient from "./PromptLayerClient.js"

/**
 * @since 0.1.0
 */
export * as PromptLayerConfig from "./PromptLayerConfig.js"

/**
 * @since 0.1.0
 */
export * as PromptLayerError from "./PromptLayerError.js"

/**
 * @since 0.1.0
 */
export * as PromptLayerHttp from "./PromptLayerHttp.js"

/**
 * @since 0.1.0
 */
export * as PromptLayerRetryPolicy from "./PromptLayerRetryPolicy.js"

/**
 * @since 0.1.0
 */
export * as PromptLayerSchema from "./PromptLayerSchema.js"

/**
 * @since 0.1.0
 */
export * as PromptLayerTracker from "./PromptLayerTracker.js"

/**
 * @since 0.3.0
 */
export * as PromptLayerRedaction from "./PromptLayerRedaction.js"

/**
 * `promptlayer-effect/promise`: the PromptLayer client for Promise code, with the surface of the
 * official `promptlayer` npm SDK.
 *
 * @example
 * ```ts
 * import { PromptLayer } from "promptlayer-effect/promise"
 *
 * const promptlayer = new PromptLayer({ apiKey: process.env.PROMPTLAYER_API_KEY })
 * await promptlayer.track.score({ request_id: 42, score: 100 })
 * await promptlayer.close()
 * ```
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export {
  type GetTemplateOptions,
  PromptLayer,
  PromptLayerClosedError,
  type PromptLayerOptions,
  type Soft
} from "./PromptLayerPromise.js"

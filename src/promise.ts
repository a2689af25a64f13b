/**
 * `promptlayer-effect/promise`: the PromptLayer client for Promise code, with the surface of the
 * official `promptlayer` npm SDK, and the error classes it rejects with.
 *
 * @example
 * ```ts
 * import { PromptLayer, NotFoundError } from "promptlayer-effect/promise"
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
  AuthenticationError,
  DecodeError,
  InvalidRequestError,
  isPromptLayerError,
  isRetryable,
  NotFoundError,
  type PromptLayerError,
  RateLimitError,
  RedirectError,
  ResponseTooLargeError,
  ServerError,
  TimeoutError,
  TransportError,
  ValidationError
} from "./PromptLayerError.js"

/**
 * @since 0.1.0
 */
export {
  type GetTemplateOptions,
  PromptLayer,
  PromptLayerClosedError,
  type PromptLayerOptions,
  type Soft,
  type TemplatesGet
} from "./PromptLayerPromise.js"

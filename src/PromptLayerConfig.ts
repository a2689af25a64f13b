/**
 * Where PromptLayer is and how to authenticate: the API key (always `Redacted`), the base URL, and
 * the largest answer the client reads.
 *
 * | variable                         | default                        |
 * | -------------------------------- | ------------------------------ |
 * | `PROMPTLAYER_API_KEY`            | required                       |
 * | `PROMPTLAYER_BASE_URL`           | `https://api.promptlayer.com`  |
 * | `PROMPTLAYER_MAX_RESPONSE_BYTES` | `33554432` (32 MiB)            |
 *
 * Timeouts and retries live in {@link PromptLayerRetryPolicy}.
 *
 * @example
 * ```ts
 * import { PromptLayerConfig } from "promptlayer-effect"
 *
 * // from the environment; fails when the layer is built if PROMPTLAYER_API_KEY is missing
 * const fromEnv = PromptLayerConfig.layerConfig
 * // from options
 * const fromOptions = PromptLayerConfig.layer({ apiKey: "pl_...", baseUrl: "http://127.0.0.1:8787" })
 * ```
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import * as ResponseLimit from "./internal/responseLimit.js"

/**
 * The default base URL of PromptLayer's API.
 *
 * @since 0.1.0
 * @category Constants
 */
export const DEFAULT_BASE_URL = "https://api.promptlayer.com"

/**
 * The default of `maxResponseBytes`: 32 MiB. PromptLayer's answers are small JSON documents (an id,
 * a template, a page of templates: kilobytes, a template with inline images a few megabytes), so
 * this leaves a wide margin over any legitimate answer while bounding what a broken proxy or a
 * wrong base URL can make the process hold: at most this much per call in flight.
 *
 * @since 0.1.0
 * @category Constants
 */
export const DEFAULT_MAX_RESPONSE_BYTES: number = ResponseLimit.DEFAULT_MAX_RESPONSE_BYTES

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  readonly apiKey: Redacted.Redacted<string>
  /** Without a trailing slash. */
  readonly baseUrl: string
  /**
   * The largest response body read, in bytes. A longer one (or one whose `Content-Length` says so)
   * fails the call with `ResponseTooLargeError` and its connection is closed, before it is read
   * further.
   */
  readonly maxResponseBytes: number
}

/**
 * Options for {@link layer} and {@link make}.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** The API key; a plain string is wrapped in `Redacted` at once. */
  readonly apiKey: string | Redacted.Redacted<string>
  /** Defaults to {@link DEFAULT_BASE_URL}. */
  readonly baseUrl?: string | undefined
  /** A positive integer; defaults to {@link DEFAULT_MAX_RESPONSE_BYTES} (32 MiB). */
  readonly maxResponseBytes?: number | undefined
}

/**
 * The configuration service.
 *
 * @since 0.1.0
 * @category Context
 */
export class PromptLayerConfig extends Context.Service<PromptLayerConfig, Service>()(
  "promptlayer-effect/PromptLayerConfig"
) {}

/**
 * Checks and normalizes options: a non-empty key, an http(s) base URL without trailing slash, a
 * positive integer `maxResponseBytes`. The result is a `Result` whose failure is a readable
 * message; error messages never contain the key.
 *
 * @example
 * ```ts
 * import { Result } from "effect"
 * import { PromptLayerConfig } from "promptlayer-effect"
 *
 * const checked = PromptLayerConfig.make({ apiKey: "pl_...", baseUrl: "http://127.0.0.1:8787/" })
 * if (Result.isSuccess(checked)) console.log(checked.success.baseUrl) // "http://127.0.0.1:8787"
 * else console.error(checked.failure)
 * ```
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options): Result.Result<Service, string> =>
  Result.mapError(check(options), (invalid) => invalid.message)

/** `make`, also telling which environment variable holds the invalid value. */
const check = (
  options: Options
): Result.Result<
  Service,
  {
    readonly variable: "PROMPTLAYER_API_KEY" | "PROMPTLAYER_BASE_URL" | "PROMPTLAYER_MAX_RESPONSE_BYTES"
    readonly message: string
  }
> => {
  const apiKey = Redacted.isRedacted(options.apiKey) ? options.apiKey : Redacted.make(options.apiKey)
  const raw = Redacted.value(apiKey)
  if (typeof raw !== "string" || raw.trim() === "") {
    return Result.fail({
      variable: "PROMPTLAYER_API_KEY",
      message: "the PromptLayer API key is empty (set PROMPTLAYER_API_KEY or pass apiKey)"
    })
  }
  const rawBaseUrl: unknown = options.baseUrl ?? DEFAULT_BASE_URL
  if (typeof rawBaseUrl !== "string") {
    return Result.fail({
      variable: "PROMPTLAYER_BASE_URL",
      message: `the PromptLayer base URL must be a string, got ${typeof rawBaseUrl}`
    })
  }
  const baseUrl = rawBaseUrl.trim().replace(/\/+$/, "")
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    return Result.fail({
      variable: "PROMPTLAYER_BASE_URL",
      message: `the PromptLayer base URL is not a URL: ${JSON.stringify(baseUrl)}`
    })
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Result.fail({
      variable: "PROMPTLAYER_BASE_URL",
      message: `the PromptLayer base URL must be http or https: ${JSON.stringify(baseUrl)}`
    })
  }
  const maxResponseBytes: unknown = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  if (typeof maxResponseBytes !== "number" || !Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1) {
    return Result.fail({
      variable: "PROMPTLAYER_MAX_RESPONSE_BYTES",
      message: `the largest response (maxResponseBytes) must be a positive integer of bytes, got ${JSON.stringify(maxResponseBytes) ?? String(maxResponseBytes)}`
    })
  }
  return Result.succeed({ apiKey, baseUrl, maxResponseBytes })
}

/**
 * The configuration as a `Config`: `PROMPTLAYER_API_KEY` (redacted), `PROMPTLAYER_BASE_URL` and
 * `PROMPTLAYER_MAX_RESPONSE_BYTES`.
 *
 * @since 0.1.0
 * @category Config
 */
export const config: Config.Config<Service> = Config.all({
  // Optional here so that a missing key gets a message that says so (Effect 4's own reads
  // "Expected string at [...]"); it is required below.
  apiKey: Config.option(Config.Redacted("PROMPTLAYER_API_KEY")),
  baseUrl: Config.String("PROMPTLAYER_BASE_URL").pipe(Config.withDefault(DEFAULT_BASE_URL)),
  maxResponseBytes: Config.Int("PROMPTLAYER_MAX_RESPONSE_BYTES").pipe(Config.withDefault(DEFAULT_MAX_RESPONSE_BYTES))
}).pipe(
  Config.mapEffect(({ apiKey, ...options }) =>
    Option.isNone(apiKey)
      ? Effect.fail(invalidData("PROMPTLAYER_API_KEY", MISSING_API_KEY))
      : Result.match(check({ ...options, apiKey: apiKey.value }), {
          onFailure: (invalid) => Effect.fail(invalidData(invalid.variable, invalid.message)),
          onSuccess: Effect.succeed
        })
  )
)

const MISSING_API_KEY = "PROMPTLAYER_API_KEY is not set: the PromptLayer API key is required"

/** A `ConfigError` for an invalid value of `variable` (the message names it, never the key). */
const invalidData = (variable: string, message: string): Config.ConfigError =>
  new Config.ConfigError(
    new Schema.SchemaError(new SchemaIssue.Pointer([variable], new SchemaIssue.InvalidValue({ message })))
  )

/**
 * A layer from options. Invalid options are a defect when the layer is built (a programming error).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options): Layer.Layer<PromptLayerConfig> =>
  Layer.effect(
    PromptLayerConfig,
    Result.match(make(options), {
      onFailure: (message) => Effect.die(new Error(message)),
      onSuccess: Effect.succeed
    })
  )

/**
 * A layer that reads the environment through `Config`. A missing `PROMPTLAYER_API_KEY` fails when
 * the layer is built, with a `ConfigError` that names the variable.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig: Layer.Layer<PromptLayerConfig, Config.ConfigError> = Layer.effect(PromptLayerConfig, config)

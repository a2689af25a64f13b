/**
 * The cap on the size of a response body, shared by the client (which sets it from
 * `PromptLayerConfig.maxResponseBytes` for each call) and the node:http transport (which stops
 * reading, and destroys the socket, once a body goes past it).
 */
import * as Context from "effect/Context"

/** 32 MiB: see `PromptLayerConfig.DEFAULT_MAX_RESPONSE_BYTES`. */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024

/**
 * The largest response body, in bytes, that the current request may read: `yield* MaxResponseBytes`
 * reads it, `Effect.provideService(effect, MaxResponseBytes, limit)` sets it for one call.
 */
export const MaxResponseBytes: Context.Reference<number> = Context.Reference<number>(
  "promptlayer-effect/MaxResponseBytes",
  { defaultValue: () => DEFAULT_MAX_RESPONSE_BYTES }
)

/**
 * The cause a transport fails with when a body goes past the cap: `received` bytes were read (or
 * `declared` by `Content-Length`) when reading stopped.
 */
export class ResponseTooLarge extends Error {
  override readonly name = "ResponseTooLarge"
  constructor(
    readonly status: number,
    readonly limit: number,
    readonly received: number,
    readonly declared: number | undefined
  ) {
    super(
      declared !== undefined && declared > limit
        ? `the response declares ${declared} bytes, more than the limit of ${limit}`
        : `the response went past the limit of ${limit} bytes`
    )
  }
}

/** The `Content-Length` of a response, when present and a plain non-negative integer. */
export const declaredLength = (value: string | ReadonlyArray<string> | undefined): number | undefined => {
  if (typeof value !== "string" || !/^\d+$/.test(value.trim())) return undefined
  const length = Number(value)
  return Number.isSafeInteger(length) ? length : undefined
}

/**
 * Retry and timeout policy of every PromptLayer call, provided as a layer so that an app (or a
 * test) chooses it.
 *
 * Default: up to 4 attempts on 408, 429, 5xx, transport failures and per-attempt timeouts;
 * exponential backoff from 500 ms (×2, capped at 15 s) with jitter; the server's `Retry-After`
 * honoured on 429 and 503 (capped at `maxRetryAfter`); no retry on other 4xx. Each attempt times
 * out after 30 s and all attempts together after 120 s. An attempt's timeout counts the time the
 * process could run: a freeze (a serverless platform stops the process after its response) counts
 * for at most a quarter of it, so an answer that arrived during the freeze is read on resume, not
 * sent again.
 *
 * | variable                  | field            | default |
 * | ------------------------- | ---------------- | ------- |
 * | `PROMPTLAYER_TIMEOUT_MS`  | `attemptTimeout` | 30000   |
 * | `PROMPTLAYER_MAX_RETRIES` | `maxAttempts - 1`| 3       |
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { PromptLayerClient, PromptLayerRetryPolicy } from "promptlayer-effect"
 *
 * // no retries, 2 s per attempt
 * const strict = PromptLayerRetryPolicy.layer({ maxAttempts: 1, attemptTimeout: "2 seconds" })
 * ```
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import type { PromptLayerError } from "./PromptLayerError.js"
import { isRetryable, TimeoutError } from "./PromptLayerError.js"
import { timeoutAwake } from "./internal/awakeTimeout.js"

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** Attempts in all, the first included (1 = no retry). */
  readonly maxAttempts: number
  /** Delay before the first retry; doubles on each further retry. */
  readonly initialDelay: Duration.Duration
  /** Cap on the backoff delay. */
  readonly maxDelay: Duration.Duration
  /** Randomize each backoff delay to between half and all of it. */
  readonly jitter: boolean
  /** Cap on an honoured `Retry-After`. */
  readonly maxRetryAfter: Duration.Duration
  /**
   * Timeout of one attempt, counted in the time the process could run: a freeze (or a blocked event
   * loop) counts for at most a quarter of it, so an answer that came meanwhile is read, not re-sent.
   */
  readonly attemptTimeout: Duration.Duration
  /** Timeout of all attempts together, delays included. */
  readonly deadline: Duration.Duration
  /** Which errors are retried; defaults to {@link isRetryable}. */
  readonly retryOn: (error: PromptLayerError) => boolean
}

/**
 * Options of {@link layer}: any field of {@link Service}, durations as `Duration.Input`.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  readonly maxAttempts?: number | undefined
  readonly initialDelay?: Duration.Input | undefined
  readonly maxDelay?: Duration.Input | undefined
  readonly jitter?: boolean | undefined
  readonly maxRetryAfter?: Duration.Input | undefined
  readonly attemptTimeout?: Duration.Input | undefined
  readonly deadline?: Duration.Input | undefined
  readonly retryOn?: ((error: PromptLayerError) => boolean) | undefined
}

/**
 * The retry policy service.
 *
 * @since 0.1.0
 * @category Context
 */
export class PromptLayerRetryPolicy extends Context.Service<PromptLayerRetryPolicy, Service>()(
  "promptlayer-effect/PromptLayerRetryPolicy"
) {}

/**
 * The default policy.
 *
 * @since 0.1.0
 * @category Constants
 */
export const defaults: Service = {
  maxAttempts: 4,
  initialDelay: Duration.millis(500),
  maxDelay: Duration.seconds(15),
  jitter: true,
  maxRetryAfter: Duration.seconds(60),
  attemptTimeout: Duration.seconds(30),
  deadline: Duration.seconds(120),
  retryOn: isRetryable
}

/**
 * Builds a policy from options over the defaults. Throws a `RangeError` for impossible values
 * (fewer than 1 attempt, a non-positive timeout).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Service => {
  const maxAttempts = options.maxAttempts ?? defaults.maxAttempts
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`)
  }
  const duration = (input: Duration.Input | undefined, fallback: Duration.Duration, name: string) => {
    const d = input === undefined ? fallback : Duration.fromInputUnsafe(input)
    if (Duration.isLessThan(d, Duration.zero)) throw new RangeError(`${name} must not be negative`)
    return d
  }
  const policy: Service = {
    maxAttempts,
    initialDelay: duration(options.initialDelay, defaults.initialDelay, "initialDelay"),
    maxDelay: duration(options.maxDelay, defaults.maxDelay, "maxDelay"),
    jitter: options.jitter ?? defaults.jitter,
    maxRetryAfter: duration(options.maxRetryAfter, defaults.maxRetryAfter, "maxRetryAfter"),
    attemptTimeout: duration(options.attemptTimeout, defaults.attemptTimeout, "attemptTimeout"),
    deadline: duration(options.deadline, defaults.deadline, "deadline"),
    retryOn: options.retryOn ?? defaults.retryOn
  }
  if (Duration.isZero(policy.attemptTimeout) || Duration.isZero(policy.deadline)) {
    throw new RangeError("attemptTimeout and deadline must be positive")
  }
  return policy
}

/**
 * The default policy as a layer.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerDefault: Layer.Layer<PromptLayerRetryPolicy> = Layer.succeed(PromptLayerRetryPolicy, defaults)

/**
 * A policy from options over the defaults.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options): Layer.Layer<PromptLayerRetryPolicy> =>
  Layer.sync(PromptLayerRetryPolicy, () => make(options))

/**
 * The policy as a `Config`: `PROMPTLAYER_TIMEOUT_MS` (per attempt) and `PROMPTLAYER_MAX_RETRIES`.
 *
 * @since 0.1.0
 * @category Config
 */
export const config: Config.Config<Service> = Config.all({
  timeoutMs: Config.schema(
    Schema.Int.check(Schema.isGreaterThan(0, { message: "PROMPTLAYER_TIMEOUT_MS must be a positive integer" })),
    "PROMPTLAYER_TIMEOUT_MS"
  ).pipe(Config.withDefault(Duration.toMillis(defaults.attemptTimeout))),
  maxRetries: Config.schema(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(0, { message: "PROMPTLAYER_MAX_RETRIES must be an integer >= 0" })),
    "PROMPTLAYER_MAX_RETRIES"
  ).pipe(Config.withDefault(defaults.maxAttempts - 1))
}).pipe(
  Config.map(({ maxRetries, timeoutMs }) => {
    const attemptTimeout = Duration.millis(timeoutMs)
    const deadline = Duration.max(defaults.deadline, Duration.times(attemptTimeout, maxRetries + 1))
    return make({ maxAttempts: maxRetries + 1, attemptTimeout, deadline })
  })
)

/**
 * The policy read from the environment.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig: Layer.Layer<PromptLayerRetryPolicy, Config.ConfigError> = Layer.effect(
  PromptLayerRetryPolicy,
  config
)

/**
 * What {@link currentRetryObserver} holds: called with the error, the attempt that failed
 * (1-based) and the delay before the next one.
 *
 * @since 0.1.0
 * @category Observability
 */
export type RetryObserver = (error: PromptLayerError, attempt: number, delay: Duration.Duration) => Effect.Effect<void>

/**
 * Called before each retry with the error, the attempt that failed (1-based) and the delay. The
 * tracker uses it to count retries; set it with `Effect.provideService`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PromptLayerRetryPolicy } from "promptlayer-effect"
 *
 * const counted = <A, E, R>(call: Effect.Effect<A, E, R>) =>
 *   call.pipe(
 *     Effect.provideService(PromptLayerRetryPolicy.currentRetryObserver, (error, attempt) =>
 *       Effect.log(`retry after attempt ${attempt}: ${error._tag}`)
 *     )
 *   )
 * ```
 *
 * @since 0.1.0
 * @category Observability
 */
export const currentRetryObserver: Context.Reference<RetryObserver> = Context.Reference<RetryObserver>(
  "promptlayer-effect/PromptLayerRetryPolicy/currentRetryObserver",
  { defaultValue: () => () => Effect.void }
)

/**
 * The delay before retry number `attempt` (1 = first retry): the server's `Retry-After` when it
 * sent one (capped at `maxRetryAfter`), otherwise `initialDelay × 2^(attempt-1)` capped at
 * `maxDelay`, randomized to between half and all of it when `jitter` is on.
 *
 * @since 0.1.0
 * @category Policy
 */
export const delayFor = (
  policy: Service,
  error: PromptLayerError,
  attempt: number
): Effect.Effect<Duration.Duration> => {
  const retryAfter =
    (error._tag === "RateLimitError" || error._tag === "ServerError") && error.retryAfterMs !== undefined
      ? error.retryAfterMs
      : undefined
  if (retryAfter !== undefined) {
    return Effect.succeed(Duration.min(Duration.millis(Math.max(0, retryAfter)), policy.maxRetryAfter))
  }
  const base = Duration.min(Duration.times(policy.initialDelay, 2 ** Math.min(attempt - 1, 30)), policy.maxDelay)
  if (!policy.jitter) return Effect.succeed(base)
  return Effect.map(Random.nextBetween(0.5, 1), (factor) =>
    Duration.millis(Math.round(Duration.toMillis(base) * factor))
  )
}

/**
 * Runs `attempt` under the policy: a timeout per attempt, retries with backoff on retryable
 * errors, and an overall deadline. When the next retry could only start after the deadline (a long
 * `Retry-After`), it fails at once with the error that caused it instead of waiting.
 *
 * @since 0.1.0
 * @category Policy
 */
export const apply = <A, R>(
  policy: Service,
  endpoint: string,
  attempt: Effect.Effect<A, PromptLayerError, R>
): Effect.Effect<A, PromptLayerError, R> => {
  const attemptMs = Duration.toMillis(policy.attemptTimeout)
  const deadlineMs = Duration.toMillis(policy.deadline)
  // One timer per attempt (each timeout races the attempt against a sleep, a large share of a
  // log's CPU): the attempt's own timeout, or what is left of the deadline if that is sooner. Delays never run past the deadline (see below), so the attempts are all it must cover.
  const timed = (startedAt: number, now: number) => {
    const remainingMs = startedAt + deadlineMs - now
    if (remainingMs <= 0) return Effect.fail(new TimeoutError({ endpoint, reason: "deadline", timeoutMs: deadlineMs }))
    // Counted in running time (awakeTimeout.ts): a process frozen with an attempt in flight reads
    // the answer that came meanwhile on resume, instead of timing out and sending it again.
    return remainingMs < attemptMs
      ? timeoutAwake(attempt, remainingMs, () =>
          Effect.fail(new TimeoutError({ endpoint, reason: "deadline", timeoutMs: deadlineMs }))
        )
      : timeoutAwake(attempt, attemptMs, () =>
          Effect.fail(new TimeoutError({ endpoint, reason: "attempt", timeoutMs: attemptMs }))
        )
  }
  // A retry that could only start after the deadline is pointless: fail at once with the error
  // that caused it (e.g. the RateLimitError with its Retry-After) rather than wait for a TimeoutError.
  const loop = (n: number, startedAt: number, now: number): Effect.Effect<A, PromptLayerError, R> =>
    Effect.catch(timed(startedAt, now), (error) => {
      if (n >= policy.maxAttempts || !policy.retryOn(error)) return Effect.fail(error)
      return Effect.flatMap(delayFor(policy, error, n), (delay) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          now + Duration.toMillis(delay) >= startedAt + deadlineMs
            ? Effect.fail(error)
            : Effect.flatMap(currentRetryObserver, (observe) =>
                observe(error, n, delay).pipe(
                  Effect.andThen(Effect.sleep(delay)),
                  Effect.andThen(Effect.flatMap(Clock.currentTimeMillis, (now) => loop(n + 1, startedAt, now)))
                )
              )
        )
      )
    })
  return Effect.flatMap(Clock.currentTimeMillis, (startedAt) => loop(1, startedAt, startedAt))
}

/**
 * Acceptance 4 of issue 2: the retry and timeout policy, driven by `TestClock` (no real sleeping).
 * Each test runs a client call over a scripted `HttpClient`, moves the clock, and checks when each
 * attempt was sent (the mock records `Clock` time), the delays announced to
 * `currentRetryObserver`, and the final error.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Result from "effect/Result"
import { TestClock } from "effect/testing"
import { PromptLayerClient, PromptLayerConfig, PromptLayerError, PromptLayerRetryPolicy } from "promptlayer-effect"
import { type MockHttp, mockHttp, type Reply, sequence } from "./support/mockHttpClient.js"

const API_KEY = "pl_test_retry_0123456789"
const configLayer = PromptLayerConfig.layer({ apiKey: API_KEY, baseUrl: "http://127.0.0.1:9" })

interface Retry {
  readonly tag: string
  readonly attempt: number
  readonly delayMs: number
}

/**
 * Runs `track.score` under `policy` against `mock`, advancing the TestClock by an hour.
 * Returns the outcome, the retries announced and the clock time at the end.
 */
const run = (mock: MockHttp, policy: PromptLayerRetryPolicy.Options) =>
  Effect.gen(function* () {
    const retries: Array<Retry> = []
    const layer = PromptLayerClient.layer().pipe(
      Layer.provide(PromptLayerRetryPolicy.layer(policy)),
      Layer.provide(configLayer),
      Layer.provide(mock.layer)
    )
    const client = yield* Effect.provide(PromptLayerClient.PromptLayerClient, layer)
    const fiber = yield* client.track.score({ request_id: 7, score: 90 }).pipe(
      Effect.provideService(PromptLayerRetryPolicy.currentRetryObserver, (error, attempt, delay) =>
        Effect.sync(() => {
          retries.push({ tag: error._tag, attempt, delayMs: Duration.toMillis(delay) })
        })
      ),
      Effect.result,
      Effect.forkChild
    )
    yield* TestClock.adjust("1 hour")
    const outcome = yield* Fiber.join(fiber)
    return { outcome, retries, times: mock.requests.map((request) => request.at) }
  })

const noJitter = { jitter: false } as const
const ok: Reply = { status: 200, json: { success: true } }
const status = (code: number, headers?: Record<string, string>): Reply => ({
  status: code,
  json: { success: false, message: `status ${code}` },
  ...(headers ? { headers } : {})
})

const failure = <A>(outcome: Result.Result<A, PromptLayerError.PromptLayerError>) => {
  if (Result.isSuccess(outcome)) return assert.fail("expected a failure")
  return outcome.failure
}

describe("PromptLayerRetryPolicy", () => {
  describe("429 with Retry-After", () => {
    it.effect("waits the Retry-After seconds between attempts, ignoring backoff and jitter", () =>
      Effect.gen(function* () {
        const { outcome, retries, times } = yield* run(
          sequence(status(429, { "retry-after": "2" }), status(429, { "retry-after": "3" }), ok),
          {}
        )
        assert.isTrue(Result.isSuccess(outcome))
        assert.deepStrictEqual(times, [0, 2000, 5000])
        assert.deepStrictEqual(retries, [
          { tag: "RateLimitError", attempt: 1, delayMs: 2000 },
          { tag: "RateLimitError", attempt: 2, delayMs: 3000 }
        ])
      })
    )

    it.effect("gives up after 4 attempts with the RateLimitError and its retry-after", () =>
      Effect.gen(function* () {
        const { outcome, times } = yield* run(sequence(status(429, { "retry-after": "7" })), {})
        const error = failure(outcome)
        assert.strictEqual(error._tag, "RateLimitError")
        assert.strictEqual((error as PromptLayerError.RateLimitError).retryAfterMs, 7000)
        assert.deepStrictEqual(times, [0, 7000, 14000, 21000])
      })
    )

    it.effect("an HTTP-date Retry-After is measured from the Effect clock", () =>
      Effect.gen(function* () {
        const start = Date.parse("2026-01-01T00:00:00Z")
        yield* TestClock.setTime(start)
        const at = new Date(start + 9000).toUTCString()
        const { outcome, retries, times } = yield* run(sequence(status(429, { "retry-after": at }), ok), {})
        assert.isTrue(Result.isSuccess(outcome))
        assert.deepStrictEqual(retries, [{ tag: "RateLimitError", attempt: 1, delayMs: 9000 }])
        assert.deepStrictEqual(times, [start, start + 9000])
      })
    )

    it.effect("a Retry-After beyond maxRetryAfter is capped", () =>
      Effect.gen(function* () {
        const { retries } = yield* run(sequence(status(429, { "retry-after": "3600" }), ok), {
          maxRetryAfter: "10 seconds"
        })
        assert.deepStrictEqual(retries, [{ tag: "RateLimitError", attempt: 1, delayMs: 10_000 }])
      })
    )
  })

  describe("503", () => {
    it.effect("with Retry-After: waits the server's delay", () =>
      Effect.gen(function* () {
        const { outcome, times, retries } = yield* run(sequence(status(503, { "retry-after": "4" }), ok), noJitter)
        assert.isTrue(Result.isSuccess(outcome))
        assert.deepStrictEqual(times, [0, 4000])
        assert.deepStrictEqual(retries, [{ tag: "ServerError", attempt: 1, delayMs: 4000 }])
      })
    )

    it.effect("without Retry-After: exponential backoff 500, 1000, 2000 ms, then the ServerError", () =>
      Effect.gen(function* () {
        const { outcome, times, retries } = yield* run(sequence(status(503)), noJitter)
        const error = failure(outcome)
        assert.strictEqual(error._tag, "ServerError")
        assert.strictEqual((error as PromptLayerError.ServerError).status, 503)
        assert.deepStrictEqual(times, [0, 500, 1500, 3500])
        assert.deepStrictEqual(
          retries.map((retry) => retry.delayMs),
          [500, 1000, 2000]
        )
      })
    )

    it.effect("backoff is capped at maxDelay", () =>
      Effect.gen(function* () {
        const { retries } = yield* run(sequence(status(500)), {
          ...noJitter,
          maxAttempts: 6,
          initialDelay: "1 second",
          maxDelay: "5 seconds"
        })
        assert.deepStrictEqual(
          retries.map((retry) => retry.delayMs),
          [1000, 2000, 4000, 5000, 5000]
        )
      })
    )

    it.effect("408 from the server is retried as a TimeoutError", () =>
      Effect.gen(function* () {
        const { outcome, times } = yield* run(sequence(status(408), ok), noJitter)
        assert.isTrue(Result.isSuccess(outcome))
        assert.deepStrictEqual(times, [0, 500])
      })
    )
  })

  describe("transport failure", () => {
    it.effect("is retried with backoff, then fails with a TransportError", () =>
      Effect.gen(function* () {
        const { outcome, times, retries } = yield* run(
          mockHttp(() => ({ transportError: "connect ECONNREFUSED 127.0.0.1:9" })),
          noJitter
        )
        const error = failure(outcome)
        assert.strictEqual(error._tag, "TransportError")
        assert.include(error.message, "ECONNREFUSED")
        assert.deepStrictEqual(times, [0, 500, 1500, 3500])
        assert.deepStrictEqual(
          retries.map((retry) => retry.tag),
          ["TransportError", "TransportError", "TransportError"]
        )
      })
    )

    it.effect("recovers when a later attempt connects", () =>
      Effect.gen(function* () {
        const { outcome, times } = yield* run(sequence({ transportError: "socket hang up" }, ok), noJitter)
        assert.isTrue(Result.isSuccess(outcome))
        assert.deepStrictEqual(times, [0, 500])
      })
    )
  })

  describe("timeouts", () => {
    it.effect("per-attempt timeout: each hanging attempt is cut after attemptTimeout, then retried", () =>
      Effect.gen(function* () {
        const { outcome, times, retries } = yield* run(
          mockHttp(() => ({ hang: true })),
          {
            ...noJitter,
            attemptTimeout: "1 second"
          }
        )
        const error = failure(outcome) as PromptLayerError.TimeoutError
        assert.strictEqual(error._tag, "TimeoutError")
        assert.strictEqual(error.reason, "attempt")
        assert.strictEqual(error.timeoutMs, 1000)
        // attempt 1 at 0, cut at 1000, +500 → 1500, cut at 2500, +1000 → 3500, cut at 4500, +2000 → 6500
        assert.deepStrictEqual(times, [0, 1500, 3500, 6500])
        assert.deepStrictEqual(
          retries.map((retry) => [retry.tag, retry.delayMs]),
          [
            ["TimeoutError", 500],
            ["TimeoutError", 1000],
            ["TimeoutError", 2000]
          ]
        )
      })
    )

    it.effect("a slow attempt that answers within the timeout succeeds with no retry", () =>
      Effect.gen(function* () {
        const { outcome, times } = yield* run(sequence(ok), { ...noJitter, attemptTimeout: "1 second" })
        assert.isTrue(Result.isSuccess(outcome))
        assert.deepStrictEqual(times, [0])
      })
    )

    it.effect("overall deadline: all attempts and delays together stop at the deadline", () =>
      Effect.gen(function* () {
        const { outcome, times } = yield* run(
          mockHttp(() => ({ hang: true })),
          {
            ...noJitter,
            maxAttempts: 10,
            attemptTimeout: "4 seconds",
            deadline: "10 seconds"
          }
        )
        const error = failure(outcome) as PromptLayerError.TimeoutError
        assert.strictEqual(error._tag, "TimeoutError")
        assert.strictEqual(error.reason, "deadline")
        assert.strictEqual(error.timeoutMs, 10_000)
        // 0 → cut 4000, +500 → 4500 → cut 8500, +1000 → 9500 → deadline at 10000
        assert.deepStrictEqual(times, [0, 4500, 9500])
        assert.isFalse(PromptLayerError.isRetryable(error))
      })
    )

    it.effect("a Retry-After beyond the deadline fails at once with the RateLimitError, without waiting", () =>
      Effect.gen(function* () {
        const { outcome, times, retries } = yield* run(sequence(status(429, { "retry-after": "30" })), {
          deadline: "10 seconds"
        })
        const error = failure(outcome) as PromptLayerError.RateLimitError
        assert.strictEqual(error._tag, "RateLimitError")
        assert.strictEqual(error.retryAfterMs, 30_000)
        assert.deepStrictEqual(times, [0])
        assert.strictEqual(retries.length, 0)
      })
    )
  })

  describe("jitter", () => {
    it.effect("each backoff delay lies between half and all of the exponential delay", () =>
      Effect.gen(function* () {
        const all: Array<number> = []
        for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
          const { retries } = yield* run(sequence(status(500)), { maxAttempts: 5 }).pipe(Random.withSeed(seed))
          const bases = [500, 1000, 2000, 4000]
          assert.strictEqual(retries.length, 4)
          retries.forEach((retry, i) => {
            assert.isAtLeast(retry.delayMs, bases[i]! / 2)
            assert.isAtMost(retry.delayMs, bases[i]!)
          })
          all.push(...retries.map((retry) => retry.delayMs))
        }
        assert.isAbove(new Set(all).size, 4, "delays vary between runs")
      })
    )

    it.effect("the actual waits are the jittered delays", () =>
      Effect.gen(function* () {
        const { times, retries } = yield* run(sequence(status(502)), {}).pipe(Random.withSeed(42))
        const waits = times.slice(1).map((time, i) => time - times[i]!)
        assert.deepStrictEqual(
          waits,
          retries.map((retry) => retry.delayMs)
        )
      })
    )
  })

  describe("no retry on client errors", () => {
    for (const [code, tag] of [
      [400, "InvalidRequestError"],
      [401, "AuthenticationError"],
      [403, "AuthenticationError"],
      [404, "NotFoundError"],
      [409, "InvalidRequestError"],
      [422, "InvalidRequestError"]
    ] as const) {
      it.effect(`${code} fails at once with ${tag}, after exactly one request`, () =>
        Effect.gen(function* () {
          const { outcome, times, retries } = yield* run(sequence(status(code)), {})
          const error = failure(outcome)
          assert.strictEqual(error._tag, tag)
          assert.deepStrictEqual(times, [0])
          assert.deepStrictEqual(retries, [])
        })
      )
    }

    it.effect("a body that does not decode is not retried", () =>
      Effect.gen(function* () {
        const { outcome, times } = yield* run(sequence({ status: 200, text: "<html>oops</html>" }), {})
        assert.strictEqual(failure(outcome)._tag, "DecodeError")
        assert.deepStrictEqual(times, [0])
      })
    )

    it.effect("maxAttempts 1 disables retries", () =>
      Effect.gen(function* () {
        const { outcome, times } = yield* run(sequence(status(503)), { maxAttempts: 1 })
        assert.strictEqual(failure(outcome)._tag, "ServerError")
        assert.deepStrictEqual(times, [0])
      })
    )

    it.effect("retryOn replaces the default predicate", () =>
      Effect.gen(function* () {
        const { outcome, times } = yield* run(sequence(status(404), ok), {
          ...noJitter,
          retryOn: (error) => error._tag === "NotFoundError"
        })
        assert.isTrue(Result.isSuccess(outcome))
        assert.deepStrictEqual(times, [0, 500])
      })
    )
  })

  describe("make", () => {
    it("rejects impossible values", () => {
      assert.throws(() => PromptLayerRetryPolicy.make({ maxAttempts: 0 }), RangeError)
      assert.throws(() => PromptLayerRetryPolicy.make({ maxAttempts: 1.5 }), RangeError)
      assert.throws(() => PromptLayerRetryPolicy.make({ attemptTimeout: 0 }), RangeError)
      assert.throws(() => PromptLayerRetryPolicy.make({ deadline: 0 }), RangeError)
      assert.throws(() => PromptLayerRetryPolicy.make({ attemptTimeout: -5 }), RangeError)
    })

    it("defaults: 4 attempts, 30 s per attempt, 120 s deadline, jitter on", () => {
      const policy = PromptLayerRetryPolicy.make()
      assert.strictEqual(policy.maxAttempts, 4)
      assert.strictEqual(Duration.toMillis(policy.attemptTimeout), 30_000)
      assert.strictEqual(Duration.toMillis(policy.deadline), 120_000)
      assert.isTrue(policy.jitter)
      assert.isTrue(Duration.isLessThan(policy.attemptTimeout, policy.deadline))
    })
  })

  describe("layerConfig", () => {
    const fromEnv = (env: Record<string, string>) =>
      Effect.provideService(
        Effect.provide(PromptLayerRetryPolicy.PromptLayerRetryPolicy, PromptLayerRetryPolicy.layerConfig),
        ConfigProvider.ConfigProvider,
        ConfigProvider.fromEnvRecord(env)
      )

    it.effect("reads PROMPTLAYER_TIMEOUT_MS and PROMPTLAYER_MAX_RETRIES", () =>
      Effect.gen(function* () {
        const policy = yield* fromEnv({ PROMPTLAYER_TIMEOUT_MS: "2500", PROMPTLAYER_MAX_RETRIES: "1" })
        assert.strictEqual(policy.maxAttempts, 2)
        assert.strictEqual(Duration.toMillis(policy.attemptTimeout), 2500)
        assert.isTrue(Duration.isGreaterThanOrEqualTo(policy.deadline, Duration.millis(5000)))
      })
    )

    it.effect("defaults when the variables are absent", () =>
      Effect.gen(function* () {
        const policy = yield* fromEnv({})
        assert.strictEqual(policy.maxAttempts, PromptLayerRetryPolicy.defaults.maxAttempts)
        assert.strictEqual(
          Duration.toMillis(policy.attemptTimeout),
          Duration.toMillis(PromptLayerRetryPolicy.defaults.attemptTimeout)
        )
      })
    )

    it.effect("PROMPTLAYER_MAX_RETRIES=0 means a single attempt", () =>
      Effect.gen(function* () {
        const policy = yield* fromEnv({ PROMPTLAYER_MAX_RETRIES: "0" })
        assert.strictEqual(policy.maxAttempts, 1)
      })
    )

    for (const [name, value] of [
      ["PROMPTLAYER_TIMEOUT_MS", "0"],
      ["PROMPTLAYER_TIMEOUT_MS", "soon"],
      ["PROMPTLAYER_MAX_RETRIES", "-1"],
      ["PROMPTLAYER_MAX_RETRIES", "many"]
    ] as const) {
      it.effect(`${name}=${value} fails the layer with a message naming the variable`, () =>
        Effect.gen(function* () {
          const exit = yield* Effect.exit(fromEnv({ [name]: value }))
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isFailure(exit)) assert.include(String(exit.cause), name)
        })
      )
    }

    it.effect("the client built with layerConfig applies the env policy", () =>
      Effect.gen(function* () {
        const mock = mockHttp(() => ({ hang: true }))
        const env = ConfigProvider.fromEnvRecord({
          PROMPTLAYER_API_KEY: API_KEY,
          PROMPTLAYER_BASE_URL: "http://127.0.0.1:9",
          PROMPTLAYER_TIMEOUT_MS: "2000",
          PROMPTLAYER_MAX_RETRIES: "1"
        })
        const layer = PromptLayerClient.layerConfig().pipe(Layer.provide(mock.layer))
        const client = yield* Effect.provideService(
          Effect.provide(PromptLayerClient.PromptLayerClient, layer),
          ConfigProvider.ConfigProvider,
          env
        )
        const fiber = yield* Effect.forkChild(Effect.result(client.group.create()))
        yield* TestClock.adjust("1 hour")
        const outcome = yield* Fiber.join(fiber)
        const error = failure(outcome) as PromptLayerError.TimeoutError
        assert.strictEqual(error.reason, "attempt")
        assert.strictEqual(error.timeoutMs, 2000)
        assert.strictEqual(mock.requests.length, 2)
        assert.strictEqual(mock.requests[0]!.at, 0)
        assert.isAtLeast(mock.requests[1]!.at, 2000 + 250)
        assert.isAtMost(mock.requests[1]!.at, 2000 + 500)
      })
    )
  })
})

/**
 * PromptLayerConfig: from the environment (`layerConfig`, through `ConfigProvider.fromEnvRecord`) and from
 * options (`layer`, `make`): a missing or empty key fails when the layer is built with a message
 * naming PROMPTLAYER_API_KEY; a bad base URL is rejected; trailing slashes are removed; the key
 * stays `Redacted` and out of every message.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import { PromptLayerClient, PromptLayerConfig } from "promptlayer-effect"
import { mockHttp } from "./support/mockHttpClient.js"

const API_KEY = "pl_test_config_0123456789abcdef"

const fromEnv = (env: Record<string, string>) =>
  Effect.provideService(
    Effect.provide(PromptLayerConfig.PromptLayerConfig, PromptLayerConfig.layerConfig),
    ConfigProvider.ConfigProvider,
    ConfigProvider.fromEnvRecord(env)
  )

const fromOptions = (options: PromptLayerConfig.Options) =>
  Effect.provide(PromptLayerConfig.PromptLayerConfig, PromptLayerConfig.layer(options))

const failureText = <A, E>(exit: Exit.Exit<A, E>): string => {
  if (Exit.isSuccess(exit)) return assert.fail("expected the layer to fail")
  return Cause.pretty(exit.cause)
}

describe("PromptLayerConfig.layerConfig (environment)", () => {
  it.effect("reads PROMPTLAYER_API_KEY as Redacted and defaults the base URL", () =>
    Effect.gen(function* () {
      const config = yield* fromEnv({ PROMPTLAYER_API_KEY: API_KEY })
      assert.isTrue(Redacted.isRedacted(config.apiKey))
      assert.strictEqual(Redacted.value(config.apiKey), API_KEY)
      assert.strictEqual(config.baseUrl, PromptLayerConfig.DEFAULT_BASE_URL)
      assert.strictEqual(config.baseUrl, "https://api.promptlayer.com")
      assert.notInclude(String(config.apiKey), API_KEY)
      assert.notInclude(JSON.stringify(config), API_KEY)
    })
  )

  it.effect("a missing key fails when the layer is built, naming PROMPTLAYER_API_KEY", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(fromEnv({ PROMPTLAYER_BASE_URL: "http://127.0.0.1:8787" }))
      const text = failureText(exit)
      assert.include(text, "PROMPTLAYER_API_KEY is not set")
      if (Exit.isFailure(exit))
        assert.isTrue(exit.cause.reasons.every(Cause.isFailReason) || Cause.hasFails(exit.cause))
    })
  )

  it.effect("a missing key fails the whole client layer at build time, before any request", () =>
    Effect.gen(function* () {
      const mock = mockHttp(() => ({ status: 200, json: { success: true, id: 1 } }))
      const layer = PromptLayerClient.layerConfig().pipe(Layer.provide(mock.layer))
      const exit = yield* Effect.exit(
        Effect.provideService(
          Effect.provide(
            Effect.flatMap(PromptLayerClient.PromptLayerClient, (client) => client.group.create()),
            layer
          ),
          ConfigProvider.ConfigProvider,
          ConfigProvider.fromEnvRecord({})
        )
      )
      assert.include(failureText(exit), "PROMPTLAYER_API_KEY")
      assert.strictEqual(mock.requests.length, 0)
    })
  )

  for (const empty of ["", "   "]) {
    it.effect(`an empty key (${JSON.stringify(empty)}) fails, naming PROMPTLAYER_API_KEY`, () =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(fromEnv({ PROMPTLAYER_API_KEY: empty }))
        assert.include(failureText(exit), "PROMPTLAYER_API_KEY")
      })
    )
  }

  for (const bad of ["not a url", "ftp://files.example.com", "api.promptlayer.com"]) {
    it.effect(`a bad PROMPTLAYER_BASE_URL (${bad}) fails, naming the variable and not the key`, () =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(fromEnv({ PROMPTLAYER_API_KEY: API_KEY, PROMPTLAYER_BASE_URL: bad }))
        const text = failureText(exit)
        assert.include(text, "PROMPTLAYER_BASE_URL")
        assert.include(text, "base URL")
        assert.notInclude(text, API_KEY)
      })
    )
  }

  for (const [given, expected] of [
    ["http://127.0.0.1:8787/", "http://127.0.0.1:8787"],
    ["http://127.0.0.1:8787///", "http://127.0.0.1:8787"],
    ["  https://proxy.example.com/promptlayer/  ", "https://proxy.example.com/promptlayer"],
    ["https://api.promptlayer.com", "https://api.promptlayer.com"]
  ] as const) {
    it.effect(`PROMPTLAYER_BASE_URL ${JSON.stringify(given)} is normalised to ${expected}`, () =>
      Effect.gen(function* () {
        const config = yield* fromEnv({ PROMPTLAYER_API_KEY: API_KEY, PROMPTLAYER_BASE_URL: given })
        assert.strictEqual(config.baseUrl, expected)
      })
    )
  }
})

describe("PromptLayerConfig.layer / make (options)", () => {
  it("make wraps a plain key in Redacted and keeps a Redacted one", () => {
    const plain = PromptLayerConfig.make({ apiKey: API_KEY })
    const redacted = PromptLayerConfig.make({ apiKey: Redacted.make(API_KEY), baseUrl: "http://localhost:1/" })
    if (Result.isFailure(plain) || Result.isFailure(redacted)) return assert.fail("expected valid options")
    assert.isTrue(Redacted.isRedacted(plain.success.apiKey))
    assert.strictEqual(Redacted.value(plain.success.apiKey), API_KEY)
    assert.strictEqual(plain.success.baseUrl, PromptLayerConfig.DEFAULT_BASE_URL)
    assert.strictEqual(Redacted.value(redacted.success.apiKey), API_KEY)
    assert.strictEqual(redacted.success.baseUrl, "http://localhost:1")
  })

  it("make rejects an empty key and a bad base URL with readable messages", () => {
    const empty = PromptLayerConfig.make({ apiKey: " " })
    assert.isTrue(Result.isFailure(empty))
    if (Result.isFailure(empty)) assert.include(empty.failure, "PROMPTLAYER_API_KEY")
    const bad = PromptLayerConfig.make({ apiKey: API_KEY, baseUrl: "mailto:someone@example.com" })
    assert.isTrue(Result.isFailure(bad))
    if (Result.isFailure(bad)) {
      assert.include(bad.failure, "http or https")
      assert.notInclude(bad.failure, API_KEY)
    }
  })

  it.effect("layer with an empty key dies when built (a programming error), naming the key variable", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(fromOptions({ apiKey: "" }))
      const text = failureText(exit)
      assert.include(text, "PROMPTLAYER_API_KEY")
      if (Exit.isFailure(exit)) assert.isTrue(Cause.hasDies(exit.cause))
    })
  )

  it.effect("layer with a bad base URL dies when built", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(fromOptions({ apiKey: API_KEY, baseUrl: "::nope::" }))
      assert.include(failureText(exit), "base URL")
    })
  )

  it.effect("the client sends to the normalised base URL, keeping its path", () =>
    Effect.gen(function* () {
      const mock = mockHttp(() => ({ status: 200, json: { success: true, id: 3 } }))
      const layer = PromptLayerClient.layerWith({
        apiKey: API_KEY,
        baseUrl: "http://127.0.0.1:8787/prefix/",
        retry: { maxAttempts: 1 }
      }).pipe(Layer.provide(mock.layer))
      const id = yield* Effect.provide(
        Effect.flatMap(PromptLayerClient.PromptLayerClient, (client) => client.group.create()),
        layer
      )
      assert.strictEqual(id, 3)
      assert.strictEqual(mock.requests[0]!.url.href, "http://127.0.0.1:8787/prefix/create-group")
    })
  )
})

describe("PromptLayerConfig: maxResponseBytes (issue 11, point 4)", () => {
  it.effect("defaults to 32 MiB, from the environment as from options", () =>
    Effect.gen(function* () {
      assert.strictEqual(PromptLayerConfig.DEFAULT_MAX_RESPONSE_BYTES, 32 * 1024 * 1024)
      const env = yield* fromEnv({ PROMPTLAYER_API_KEY: API_KEY })
      assert.strictEqual(env.maxResponseBytes, PromptLayerConfig.DEFAULT_MAX_RESPONSE_BYTES)
      const options = yield* fromOptions({ apiKey: API_KEY })
      assert.strictEqual(options.maxResponseBytes, PromptLayerConfig.DEFAULT_MAX_RESPONSE_BYTES)
    })
  )

  it.effect("PROMPTLAYER_MAX_RESPONSE_BYTES and the option set it", () =>
    Effect.gen(function* () {
      const env = yield* fromEnv({ PROMPTLAYER_API_KEY: API_KEY, PROMPTLAYER_MAX_RESPONSE_BYTES: "1048576" })
      assert.strictEqual(env.maxResponseBytes, 1048576)
      const options = yield* fromOptions({ apiKey: API_KEY, maxResponseBytes: 4096 })
      assert.strictEqual(options.maxResponseBytes, 4096)
    })
  )

  for (const bad of ["0", "-1", "1.5", "32MiB", "lots"]) {
    it.effect(`PROMPTLAYER_MAX_RESPONSE_BYTES=${JSON.stringify(bad)} fails, naming the variable`, () =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(fromEnv({ PROMPTLAYER_API_KEY: API_KEY, PROMPTLAYER_MAX_RESPONSE_BYTES: bad }))
        const text = failureText(exit)
        assert.include(text, "PROMPTLAYER_MAX_RESPONSE_BYTES")
        assert.notInclude(text, API_KEY)
      })
    )
  }

  it("make rejects a limit that is not a positive integer", () => {
    for (const bad of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "1024" as unknown as number]) {
      const result = PromptLayerConfig.make({ apiKey: API_KEY, maxResponseBytes: bad })
      assert.isTrue(Result.isFailure(result), `${String(bad)} must be rejected`)
      if (Result.isFailure(result)) {
        assert.include(result.failure, "maxResponseBytes")
        assert.notInclude(result.failure, API_KEY)
      }
    }
  })

  it.effect("the client reads no more than the limit: a longer answer is a ResponseTooLargeError", () =>
    Effect.gen(function* () {
      const mock = mockHttp(() => ({ status: 200, json: { success: true, id: 3, padding: "x".repeat(200) } }))
      const layer = (maxResponseBytes: number) =>
        PromptLayerClient.layerWith({ apiKey: API_KEY, maxResponseBytes, retry: { maxAttempts: 3 } }).pipe(
          Layer.provide(mock.layer)
        )
      const create = Effect.flatMap(PromptLayerClient.PromptLayerClient, (client) => client.group.create())
      assert.strictEqual(yield* Effect.provide(create, layer(4096)), 3)
      const error = yield* Effect.flip(Effect.provide(create, layer(100)))
      assert.strictEqual(error._tag, "ResponseTooLargeError")
      if (error._tag === "ResponseTooLargeError") assert.strictEqual(error.maxResponseBytes, 100)
      assert.strictEqual(mock.requests.length, 2, "not retried")
    })
  )
})

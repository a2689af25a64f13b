/**
 * The Promise bridge against the emulator over real HTTP (loopback): every operation runs the same
 * case through the Effect API and through `new PromptLayer(...)`, and both must give the same
 * result (value, or error class/_tag/message) and leave the emulator in the same state.
 */
import { spawnSync } from "node:child_process"
import { inspect } from "node:util"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import {
  PromptLayerClient,
  PromptLayerError,
  PromptLayerHttp,
  type PromptLayerRetryPolicy,
  type PromptLayerSchema
} from "promptlayer-effect"
import { type PromptLayerEmulator, startEmulator } from "promptlayer-effect/emulator"
import { PromptLayer, PromptLayerClosedError, RateLimitError } from "promptlayer-effect/promise"
import type { PromptLayer as OfficialPromptLayer } from "promptlayer"
import { PromptLayerTest } from "promptlayer-effect/testing"
import { chat, fastRetry, withClient } from "./support/emulatorClient.js"

const KEY = "pl_bridge_secret_7f3a9c51"
const WRONG_KEY = "pl_wrong_secret_42b1e0d8"

const unhandled: Array<unknown> = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
let emulator: Awaited<ReturnType<typeof startEmulator>>

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled)
  emulator = await startEmulator({ port: 0, apiKey: KEY })
})

afterAll(async () => {
  await emulator?.close()
  // let any stray rejection surface before checking
  await new Promise((resolve) => setTimeout(resolve, 50))
  process.off("unhandledRejection", onUnhandled)
  assert.deepStrictEqual(unhandled, [], "no unhandled rejection during the Promise bridge tests")
})

/** The surface both sides implement, in the shapes of the official SDK. */
interface Api {
  readonly logRequest: (body: PromptLayerSchema.LogRequestInput) => Promise<PromptLayerSchema.LogRequestResponse>
  readonly trackRequest: (body: PromptLayerSchema.TrackRequestInput) => Promise<PromptLayerSchema.TrackRequestResponse>
  readonly track: {
    readonly score: (body: typeof PromptLayerSchema.TrackScoreBody.Encoded) => Promise<boolean>
    readonly metadata: (body: typeof PromptLayerSchema.TrackMetadataBody.Encoded) => Promise<boolean>
    readonly prompt: (body: typeof PromptLayerSchema.TrackPromptBody.Encoded) => Promise<boolean>
    readonly group: (body: typeof PromptLayerSchema.TrackGroupBody.Encoded) => Promise<boolean>
  }
  readonly group: { readonly create: () => Promise<number> }
  readonly templates: {
    readonly get: (
      name: string | number,
      params?: PromptLayerSchema.GetTemplateParams
    ) => Promise<PromptLayerSchema.GetTemplateResponse>
    readonly publish: (
      body: PromptLayerSchema.PublishTemplateInput
    ) => Promise<PromptLayerSchema.PublishTemplateResponse>
    readonly all: (
      params?: PromptLayerSchema.ListTemplatesParams
    ) => Promise<ReadonlyArray<PromptLayerSchema.TemplateListItem>>
  }
  readonly close: () => Promise<void>
}

interface Setup {
  readonly apiKey: string
  readonly retry: PromptLayerRetryPolicy.Options
}

/** The Effect API over the bridge's transport, observed from Promise land as an Effect user sees it: success or the typed failure. */
const effectApi = ({ apiKey, retry }: Setup): Api => {
  const run = <A>(f: (client: Parameters<Parameters<typeof withClient>[1]>[0]) => Effect.Effect<A, unknown>) =>
    Effect.runPromise(
      Effect.result(withClient(emulator, f, { apiKey, retry, http: PromptLayerHttp.layerDefault }))
    ).then((result) => (Result.isSuccess(result) ? result.success : Promise.reject(result.failure)))
  return {
    logRequest: (body) => run((client) => client.logRequest(body)),
    trackRequest: (body) => run((client) => client.trackRequest(body)),
    track: {
      score: (body) => run((client) => Effect.as(client.track.score(body), true)),
      metadata: (body) => run((client) => Effect.as(client.track.metadata(body), true)),
      prompt: (body) => run((client) => Effect.as(client.track.prompt(body), true)),
      group: (body) => run((client) => Effect.as(client.track.group(body), true))
    },
    group: { create: () => run((client) => client.group.create()) },
    templates: {
      get: (name, params) => run((client) => client.templates.get(name, params)),
      publish: (body) => run((client) => client.templates.publish(body)),
      all: (params) => run((client) => Effect.map(client.templates.all(params), (page) => page.items))
    },
    close: () => Promise.resolve()
  }
}

const promiseApi = ({ apiKey, retry }: Setup): Api => new PromptLayer({ apiKey, baseURL: emulator.url, retry })

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown }

interface Observed {
  readonly outcome: Outcome
  /** HTTP calls the emulator received for the case. */
  readonly httpCalls: number
  /** GET /emulator/requests after the case. */
  readonly requests: ReadonlyArray<PromptLayerEmulator.StoredRequest>
}

interface Case {
  readonly name: string
  readonly apiKey?: string
  readonly retry?: PromptLayerRetryPolicy.Options
  readonly faults?: ReadonlyArray<PromptLayerEmulator.FaultRule>
  /** Runs before the case (not counted), e.g. to publish a template. */
  readonly setup?: (api: Api) => Promise<unknown>
  readonly run: (api: Api) => Promise<unknown>
  readonly check: (observed: Observed) => void
}

const T0 = "2026-11-25T10:00:00.000Z"
const T1 = "2026-11-25T10:00:01.250Z"

const logBody = (overrides: Partial<PromptLayerSchema.LogRequestInput> = {}): PromptLayerSchema.LogRequestInput => ({
  provider: "openai",
  model: "gpt-4o-mini",
  input: chat("user", "What comes after 1,2,3 ?"),
  output: chat("assistant", "4"),
  request_start_time: T0,
  request_end_time: T1,
  tags: ["bridge"],
  ...overrides
})

const totalCalls = () => Object.values(emulator.stats().calls).reduce((sum, n) => sum + n, 0)

const readRequests = async (): Promise<ReadonlyArray<PromptLayerEmulator.StoredRequest>> => {
  const response = await fetch(`${emulator.url}/emulator/requests`)
  return ((await response.json()) as { items: ReadonlyArray<PromptLayerEmulator.StoredRequest> }).items
}

const observe = async (testCase: Case, make: (setup: Setup) => Api): Promise<Observed> => {
  emulator.store.reset()
  emulator.faults.clear()
  const api = make({ apiKey: testCase.apiKey ?? KEY, retry: testCase.retry ?? { ...fastRetry, maxAttempts: 1 } })
  const setupApi = make({ apiKey: KEY, retry: { ...fastRetry, maxAttempts: 1 } })
  try {
    if (testCase.setup) await testCase.setup(setupApi)
    if (testCase.faults) emulator.faults.add(testCase.faults)
    const before = totalCalls()
    const outcome: Outcome = await testCase.run(api).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error })
    )
    const httpCalls = totalCalls() - before
    emulator.faults.clear()
    return { outcome, httpCalls, requests: await readRequests() }
  } finally {
    await api.close()
    await setupApi.close()
  }
}

const withoutClock = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value ?? null), (key, v) => (key === "created_at" || key === "updated_at" ? undefined : v))

const describeError = (error: unknown) =>
  error instanceof Error
    ? {
        class: error.constructor.name,
        tag: (error as { _tag?: unknown })._tag,
        message: error.message,
        json: JSON.stringify(error)
      }
    : { notAnError: String(error) }

const assertNoKey = (error: unknown) => {
  const texts = [
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: 10 }),
    error instanceof Error ? `${error.message}\n${error.stack}` : ""
  ]
  for (const text of texts) {
    assert.notInclude(text, KEY)
    assert.notInclude(text, WRONG_KEY)
  }
}

const value = (observed: Observed) => {
  if (!observed.outcome.ok) {
    assert.fail(`expected success, got ${inspect(observed.outcome.error)}`)
  }
  return observed.outcome.value as any
}

const failure = <E extends Error>(observed: Observed, ErrorClass: new (...args: Array<any>) => E, tag: string): E => {
  if (observed.outcome.ok) assert.fail(`expected ${tag}, got ${inspect(observed.outcome.value)}`)
  const error = observed.outcome.error
  assert.instanceOf(error, ErrorClass)
  assert.instanceOf(error, Error)
  assert.strictEqual((error as unknown as { _tag: string })._tag, tag)
  assert.isTrue(PromptLayerError.isPromptLayerError(error))
  assertNoKey(error)
  return error as E
}

const template = {
  prompt_name: "example",
  prompt_template: chat("user", "Tell me a joke about {product}"),
  commit_message: "first",
  release_labels: ["prod"]
}

const cases: ReadonlyArray<Case> = [
  {
    name: "logRequest: resolves the new request's id; the emulator stored it",
    run: (api) => api.logRequest(logBody({ metadata: { user: "u1" } })),
    check: (observed) => {
      assert.strictEqual(value(observed).id, 1)
      assert.strictEqual(observed.requests[0]?.model, "gpt-4o-mini")
      assert.deepStrictEqual(observed.requests[0]?.tags, ["bridge"])
      assert.deepStrictEqual(observed.requests[0]?.metadata, { user: "u1" })
      assert.strictEqual(observed.requests[0]?.latency_ms, 1250)
    }
  },
  {
    name: "logRequest: a bad timestamp is a ValidationError before any network call",
    run: (api) => api.logRequest(logBody({ request_start_time: "yesterday-ish" })),
    check: (observed) => {
      const error = failure(observed, PromptLayerError.ValidationError, "ValidationError")
      assert.include(error.message, "request_start_time")
      assert.strictEqual(observed.httpCalls, 0)
    }
  },
  {
    name: "trackRequest: resolves request_id",
    run: (api) =>
      api.trackRequest({
        function_name: "openai.chat.completions.create",
        provider_type: "openai",
        kwargs: { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] },
        request_response: { choices: [{ message: { role: "assistant", content: "hello" } }] },
        request_start_time: T0,
        request_end_time: T1,
        tags: ["raw"]
      }),
    check: (observed) => {
      assert.strictEqual(value(observed).request_id, 1)
      assert.strictEqual(observed.requests[0]?.function_name, "openai.chat.completions.create")
    }
  },
  {
    name: "track.score: resolves true and stores the (named) score",
    setup: (api) => api.logRequest(logBody()),
    run: async (api) => [
      await api.track.score({ request_id: 1, score: 100 }),
      await api.track.score({ request_id: 1, score: 40, name: "tone" })
    ],
    check: (observed) => {
      assert.deepStrictEqual(value(observed), [true, true])
      assert.deepStrictEqual(observed.requests[0]?.scores, { default: 100, tone: 40 })
    }
  },
  {
    name: "track.score: 101 and 42.5 are ValidationErrors before any network call",
    setup: (api) => api.logRequest(logBody()),
    run: async (api) => {
      const errors = await Promise.all(
        [101, 42.5].map((score) =>
          api.track.score({ request_id: 1, score }).then(
            () => undefined,
            (e) => e
          )
        )
      )
      if (errors.every((error) => error instanceof PromptLayerError.ValidationError)) throw errors[1]
      return errors
    },
    check: (observed) => {
      const error = failure(observed, PromptLayerError.ValidationError, "ValidationError")
      assert.include(error.message, "track.score")
      assert.strictEqual(observed.httpCalls, 0)
      assert.deepStrictEqual(observed.requests[0]?.scores, {})
    }
  },
  {
    name: "track.score: an unknown request id is the server's NotFoundError",
    run: (api) => api.track.score({ request_id: 999, score: 10 }),
    check: (observed) => {
      failure(observed, PromptLayerError.NotFoundError, "NotFoundError")
      assert.strictEqual(observed.httpCalls, 1)
    }
  },
  {
    name: "track.metadata: resolves true; keys merge",
    setup: (api) => api.logRequest(logBody({ metadata: { a: "1", b: "2" } })),
    run: (api) => api.track.metadata({ request_id: 1, metadata: { b: "3", foo: "bar" } }),
    check: (observed) => {
      assert.strictEqual(value(observed), true)
      assert.deepStrictEqual(observed.requests[0]?.metadata, { a: "1", b: "3", foo: "bar" })
    }
  },
  {
    name: "track.metadata: a non-string value is a ValidationError before any network call",
    setup: (api) => api.logRequest(logBody()),
    run: (api) => api.track.metadata({ request_id: 1, metadata: { n: 1 as unknown as string } }),
    check: (observed) => {
      failure(observed, PromptLayerError.ValidationError, "ValidationError")
      assert.strictEqual(observed.httpCalls, 0)
    }
  },
  {
    name: "track.prompt: resolves true and links the request to the template version",
    setup: async (api) => {
      await api.templates.publish(template)
      await api.logRequest(logBody())
    },
    run: (api) =>
      api.track.prompt({
        request_id: 1,
        prompt_name: "example",
        prompt_input_variables: { product: "toasters" },
        version: 1
      }),
    check: (observed) => {
      assert.strictEqual(value(observed), true)
      assert.deepInclude(observed.requests[0]?.prompt, {
        name: "example",
        version: 1,
        input_variables: { product: "toasters" }
      })
    }
  },
  {
    name: "track.prompt: an unknown template is the server's NotFoundError",
    setup: (api) => api.logRequest(logBody()),
    run: (api) => api.track.prompt({ request_id: 1, prompt_name: "nope", prompt_input_variables: {} }),
    check: (observed) => {
      failure(observed, PromptLayerError.NotFoundError, "NotFoundError")
    }
  },
  {
    name: "group.create + track.group: resolves the id, then true",
    setup: (api) => api.logRequest(logBody()),
    run: async (api) => {
      const group = await api.group.create()
      return [group, await api.track.group({ request_id: 1, group_id: group })]
    },
    check: (observed) => {
      assert.deepStrictEqual(value(observed), [1, true])
      assert.deepStrictEqual(observed.requests[0]?.group_ids, [1])
    }
  },
  {
    name: "track.group: a group id of 0 is a ValidationError before any network call",
    run: (api) => api.track.group({ request_id: 1, group_id: 0 }),
    check: (observed) => {
      failure(observed, PromptLayerError.ValidationError, "ValidationError")
      assert.strictEqual(observed.httpCalls, 0)
    }
  },
  {
    name: "templates.publish / get / all: versions, labels, items",
    run: async (api) => {
      const first = await api.templates.publish(template)
      const second = await api.templates.publish({
        ...template,
        prompt_template: chat("user", "Two jokes about {product}"),
        release_labels: ["staging"]
      })
      const byLabel = await api.templates.get("example", { label: "prod" })
      const latest = await api.templates.get("example")
      const rendered = await api.templates.get("example", { version: 2, input_variables: { product: "cats" } })
      const items = await api.templates.all({ per_page: 5 })
      return {
        versions: [first.version_number, second.version_number],
        byLabel: byLabel.version,
        latest: latest.version,
        rendered: rendered.prompt_template,
        items: items.map((item) => [item.prompt_name, item.version])
      }
    },
    check: (observed) => {
      const result = value(observed)
      assert.deepStrictEqual(result.versions, [1, 2])
      assert.strictEqual(result.byLabel, 1)
      assert.strictEqual(result.latest, 2)
      assert.strictEqual(result.rendered.messages[0].content[0].text, "Two jokes about cats")
      assert.deepStrictEqual(result.items, [["example", 2]])
    }
  },
  {
    name: "templates.get: an unknown template is NotFoundError; an empty name a ValidationError",
    run: async (api) => {
      const empty = await api.templates.get("").then(
        () => undefined,
        (error) => error
      )
      if (!(empty instanceof PromptLayerError.ValidationError)) return empty
      return api.templates.get("missing template")
    },
    check: (observed) => {
      const error = failure(observed, PromptLayerError.NotFoundError, "NotFoundError")
      assert.include(error.message, "POST /prompt-templates/missing%20template: not found (404)")
      assert.strictEqual(observed.httpCalls, 1)
    }
  },
  {
    name: "templates.publish: a commit message over 72 characters is a ValidationError",
    run: (api) => api.templates.publish({ ...template, commit_message: "x".repeat(73) }),
    check: (observed) => {
      failure(observed, PromptLayerError.ValidationError, "ValidationError")
      assert.strictEqual(observed.httpCalls, 0)
    }
  },
  {
    name: "429 with Retry-After, retries exhausted: rejects with RateLimitError (retryAfterMs)",
    retry: { ...fastRetry, maxAttempts: 2 },
    setup: (api) => api.logRequest(logBody()),
    faults: [{ route: "/library-track-score", status: 429, retryAfterSeconds: 2 }],
    run: (api) => api.track.score({ request_id: 1, score: 50 }),
    check: (observed) => {
      const error = failure(observed, PromptLayerError.RateLimitError, "RateLimitError")
      assert.strictEqual(error.retryAfterMs, 2000)
      assert.strictEqual(error.status, 429)
      assert.strictEqual(observed.httpCalls, 2)
    }
  },
  {
    name: "503 once: retried under the policy, then resolves",
    retry: { ...fastRetry, maxAttempts: 3 },
    faults: [{ route: "/create-group", status: 503, times: 1 }],
    run: (api) => api.group.create(),
    check: (observed) => {
      assert.strictEqual(value(observed), 1)
      assert.strictEqual(observed.httpCalls, 2)
    }
  },
  {
    name: "500, no retries: rejects with ServerError",
    faults: [{ route: "/log-request", status: 500 }],
    run: (api) => api.logRequest(logBody()),
    check: (observed) => {
      failure(observed, PromptLayerError.ServerError, "ServerError")
      assert.lengthOf(observed.requests, 0)
    }
  },
  {
    name: "a dropped connection: rejects with TransportError",
    faults: [{ route: "/prompt-templates", method: "GET", drop: true }],
    run: (api) => api.templates.all(),
    check: (observed) => {
      failure(observed, PromptLayerError.TransportError, "TransportError")
    }
  },
  {
    name: "a wrong key: rejects with AuthenticationError, and no key appears in it",
    apiKey: WRONG_KEY,
    run: (api) => api.logRequest(logBody()),
    check: (observed) => {
      const error = failure(observed, PromptLayerError.AuthenticationError, "AuthenticationError")
      assert.strictEqual(error.status, 401)
      assert.include(error.message, "PROMPTLAYER_API_KEY")
      assert.lengthOf(observed.requests, 0)
    }
  },
  {
    name: "an attempt slower than attemptTimeout: rejects with TimeoutError",
    retry: { ...fastRetry, maxAttempts: 1, attemptTimeout: "50 millis" },
    faults: [{ route: "/create-group", latencyMs: 400 }],
    run: (api) => api.group.create(),
    check: (observed) => {
      const error = failure(observed, PromptLayerError.TimeoutError, "TimeoutError")
      assert.strictEqual(error.reason, "attempt")
      assert.strictEqual(error.timeoutMs, 50)
    }
  }
]

describe("Promise bridge ≡ Effect API (every operation, against the emulator)", () => {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const viaEffect = await observe(testCase, effectApi)
      const viaPromise = await observe(testCase, promiseApi)
      testCase.check(viaEffect)
      testCase.check(viaPromise)
      // the same behaviour: same value or same error, same HTTP traffic, same stored state
      assert.deepStrictEqual(
        viaPromise.outcome.ok
          ? { value: withoutClock(viaPromise.outcome.value) }
          : describeError(viaPromise.outcome.error),
        viaEffect.outcome.ok ? { value: withoutClock(viaEffect.outcome.value) } : describeError(viaEffect.outcome.error)
      )
      assert.strictEqual(viaPromise.httpCalls, viaEffect.httpCalls)
      assert.deepStrictEqual(withoutClock(viaPromise.requests), withoutClock(viaEffect.requests))
    })
  }
})

describe("new PromptLayer()", () => {
  const withEnv = async <A>(env: Record<string, string | undefined>, f: () => Promise<A> | A): Promise<A> => {
    const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]))
    for (const [name, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[name]
      else process.env[name] = v
    }
    try {
      return await f()
    } finally {
      for (const [name, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[name]
        else process.env[name] = v
      }
    }
  }

  it("throws an Error naming PROMPTLAYER_API_KEY when there is no key", async () => {
    await withEnv({ PROMPTLAYER_API_KEY: undefined }, () => {
      assert.throws(() => new PromptLayer(), /PROMPTLAYER_API_KEY/)
      assert.throws(() => new PromptLayer({ apiKey: "  " }), /PROMPTLAYER_API_KEY/)
    })
  })

  it("throws at once for a bad baseURL or retry option, without the key in the message", () => {
    assert.throws(() => new PromptLayer({ apiKey: KEY, baseURL: "ftp://example.com" }), /http or https/)
    assert.throws(() => new PromptLayer({ apiKey: KEY, retry: { maxAttempts: 0 } }), RangeError)
    try {
      new PromptLayer({ apiKey: KEY, baseURL: "not a url" })
    } catch (error) {
      assertNoKey(error)
    }
  })

  it("falls back to PROMPTLAYER_API_KEY and PROMPTLAYER_BASE_URL", async () => {
    emulator.store.reset()
    const id = await withEnv({ PROMPTLAYER_API_KEY: KEY, PROMPTLAYER_BASE_URL: emulator.url }, async () => {
      const promptlayer = new PromptLayer()
      try {
        return (await promptlayer.logRequest(logBody())).id
      } finally {
        await promptlayer.close()
      }
    })
    assert.strictEqual(id, 1)
    assert.lengthOf(await readRequests(), 1)
  })

  it("rejects with the error instance itself, not a FiberFailure wrapper", async () => {
    emulator.store.reset()
    emulator.faults.add([{ route: "/create-group", status: 429, retryAfterSeconds: 1, times: 1 }])
    const promptlayer = new PromptLayer({ apiKey: KEY, baseURL: emulator.url, retry: { maxAttempts: 1 } })
    try {
      const error = await promptlayer.group.create().catch((e: unknown) => e)
      assert.strictEqual(Object.getPrototypeOf(error), PromptLayerError.RateLimitError.prototype)
      // the classes exported by promptlayer-effect/promise are the same classes
      assert.strictEqual(RateLimitError, PromptLayerError.RateLimitError)
      assert.instanceOf(error, RateLimitError)
      assert.strictEqual((error as PromptLayerError.RateLimitError)._tag, "RateLimitError")
      assert.notInclude(String(error), "FiberFailure")
    } finally {
      emulator.faults.clear()
      await promptlayer.close()
    }
  })

  it("throwOnError: false resolves the official SDK's soft values and warns; invalid input still rejects", async () => {
    emulator.store.reset()
    const warnings: Array<string> = []
    const warn = console.warn
    console.warn = (...args: Array<unknown>) => void warnings.push(args.join(" "))
    const promptlayer = new PromptLayer({
      apiKey: WRONG_KEY,
      baseURL: emulator.url,
      throwOnError: false,
      retry: { maxAttempts: 1 }
    })
    try {
      const soft = [
        await promptlayer.track.score({ request_id: 1, score: 1 }),
        await promptlayer.group.create(),
        await promptlayer.logRequest(logBody()),
        await promptlayer.trackRequest({
          function_name: "f",
          kwargs: {},
          request_response: {},
          request_start_time: T0,
          request_end_time: T1
        }),
        await promptlayer.templates.get("example"),
        await promptlayer.templates.publish(template),
        await promptlayer.templates.all()
      ]
      assert.deepStrictEqual(soft, [false, false, null, null, null, null, []])
      assert.lengthOf(warnings, 7)
      assert.include(warnings[0], "authentication failed (401)")
      for (const warning of warnings) assert.notInclude(warning, WRONG_KEY)
      const invalid = await promptlayer.track.score({ request_id: 1, score: 500 }).catch((e: unknown) => e)
      assert.instanceOf(invalid, PromptLayerError.ValidationError)
    } finally {
      console.warn = warn
      await promptlayer.close()
    }
  })

  it("flush() waits for calls in flight; close() waits too, is idempotent, and later calls reject", async () => {
    emulator.store.reset()
    emulator.faults.add([{ route: "/log-request", latencyMs: 150 }])
    const promptlayer = new PromptLayer({ apiKey: KEY, baseURL: emulator.url, retry: { maxAttempts: 1 } })
    try {
      const pending = [promptlayer.logRequest(logBody()), promptlayer.logRequest(logBody())]
      await promptlayer.flush()
      assert.lengthOf(await readRequests(), 2)
      const late = promptlayer.logRequest(logBody())
      const first = promptlayer.close()
      const second = promptlayer.close()
      assert.strictEqual(first, second)
      await first
      assert.strictEqual((await late).id, 3)
      assert.deepStrictEqual((await Promise.all(pending)).map((response) => response.id).sort(), [1, 2])
      const error = await promptlayer.track.score({ request_id: 1, score: 1 }).catch((e: unknown) => e)
      assert.instanceOf(error, PromptLayerClosedError)
      assert.include((error as Error).message, "track.score")
      await promptlayer.close()
    } finally {
      emulator.faults.clear()
    }
  })

  it("flush() never rejects, even when calls in flight fail", async () => {
    const promptlayer = new PromptLayer({ layer: PromptLayerTest.make().layer })
    const failed = promptlayer.track.score({ request_id: 7, score: 1 }).catch((e: unknown) => e)
    await promptlayer.flush()
    assert.instanceOf(await failed, PromptLayerError.NotFoundError)
    await promptlayer.close()
  })

  it("a process using the bridge exits by itself with nothing unhandled, with or without close()", () => {
    const script = (close: boolean) => `
      const { PromptLayer } = await import("./src/promise.ts")
      process.on("unhandledRejection", (reason) => { console.error("UNHANDLED", reason); process.exitCode = 3 })
      const promptlayer = new PromptLayer({ apiKey: "pl_child", baseURL: "http://127.0.0.1:9", retry: { maxAttempts: 2, initialDelay: 1 } })
      const error = await promptlayer.group.create().catch((e) => e)
      console.log(error._tag)
      ${close ? "await promptlayer.close()" : ""}
    `
    for (const close of [true, false]) {
      const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script(close)], {
        cwd: new URL("..", import.meta.url).pathname,
        encoding: "utf8",
        timeout: 30_000
      })
      assert.strictEqual(result.status, 0, `close=${close}: ${result.stderr}`)
      assert.strictEqual(result.stdout.trim(), "TransportError")
      assert.notInclude(result.stderr, "UNHANDLED")
    }
  })
})

describe("PromptLayer on a custom layer", () => {
  it("runEffect runs any client effect on the same runtime, e.g. every page of templates.stream", async () => {
    const pl = PromptLayerTest.make({
      templates: ["a", "b", "c"].map((name) => ({ prompt_name: name, prompt_template: chat("user", name) }))
    })
    const promptlayer = new PromptLayer({ layer: pl.layer })
    try {
      const names = await promptlayer.runEffect("templates.stream", (client) =>
        Stream.runCollect(client.templates.stream({ per_page: 2 })).pipe(
          Effect.map((items) => items.map((item) => item.prompt_name))
        )
      )
      assert.deepStrictEqual(names, ["c", "b", "a"])
      assert.deepStrictEqual(
        pl.calls().map((call) => call.operation),
        ["templates.all", "templates.all"]
      )
    } finally {
      await promptlayer.close()
    }
  })

  it("a layer that cannot be built rejects each call with a readable Error", async () => {
    const saved = process.env.PROMPTLAYER_API_KEY
    delete process.env.PROMPTLAYER_API_KEY
    const promptlayer = new PromptLayer({ layer: PromptLayerClient.layerFetch })
    try {
      const error = await promptlayer.group.create().catch((e: unknown) => e)
      assert.instanceOf(error, Error)
      assert.include((error as Error).message, "PROMPTLAYER_API_KEY")
    } finally {
      if (saved !== undefined) process.env.PROMPTLAYER_API_KEY = saved
      await promptlayer.close()
    }
  })
})

describe("switching from the official SDK is a change of import", () => {
  type Official = InstanceType<typeof OfficialPromptLayer>

  it("every call accepts the official SDK's argument types (checked by tsc) and resolves the same kind of value", async () => {
    // Values typed with the official `promptlayer` package's own parameter types.
    const log: Omit<Parameters<Official["logRequest"]>[0], "error_type"> = {
      provider: "openai",
      model: "gpt-4o-mini",
      input: { type: "chat", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] },
      output: { type: "chat", messages: [{ role: "assistant", content: [{ type: "text", text: "hello" }] }] },
      request_start_time: Date.now(),
      request_end_time: Date.now()
    }
    const publish: Parameters<Official["templates"]["publish"]>[0] = {
      prompt_name: "example",
      prompt_template: { type: "completion", content: [{ type: "text", text: "Once upon a time, {hero}" }] },
      release_labels: ["prod"]
    }
    const getParams: Parameters<Official["templates"]["get"]>[1] = { label: "prod" }
    const all: Parameters<Official["templates"]["all"]>[0] = { page: 1, per_page: 10 }
    const promptlayer = new PromptLayer({ layer: PromptLayerTest.make().layer })
    try {
      const { id } = await promptlayer.logRequest(log)
      const score: Parameters<Official["track"]["score"]>[0] = { request_id: id, score: 90, name: "quality" }
      const metadata: Parameters<Official["track"]["metadata"]>[0] = { request_id: id, metadata: { foo: "bar" } }
      const prompt: Parameters<Official["track"]["prompt"]>[0] = {
        request_id: id,
        prompt_name: "example",
        prompt_input_variables: { hero: "Ada" },
        label: "prod"
      }
      await promptlayer.templates.publish(publish)
      const groupId = await promptlayer.group.create()
      const group: Parameters<Official["track"]["group"]>[0] = { request_id: id, group_id: groupId }
      const results = [
        await promptlayer.track.score(score),
        await promptlayer.track.metadata(metadata),
        await promptlayer.track.prompt(prompt),
        await promptlayer.track.group(group)
      ]
      assert.deepStrictEqual(results, [true, true, true, true])
      assert.strictEqual((await promptlayer.templates.get("example", getParams)).version, 1)
      const items = await promptlayer.templates.all(all)
      assert.isArray(items)
      assert.strictEqual(items[0]?.prompt_name, "example")
    } finally {
      await promptlayer.close()
    }
  })
})

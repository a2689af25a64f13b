/**
 * A Promise client with the names and argument shapes of the official `promptlayer` npm SDK, for
 * code that does not use Effect. Switching is a change of import:
 *
 * ```ts
 * // import { PromptLayer } from "promptlayer"
 * import { PromptLayer } from "promptlayer-effect/promise"
 * ```
 *
 * Every call runs on one `ManagedRuntime` built from the same layers as the Effect API
 * ({@link PromptLayerClient.layerWith} over `PromptLayerHttp.layerDefault`: node:http on Node, fetch
 * elsewhere), with the same validation, retry and timeout policy. A call rejects with the typed error itself (`RateLimitError`, `ValidationError`,
 * ...): a real `Error` subclass, so both `instanceof` and `error._tag` work, and its message never
 * contains the API key.
 *
 * @example
 * ```ts
 * import { PromptLayer, RateLimitError } from "promptlayer-effect/promise"
 *
 * const promptlayer = new PromptLayer() // PROMPTLAYER_API_KEY, PROMPTLAYER_BASE_URL
 * const { id } = await promptlayer.logRequest({ provider: "openai", model: "gpt-4o-mini", ... })
 * try {
 *   await promptlayer.track.score({ request_id: id, score: 100 })
 * } catch (error) {
 *   if (error instanceof RateLimitError) console.log(`retry after ${error.retryAfterMs} ms`)
 * }
 * await promptlayer.close()
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Result from "effect/Result"
import * as PromptLayerClient from "./PromptLayerClient.js"
import * as PromptLayerConfig from "./PromptLayerConfig.js"
import * as PromptLayerHttp from "./PromptLayerHttp.js"
import { isPromptLayerError } from "./PromptLayerError.js"
import * as PromptLayerRetryPolicy from "./PromptLayerRetryPolicy.js"
import type * as S from "./PromptLayerSchema.js"

/**
 * Options of {@link PromptLayer}: those of the official SDK (`apiKey`, `baseURL`, `throwOnError`),
 * plus the retry policy and, for tests and custom stacks, the layer to run on.
 *
 * @since 0.1.0
 * @category Models
 */
export interface PromptLayerOptions<ThrowOnError extends boolean = true> {
  /** Defaults to the `PROMPTLAYER_API_KEY` environment variable. Not needed with `layer`. */
  readonly apiKey?: string | undefined
  /** Defaults to `PROMPTLAYER_BASE_URL`, then `https://api.promptlayer.com`. Not used with `layer`. */
  readonly baseURL?: string | undefined
  /**
   * `true` (the default): a failed call rejects with its typed error. `false`, as in the official
   * SDK: a failed call prints a warning and resolves `false` (tracking, `group.create`), `null`
   * (`templates.get`, `templates.publish`, `logRequest`, `trackRequest`) or `[]` (`templates.all`).
   * Invalid input always rejects with a `ValidationError`.
   */
  readonly throwOnError?: ThrowOnError | undefined
  /** The retry and timeout policy (see `PromptLayerRetryPolicy`). Not used with `layer`. */
  readonly retry?: PromptLayerRetryPolicy.Options | undefined
  /**
   * The largest response body read, in bytes (default: `PROMPTLAYER_MAX_RESPONSE_BYTES`, then
   * 32 MiB); a longer answer rejects with `ResponseTooLargeError`. Not used with `layer`.
   */
  readonly maxResponseBytes?: number | undefined
  /**
   * Run on this layer instead of the default HTTP client, e.g. `PromptLayerTest.layer` in tests or
   * `PromptLayerClient.layerFetch`. `apiKey`, `baseURL` and `retry` are then ignored.
   */
  readonly layer?: Layer.Layer<PromptLayerClient.PromptLayerClient, unknown> | undefined
}

/**
 * `Value` when `throwOnError` may be `false` (the soft result of a failed call), otherwise `never`.
 *
 * @since 0.1.0
 * @category Models
 */
export type Soft<ThrowOnError extends boolean, Value> = ThrowOnError extends false ? Value : never

/**
 * Parameters of {@link PromptLayer.templates}`.get`: those of the API, plus `langchain: true` to get
 * a LangChain prompt instead of the raw template.
 *
 * @since 0.1.0
 * @category Models
 */
export interface GetTemplateOptions extends S.GetTemplateParams {
  /**
   * Return a LangChain prompt (needs `@langchain/core`); see `PromptLayerLangChainPrompt`. The
   * overload of `templates.get` that accepts `true` comes with `promptlayer-effect/langchain`
   * (import anything from it, or `import type {} from "promptlayer-effect/langchain"`), so that
   * code which never asks for LangChain prompts compiles without `@langchain/core`.
   */
  readonly langchain?: boolean | undefined
}

/**
 * The type of {@link PromptLayer.templates}`.get`. Here: the raw template. Importing
 * `promptlayer-effect/langchain` adds (by declaration merging) the overload for
 * `{ langchain: true }`, which resolves a LangChain prompt.
 *
 * @since 0.1.0
 * @category Models
 */
export interface TemplatesGet<ThrowOnError extends boolean> {
  // biome-ignore lint/style/useShorthandFunctionType: an interface, so that promptlayer-effect/langchain can add an overload by declaration merging
  (
    name: string | number,
    params?: GetTemplateOptions & { readonly langchain?: false | undefined }
  ): Promise<S.GetTemplateResponse | Soft<ThrowOnError, null>>
}

/**
 * The error `PromptLayer` rejects with once `close()` was called.
 *
 * @since 0.1.0
 * @category Errors
 */
export class PromptLayerClosedError extends Error {
  override readonly name = "PromptLayerClosedError"
  constructor(operation: string) {
    super(`${operation}: this PromptLayer client is closed`)
  }
}

const readEnv = (name: string): string | undefined => {
  const value = typeof process === "undefined" ? undefined : process.env[name]
  return value === undefined || value.trim() === "" ? undefined : value
}

// The typed errors are `Error`s already: reject with them as they are. Anything else (a layer's
// ConfigError, a defect that is not an Error) becomes an Error with a readable message.
const toError = (cause: Cause.Cause<unknown>): unknown => {
  const squashed = Cause.squash(cause)
  if (squashed instanceof Error) return squashed
  const ownText =
    typeof squashed === "string" ||
    (typeof squashed === "object" && squashed !== null && squashed.toString !== Object.prototype.toString)
  return new Error(`PromptLayer: ${ownText ? String(squashed) : Cause.pretty(cause)}`, { cause: squashed })
}

const missingLangChain = (error: unknown) =>
  new Error(
    `templates.get(..., { langchain: true }) needs the optional peer dependency @langchain/core: npm install @langchain/core (${error instanceof Error ? error.message : String(error)})`
  )

/**
 * The PromptLayer client for Promise code, with the surface of the official `promptlayer` SDK:
 * `track.score/metadata/prompt/group`, `group.create`, `templates.get/publish/all`, `logRequest`,
 * plus `trackRequest`, `spans.bulk`, `traces.get/close`, `flush()` and `close()`.
 *
 * The constructor throws an `Error` naming `PROMPTLAYER_API_KEY` when no key is given or set.
 *
 * @since 0.1.0
 * @category Client
 */
export class PromptLayer<ThrowOnError extends boolean = true> {
  /** The runtime every call runs on; disposed by {@link PromptLayer.close}. */
  readonly runtime: ManagedRuntime.ManagedRuntime<PromptLayerClient.PromptLayerClient, unknown>
  readonly throwOnError: boolean
  readonly #pending = new Set<Promise<unknown>>()
  #closing: Promise<void> | undefined

  constructor(options: PromptLayerOptions<ThrowOnError> = {}) {
    this.throwOnError = options.throwOnError ?? true
    let layer = options.layer
    if (layer === undefined) {
      const apiKey = options.apiKey ?? readEnv("PROMPTLAYER_API_KEY")
      if (apiKey === undefined || apiKey.trim() === "") {
        throw new Error(
          "PromptLayer API key not provided. Pass { apiKey } to new PromptLayer() or set the PROMPTLAYER_API_KEY environment variable."
        )
      }
      const baseUrl = options.baseURL ?? readEnv("PROMPTLAYER_BASE_URL")
      // Checked here so that a bad option throws at once instead of rejecting every call.
      const maxFromEnv = readEnv("PROMPTLAYER_MAX_RESPONSE_BYTES")
      const maxResponseBytes = options.maxResponseBytes ?? (maxFromEnv === undefined ? undefined : Number(maxFromEnv))
      const config = PromptLayerConfig.make({ apiKey, baseUrl, maxResponseBytes })
      if (Result.isFailure(config)) throw new Error(`PromptLayer: ${config.failure}`)
      const retry = PromptLayerRetryPolicy.make(options.retry ?? {})
      layer = PromptLayerClient.layerWith({
        apiKey: config.success.apiKey,
        baseUrl: config.success.baseUrl,
        maxResponseBytes: config.success.maxResponseBytes,
        retry
      }).pipe(Layer.provide(PromptLayerHttp.layerDefault))
    }
    this.runtime = ManagedRuntime.make(layer)
  }

  /**
   * Runs an effect that uses the client on this instance's runtime and rejects with its typed
   * error. For what the official SDK has no method for, e.g. every page of the registry:
   *
   * ```ts
   * const all = await promptlayer.runEffect("templates.stream", (client) =>
   *   Stream.runCollect(client.templates.stream()))
   * ```
   */
  runEffect<A, E>(
    operation: string,
    f: (client: PromptLayerClient.Service) => Effect.Effect<A, E, PromptLayerClient.PromptLayerClient>
  ): Promise<A> {
    if (this.#closing !== undefined) return Promise.reject(new PromptLayerClosedError(operation))
    return this.#track(
      this.runtime
        .runPromiseExit(Effect.flatMap(PromptLayerClient.PromptLayerClient, f))
        .then((exit) => (Exit.isSuccess(exit) ? exit.value : Promise.reject(toError(exit.cause))))
    )
  }

  /** Remembers a call until it settles, for `flush()` and `close()`. */
  #track<A>(promise: Promise<A>): Promise<A> {
    const settled = promise.then(
      () => undefined,
      () => undefined
    )
    this.#pending.add(settled)
    void settled.then(() => this.#pending.delete(settled))
    return promise
  }

  #call<A, V>(
    operation: string,
    soft: V,
    f: (client: PromptLayerClient.Service) => Effect.Effect<A, unknown, PromptLayerClient.PromptLayerClient>
  ): Promise<A | Soft<ThrowOnError, V>> {
    const promise = this.runEffect(operation, f)
    if (this.throwOnError) return promise
    return promise.catch((error: unknown) => {
      if (!isPromptLayerError(error) || error._tag === "ValidationError") throw error
      console.warn(`PromptLayer ${operation} failed: ${error.message}`)
      return soft as Soft<ThrowOnError, V>
    })
  }

  /**
   * POST `/log-request`: log a request in blueprint format; resolves the response, whose `id` is
   * the new request id.
   */
  logRequest(body: S.LogRequestInput): Promise<S.LogRequestResponse | Soft<ThrowOnError, null>> {
    return this.#call("logRequest", null, (client) => client.logRequest(body))
  }

  /** POST `/track-request`: log a raw provider call; resolves the response with its `request_id`. */
  trackRequest(body: S.TrackRequestInput): Promise<S.TrackRequestResponse | Soft<ThrowOnError, null>> {
    return this.#call("trackRequest", null, (client) => client.trackRequest(body))
  }

  /** Tracking of an existing request; each resolves `true` (`false` for a soft failure). */
  readonly track: {
    /** An integer score 0–100, optionally named. */
    readonly score: (body: typeof S.TrackScoreBody.Encoded) => Promise<boolean>
    /** String → string metadata, merged into the request's. */
    readonly metadata: (body: typeof S.TrackMetadataBody.Encoded) => Promise<boolean>
    /** Links the request to a registry template with its input variables. */
    readonly prompt: (body: typeof S.TrackPromptBody.Encoded) => Promise<boolean>
    /** Adds the request to a group made with `group.create()`. */
    readonly group: (body: typeof S.TrackGroupBody.Encoded) => Promise<boolean>
  } = {
    score: (body) => this.#call("track.score", false, (client) => Effect.as(client.track.score(body), true)),
    metadata: (body) => this.#call("track.metadata", false, (client) => Effect.as(client.track.metadata(body), true)),
    prompt: (body) => this.#call("track.prompt", false, (client) => Effect.as(client.track.prompt(body), true)),
    group: (body) => this.#call("track.group", false, (client) => Effect.as(client.track.group(body), true))
  }

  /** Groups of requests. */
  readonly group: {
    /** POST `/create-group`: resolves the new group's id. */
    readonly create: () => Promise<number | Soft<ThrowOnError, false>>
  } = {
    create: () => this.#call("group.create", false, (client) => client.group.create())
  }

  /** The prompt registry. */
  readonly templates: {
    /**
     * A template by name (or id), at a `version` or `label`. With `langchain: true`, a LangChain
     * prompt (`ChatPromptTemplate` or `PromptTemplate`) instead: that overload comes with
     * `promptlayer-effect/langchain` (see {@link TemplatesGet}).
     */
    readonly get: TemplatesGet<ThrowOnError>
    /** POST `/rest/prompt-templates`: publish a new version; resolves the published version. */
    readonly publish: (body: S.PublishTemplateInput) => Promise<S.PublishTemplateResponse | Soft<ThrowOnError, null>>
    /** GET `/prompt-templates`: resolves the `items` of one page (like the official SDK). */
    readonly all: (params?: S.ListTemplatesParams) => Promise<ReadonlyArray<S.TemplateListItem>>
  } = {
    get: ((name: string | number, params?: GetTemplateOptions): Promise<unknown> => {
      if (params?.langchain !== true) {
        const { langchain: _, ...rest } = params ?? {}
        return this.#call("templates.get", null, (client) => client.templates.get(name, rest))
      }
      const { langchain: _, ...rest } = params
      if (this.#closing !== undefined) return Promise.reject(new PromptLayerClosedError("templates.get"))
      return this.#track(
        import("./PromptLayerLangChainPrompt.js").then(
          (module) => this.#call("templates.get", null, () => module.get(name, rest)),
          (error: unknown) => Promise.reject(missingLangChain(error))
        )
      )
    }) as TemplatesGet<ThrowOnError>,
    publish: (body) => this.#call("templates.publish", null, (client) => client.templates.publish(body)),
    all: (params) =>
      this.#call("templates.all", [], (client) => Effect.map(client.templates.all(params), (page) => page.items))
  }

  /** Traces: spans in batches. */
  readonly spans: {
    /**
     * POST `/spans-bulk`: resolves the response (`request_logs` gives the request id of each span's
     * `log_request` by `span_id`). Span times are nanoseconds (`bigint`, integer, digit string or
     * `Date`), sent as exact integers.
     */
    readonly bulk: (body: S.CreateSpansBulkInput) => Promise<S.CreateSpansBulkResponse | Soft<ThrowOnError, null>>
  } = {
    bulk: (body) => this.#call("spans.bulk", null, (client) => client.spans.bulk(body))
  }

  /** Traces by id. */
  readonly traces: {
    /** GET `/api/public/v2/traces/{trace_id}`: the spans of a trace with their request log ids. */
    readonly get: (traceId: string) => Promise<S.TraceDetailResponse | Soft<ThrowOnError, null>>
    /** POST `/api/public/v2/traces/{trace_id}/close`: later spans of the trace are rejected. */
    readonly close: (traceId: string) => Promise<S.CloseTraceResponse | Soft<ThrowOnError, null>>
  } = {
    get: (traceId) => this.#call("traces.get", null, (client) => client.traces.get(traceId)),
    close: (traceId) => this.#call("traces.close", null, (client) => client.traces.close(traceId))
  }

  /** Resolves once every call started so far has settled. Never rejects. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending])
  }

  /**
   * Waits for the calls in flight, then releases the runtime. Idempotent; calls made afterwards
   * reject with {@link PromptLayerClosedError}.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closing = this.flush().then(() => this.runtime.dispose())
    }
    return this.#closing
  }
}

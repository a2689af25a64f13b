/**
 * An in-memory PromptLayer for your tests: an implementation of the {@link PromptLayerClient}
 * service with no HTTP, backed by the same state machine as the emulator. It validates input like
 * the real client (same `ValidationError`s), answers like the real server (increasing ids, a prompt
 * registry with versions and labels, server-side rendering of `input_variables`, 404 for unknown
 * requests, ...), records every call, and can be scripted to fail.
 *
 * - `PromptLayerTest.layer`: a fresh in-memory PromptLayer per layer build; provides
 *   `PromptLayerClient` and the {@link PromptLayerTest} accessor (calls, requests, scripted failures).
 * - `PromptLayerTest.make()`: an instance you hold on to, with synchronous accessors and a `layer`
 *   that always uses this instance, for the Promise bridge (`new PromptLayer({ layer })`) and the
 *   LangChain handler.
 *
 * Calls are not retried unless you pass `retry` options: a scripted failure reaches your code at
 * once and no test needs a clock.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PromptLayerClient } from "promptlayer-effect"
 * import { PromptLayerTest } from "promptlayer-effect/testing"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* PromptLayerClient.PromptLayerClient
 *   const { id } = yield* client.logRequest({ ... })
 *   yield* client.track.score({ request_id: id, score: 90 })
 *   const test = yield* PromptLayerTest.PromptLayerTest
 *   const [request] = yield* test.requests
 *   // request.scores → { default: 90 }
 * }).pipe(Effect.provide(PromptLayerTest.layer))
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Http from "./internal/http.js"
import type * as Traces from "./internal/emulator/traces.js"
import * as Store from "./internal/emulator/store.js"
import { EncodedSpan, PromptLayerClient, type Service as ClientService, streamTemplates } from "./PromptLayerClient.js"
import { DecodeError, type PromptLayerError, ValidationError } from "./PromptLayerError.js"
import * as PromptLayerRetryPolicy from "./PromptLayerRetryPolicy.js"
import * as S from "./PromptLayerSchema.js"

/**
 * The name of a client operation, as recorded in {@link Call}.
 *
 * @since 0.1.0
 * @category Models
 */
export type Operation =
  | "logRequest"
  | "trackRequest"
  | "track.score"
  | "track.metadata"
  | "track.prompt"
  | "track.group"
  | "group.create"
  | "templates.get"
  | "templates.publish"
  | "templates.all"
  | "spans.bulk"
  | "traces.get"
  | "traces.close"

/**
 * One call of a client operation: what was passed, how many attempts it took, and the response
 * or the error it ended with.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Call {
  readonly operation: Operation
  /** The arguments as passed (for `templates.get`: `{ identifier, params }`). */
  readonly input: unknown
  /** Attempts made: 0 when the input was invalid, more than 1 when retried. */
  readonly attempts: number
  /** The response, when the call succeeded. */
  readonly response?: unknown
  /** The error, when the call failed. */
  readonly error?: PromptLayerError
}

/**
 * A request as the in-memory PromptLayer stored it: body, tags, metadata, scores, prompt link,
 * groups, tokens, latency, status.
 *
 * @since 0.1.0
 * @category Models
 */
export type StoredRequest = Store.StoredRequest

/**
 * A span as the in-memory PromptLayer stored it (times in nanoseconds as digit strings, the id of
 * the request log its `log_request` created).
 *
 * @since 0.2.0
 * @category Models
 */
export type StoredTraceSpan = Traces.StoredTraceSpan

/**
 * One trace of {@link Service.traces}: root name, duration, status, span count, tokens.
 *
 * @since 0.2.0
 * @category Models
 */
export type TraceSummary = Traces.TraceSummary

/**
 * A registry template with its versions and release labels.
 *
 * @since 0.1.0
 * @category Models
 */
export type StoredTemplate = Store.StoredTemplate

/**
 * Which calls a scripted failure applies to: one operation, several, or all (the default).
 *
 * @since 0.1.0
 * @category Models
 */
export interface FailOptions {
  readonly operation?: Operation | ReadonlyArray<Operation> | undefined
}

/**
 * The accessor service: inspect what your code did, script failures, seed the registry.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** Every call so far, oldest first. */
  readonly calls: Effect.Effect<ReadonlyArray<Call>>
  /** The logged requests, newest first. */
  readonly requests: Effect.Effect<ReadonlyArray<StoredRequest>>
  /** One logged request. */
  readonly request: (id: number) => Effect.Effect<Option.Option<StoredRequest>>
  /** The registry, newest first. */
  readonly templates: Effect.Effect<ReadonlyArray<StoredTemplate>>
  /** Ids of the groups created so far. */
  readonly groups: Effect.Effect<ReadonlyArray<number>>
  /** Every trace received on `spans.bulk`, newest first. */
  readonly traces: Effect.Effect<ReadonlyArray<TraceSummary>>
  /** The spans of one trace, in arrival order (empty when unknown). */
  readonly spans: (traceId: string) => Effect.Effect<ReadonlyArray<StoredTraceSpan>>
  /**
   * The next `count` attempts (of `options.operation`, or of any operation) fail with `error`
   * (an error value, or a function of the operation) instead of reaching the store.
   */
  readonly failNext: (
    count: number,
    error: PromptLayerError | ((operation: Operation) => PromptLayerError),
    options?: FailOptions
  ) => Effect.Effect<void>
  /** Publishes a template version to the registry without recording a call. */
  readonly seedTemplate: (body: S.PublishTemplateInput) => Effect.Effect<S.PublishTemplateResponse, ValidationError>
  /** Forgets every call, request, group, template and scripted failure; ids start again at 1. */
  readonly reset: Effect.Effect<void>
}

/**
 * The accessor service of the in-memory PromptLayer.
 *
 * @since 0.1.0
 * @category Context
 */
export class PromptLayerTest extends Context.Service<PromptLayerTest, Service>()(
  "promptlayer-effect/PromptLayerTest"
) {}

/**
 * Options of {@link make} and {@link layerWith}.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** Templates to publish before the first call (each one a new version). */
  readonly templates?: ReadonlyArray<S.PublishTemplateInput> | undefined
  /** Run each call under this retry policy (scripted failures are then retried). Default: no retry. */
  readonly retry?: PromptLayerRetryPolicy.Options | undefined
  /** The clock for stored timestamps. */
  readonly now?: (() => Date) | undefined
}

/**
 * An in-memory PromptLayer you hold on to: synchronous accessors, and a `layer` (client and
 * accessor service) that always uses this instance, however many runtimes build it.
 *
 * @example
 * ```ts
 * const pl = PromptLayerTest.make()
 * const promptlayer = new PromptLayer({ layer: pl.layer })
 * await promptlayer.group.create()
 * pl.calls().map((call) => call.operation) // ["group.create"]
 * ```
 *
 * @since 0.1.0
 * @category Models
 */
export interface Instance {
  /** Provides `PromptLayerClient` and {@link PromptLayerTest}, backed by this instance. */
  readonly layer: Layer.Layer<PromptLayerClient | PromptLayerTest>
  /** The client service itself. */
  readonly client: ClientService
  /** The accessor service itself. */
  readonly service: Service
  readonly calls: () => ReadonlyArray<Call>
  readonly requests: () => ReadonlyArray<StoredRequest>
  readonly request: (id: number) => StoredRequest | undefined
  readonly templates: () => ReadonlyArray<StoredTemplate>
  readonly groups: () => ReadonlyArray<number>
  readonly traces: () => ReadonlyArray<TraceSummary>
  readonly spans: (traceId: string) => ReadonlyArray<StoredTraceSpan>
  readonly failNext: (
    count: number,
    error: PromptLayerError | ((operation: Operation) => PromptLayerError),
    options?: FailOptions
  ) => void
  readonly seedTemplate: (body: S.PublishTemplateInput) => S.PublishTemplateResponse
  readonly reset: () => void
}

interface Script {
  remaining: number
  readonly error: (operation: Operation) => PromptLayerError
  readonly operations: ReadonlySet<Operation> | undefined
}

const identity = (text: string) => text

const validated = <A, I>(operation: string, schema: Schema.Codec<A, I>, input: unknown) =>
  Http.validate(operation, schema, input)

/**
 * Creates an in-memory PromptLayer.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Instance => {
  const store = new Store.Store(options.now === undefined ? {} : { now: options.now })
  const policy = PromptLayerRetryPolicy.make({ maxAttempts: 1, ...options.retry })
  let calls: Array<Call> = []
  let scripts: Array<Script> = []

  const scripted = (operation: Operation): PromptLayerError | undefined => {
    for (const script of scripts) {
      if (script.remaining <= 0) continue
      if (script.operations !== undefined && !script.operations.has(operation)) continue
      script.remaining--
      return script.error(operation)
    }
    return undefined
  }

  // The wire as the HTTP client would send it: JSON, with Dates as strings and undefined dropped.
  const wire = (operation: string, body: unknown) =>
    Effect.map(Http.stringify(operation, body), (text) => (text === undefined ? {} : JSON.parse(text)))

  const call = <A, I>(
    operation: Operation,
    input: unknown,
    spec: {
      readonly endpoint: string
      /** Validates the input into the wire body (before any attempt). */
      readonly prepare: Effect.Effect<unknown, ValidationError>
      readonly run: (body: unknown) => unknown
      readonly schema: Schema.Codec<A, I>
    }
  ): Effect.Effect<A, PromptLayerError> =>
    Effect.suspend(() => {
      let attempts = 0
      const attempt = (body: unknown) =>
        Effect.suspend((): Effect.Effect<A, PromptLayerError> => {
          attempts++
          const failure = scripted(operation)
          if (failure !== undefined) return Effect.fail(failure)
          const result = Store.attempt(() => spec.run(body))
          if (!result.ok) {
            const { status, body: errorBody } = result.failure
            return Effect.fail(
              Http.errorForStatus({ status, headers: {}, text: JSON.stringify(errorBody) }, spec.endpoint, identity)
            )
          }
          return Schema.decodeUnknownEffect(spec.schema)(result.value).pipe(
            Effect.mapError(
              (error) =>
                new DecodeError({
                  endpoint: spec.endpoint,
                  status: 200,
                  issue: error.message,
                  excerpt: Http.truncate(JSON.stringify(result.value), 200)
                })
            )
          )
        })
      return spec.prepare.pipe(
        Effect.flatMap((body) => PromptLayerRetryPolicy.apply(policy, spec.endpoint, attempt(body))),
        Effect.tapError((error) => Effect.sync(() => calls.push({ operation, input, attempts, error }))),
        Effect.tap((response) => Effect.sync(() => calls.push({ operation, input, attempts, response }))),
        Effect.withSpan(`PromptLayerTest.${operation}`, { attributes: { "promptlayer.endpoint": spec.endpoint } })
      )
    })

  const prepared = <A, I>(operation: string, schema: Schema.Codec<A, I>, input: unknown) =>
    Effect.flatMap(validated(operation, schema, input), (body) => wire(operation, body))

  const track =
    <I>(operation: Operation, endpoint: string, schema: Schema.Codec<unknown, I>, run: (body: unknown) => unknown) =>
    (input: I): Effect.Effect<void, PromptLayerError> =>
      Effect.asVoid(
        call(operation, input, {
          endpoint,
          prepare: prepared(operation, schema, input),
          run,
          schema: S.SuccessResponse
        })
      )

  const publishWire = (operation: string, input: S.PublishTemplateInput) =>
    Effect.flatMap(validated(operation, S.PublishTemplateBody, input), (body) =>
      wire(operation, { prompt_template: body, prompt_version: body, release_labels: body.release_labels ?? null })
    )

  const listTemplates = (params?: S.ListTemplatesParams) =>
    call("templates.all", params, {
      endpoint: "GET /prompt-templates",
      prepare: prepared("templates.all", S.ListTemplatesParams, params ?? {}),
      run: (query) => store.listTemplates(query),
      schema: S.ListTemplatesResponse
    })

  /** An encoded span as the server reads it, its nanosecond times as digit strings (exact, unlike a JSON number). */
  const encodedWire = (span: EncodedSpan): unknown =>
    JSON.parse(span.text.replace(/^\{"start_time":(\d+),"end_time":(\d+)/, '{"start_time":"$1","end_time":"$2"'))

  const tracePath = (traceId: unknown) =>
    `/api/public/v2/traces/${typeof traceId === "string" ? encodeURIComponent(traceId) : "{invalid}"}`

  const client: ClientService = {
    spans: {
      bulk: (input) =>
        call("spans.bulk", input, {
          endpoint: "POST /spans-bulk",
          prepare: prepared("spans.bulk", S.CreateSpansBulk, input),
          run: (body) => store.traces.createSpansBulk(body),
          schema: S.CreateSpansBulkResponse
        }),
      bulkEncoded: (spans, bulkOptions) =>
        call("spans.bulk", spans, {
          endpoint: "POST /spans-bulk",
          prepare: spans.every((span) => span instanceof EncodedSpan)
            ? Effect.sync(() => ({
                spans: spans.map(encodedWire),
                ...(bulkOptions?.closeAfter === undefined ? {} : { close_after: bulkOptions.closeAfter })
              }))
            : Effect.fail(
                new ValidationError({ operation: "spans.bulkEncoded", issue: "expected spans made by encodeSpan" })
              ),
          run: (body) => store.traces.createSpansBulk(body),
          schema: S.CreateSpansBulkResponse
        })
    },
    traces: {
      get: (traceId) =>
        call("traces.get", traceId, {
          endpoint: `GET ${tracePath(traceId)}`,
          prepare: validated("traces.get", S.TraceId, traceId),
          run: (id) => store.traces.getTrace(id as string),
          schema: S.TraceDetailResponse
        }),
      close: (traceId) =>
        call("traces.close", traceId, {
          endpoint: `POST ${tracePath(traceId)}/close`,
          prepare: validated("traces.close", S.TraceId, traceId),
          run: (id) => store.traces.closeTrace(id as string),
          schema: S.CloseTraceResponse
        })
    },
    logRequest: (input) =>
      call("logRequest", input, {
        endpoint: "POST /log-request",
        prepare: prepared("logRequest", S.LogRequestBody, input),
        run: (body) => store.logRequest(body),
        schema: S.LogRequestResponse
      }),
    trackRequest: (input) =>
      call("trackRequest", input, {
        endpoint: "POST /track-request",
        prepare: prepared("trackRequest", S.TrackRequestBody, input),
        run: (body) => store.trackRequest(body),
        schema: S.TrackRequestResponse
      }),
    track: {
      score: track("track.score", "POST /library-track-score", S.TrackScoreBody, (body) => store.trackScore(body)),
      metadata: track("track.metadata", "POST /library-track-metadata", S.TrackMetadataBody, (body) =>
        store.trackMetadata(body)
      ),
      prompt: track("track.prompt", "POST /library-track-prompt", S.TrackPromptBody, (body) => store.trackPrompt(body)),
      group: track("track.group", "POST /track-group", S.TrackGroupBody, (body) => store.trackGroup(body))
    },
    group: {
      create: () =>
        Effect.map(
          call("group.create", undefined, {
            endpoint: "POST /create-group",
            prepare: Effect.succeed({}),
            run: () => store.createGroup(),
            schema: S.CreateGroupResponse
          }),
          (response) => response.id
        )
    },
    templates: {
      get: (identifier, params) =>
        call(
          "templates.get",
          { identifier, params },
          {
            endpoint: `POST /prompt-templates/${encodeURIComponent(String(identifier))}`,
            prepare: Effect.zip(
              validated("templates.get", Schema.Union([S.Name, S.Id]), identifier),
              prepared("templates.get", S.GetTemplateParams, params ?? {})
            ),
            run: (prepared) => {
              const [name, body] = prepared as [string | number, unknown]
              return store.getTemplate(name, body)
            },
            schema: S.GetTemplateResponse
          }
        ),
      publish: (input) =>
        call("templates.publish", input, {
          endpoint: "POST /rest/prompt-templates",
          prepare: publishWire("templates.publish", input),
          run: (body) => store.publishTemplate(body),
          schema: S.PublishTemplateResponse
        }),
      all: listTemplates,
      stream: streamTemplates(listTemplates)
    }
  }

  const seed = (input: S.PublishTemplateInput): Effect.Effect<S.PublishTemplateResponse, ValidationError> =>
    Effect.flatMap(publishWire("seedTemplate", input), (body) =>
      Effect.try({
        try: () => Schema.decodeUnknownSync(S.PublishTemplateResponse)(store.publishTemplate(body)),
        catch: (error) =>
          new ValidationError({
            operation: "seedTemplate",
            issue: error instanceof Store.StoreFailure ? JSON.stringify(error.body) : String(error)
          })
      })
    )

  const failNext: Instance["failNext"] = (count, error, failOptions) => {
    const operations = failOptions?.operation
    scripts.push({
      remaining: count,
      error: typeof error === "function" ? error : () => error,
      operations:
        operations === undefined ? undefined : new Set(typeof operations === "string" ? [operations] : operations)
    })
  }

  const reset = () => {
    store.reset()
    calls = []
    scripts = []
  }

  const service: Service = {
    calls: Effect.sync(() => [...calls]),
    requests: Effect.sync(() => store.requests()),
    request: (id) => Effect.sync(() => Option.fromNullishOr(store.request(id))),
    templates: Effect.sync(() => store.templatesList()),
    groups: Effect.sync(() => store.groupIds()),
    traces: Effect.sync(() => store.traces.list()),
    spans: (traceId) => Effect.sync(() => store.traces.spansOf(traceId)),
    failNext: (count, error, failOptions) => Effect.sync(() => failNext(count, error, failOptions)),
    seedTemplate: seed,
    reset: Effect.sync(reset)
  }

  for (const template of options.templates ?? []) Effect.runSync(seed(template))

  return {
    layer: Layer.mergeAll(Layer.succeed(PromptLayerClient, client), Layer.succeed(PromptLayerTest, service)),
    client,
    service,
    calls: () => [...calls],
    requests: () => store.requests(),
    request: (id) => store.request(id),
    templates: () => store.templatesList(),
    groups: () => store.groupIds(),
    traces: () => store.traces.list(),
    spans: (traceId) => store.traces.spansOf(traceId),
    failNext,
    seedTemplate: (body) => Effect.runSync(seed(body)),
    reset
  }
}

/**
 * A fresh in-memory PromptLayer for each build, with options (templates to seed, retry policy).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerWith = (options: Options): Layer.Layer<PromptLayerClient | PromptLayerTest> =>
  Layer.unwrap(Effect.sync(() => make(options).layer))

/**
 * A fresh in-memory PromptLayer for each build: provides `PromptLayerClient` (no HTTP) and the
 * {@link PromptLayerTest} accessor.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer: Layer.Layer<PromptLayerClient | PromptLayerTest> = layerWith({})

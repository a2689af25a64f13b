/**
 * The PromptLayer REST API as an Effect service.
 *
 * Operations take and return the wire shapes (snake_case, as the official SDKs do), validate
 * their input before any network call, run under the {@link PromptLayerRetryPolicy} and fail with
 * a typed {@link PromptLayerError}. Each is traced as a span named `PromptLayerClient.<operation>`
 * with the endpoint as the `promptlayer.endpoint` attribute.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PromptLayerClient } from "promptlayer-effect"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* PromptLayerClient.PromptLayerClient
 *   const { id } = yield* client.logRequest({
 *     provider: "openai",
 *     model: "gpt-4o-mini",
 *     input: { type: "chat", messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }] },
 *     output: { type: "chat", messages: [{ role: "assistant", content: [{ type: "text", text: "Hello!" }] }] },
 *     request_start_time: new Date(),
 *     request_end_time: new Date()
 *   })
 *   yield* client.track.score({ request_id: id, score: 100 })
 * })
 *
 * // PROMPTLAYER_API_KEY (and optionally PROMPTLAYER_BASE_URL) from the environment, over fetch
 * Effect.runPromise(program.pipe(Effect.provide(PromptLayerClient.layerFetch)))
 * ```
 *
 * @since 0.1.0
 */
import type * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Headers, HttpBody, HttpClient, HttpClientRequest } from "effect/http"
import * as Http from "./internal/http.js"
import * as SpanWire from "./internal/spanWire.js"
import * as PromptLayerConfig from "./PromptLayerConfig.js"
import * as PromptLayerHttp from "./PromptLayerHttp.js"
import { type PromptLayerError, ValidationError } from "./PromptLayerError.js"
import * as PromptLayerRetryPolicy from "./PromptLayerRetryPolicy.js"
import * as S from "./PromptLayerSchema.js"

/**
 * The operations of the client.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** POST `/log-request`: log a request in blueprint format. Returns the new request's `id`. */
  readonly logRequest: (body: S.LogRequestInput) => Effect.Effect<S.LogRequestResponse, PromptLayerError>
  /** POST `/track-request`: log a raw provider call. Returns its `request_id`. */
  readonly trackRequest: (body: S.TrackRequestInput) => Effect.Effect<S.TrackRequestResponse, PromptLayerError>
  readonly track: {
    /** POST `/library-track-score`: an integer score 0–100, optionally named. */
    readonly score: (body: typeof S.TrackScoreBody.Encoded) => Effect.Effect<void, PromptLayerError>
    /** POST `/library-track-metadata`: string → string metadata, merged into the request's. */
    readonly metadata: (body: typeof S.TrackMetadataBody.Encoded) => Effect.Effect<void, PromptLayerError>
    /** POST `/library-track-prompt`: link the request to a registry template. */
    readonly prompt: (body: typeof S.TrackPromptBody.Encoded) => Effect.Effect<void, PromptLayerError>
    /** POST `/track-group`: add the request to a group. */
    readonly group: (body: typeof S.TrackGroupBody.Encoded) => Effect.Effect<void, PromptLayerError>
  }
  readonly group: {
    /** POST `/create-group`: returns the new group's id. */
    readonly create: () => Effect.Effect<number, PromptLayerError>
  }
  readonly templates: {
    /** POST `/prompt-templates/{name}`: a template by name or id, at a version or label. */
    readonly get: (
      identifier: string | number,
      params?: S.GetTemplateParams
    ) => Effect.Effect<S.GetTemplateResponse, PromptLayerError>
    /** POST `/rest/prompt-templates`: publish a new version. */
    readonly publish: (body: S.PublishTemplateInput) => Effect.Effect<S.PublishTemplateResponse, PromptLayerError>
    /** GET `/prompt-templates`: one page of templates, with the pagination envelope. */
    readonly all: (params?: S.ListTemplatesParams) => Effect.Effect<S.ListTemplatesResponse, PromptLayerError>
    /** Every page of `GET /prompt-templates` from `params.page` (default 1) on, as a stream. */
    readonly stream: (params?: S.ListTemplatesParams) => Stream.Stream<S.TemplateListItem, PromptLayerError>
  }
  readonly spans: {
    /**
     * POST `/spans-bulk`: store spans (atomic on the server: one invalid span fails the batch with
     * 422). Span times are nanoseconds, written as exact integers. Returns the stored spans, the
     * request logs created for spans with a `log_request` (`{ id, span_id }`), and the spans
     * rejected because their trace is closed.
     */
    readonly bulk: (body: S.CreateSpansBulkInput) => Effect.Effect<S.CreateSpansBulkResponse, PromptLayerError>
    /**
     * POST `/spans-bulk` of spans validated and encoded beforehand with {@link encodeSpan}: for
     * batchers, which need each span's size before they send it and should not encode it twice.
     */
    readonly bulkEncoded: (
      spans: ReadonlyArray<EncodedSpan>,
      options?: { readonly closeAfter?: boolean | undefined }
    ) => Effect.Effect<S.CreateSpansBulkResponse, PromptLayerError>
  }
  readonly traces: {
    /** GET `/api/public/v2/traces/{trace_id}`: the spans of a trace, with their request log ids. */
    readonly get: (traceId: string) => Effect.Effect<S.TraceDetailResponse, PromptLayerError>
    /** POST `/api/public/v2/traces/{trace_id}/close`: later spans of this trace are rejected (409 if closed already). */
    readonly close: (traceId: string) => Effect.Effect<S.CloseTraceResponse, PromptLayerError>
  }
}

/**
 * What is kept of a span's `log_request` once encoded: enough to describe the request log it
 * creates (see `PromptLayerTracker.DeliveredLog`) without holding its messages.
 *
 * @since 0.2.0
 * @category Models
 */
export interface LogFacts {
  readonly tags: ReadonlyArray<string>
  readonly metadata: Readonly<Record<string, string>>
  readonly provider: string
  readonly model: string
  readonly status: "SUCCESS" | "WARNING" | "ERROR"
  readonly promptName: string | undefined
}

/**
 * A span validated against the `Span` schema and encoded to its JSON text (nanosecond times exact),
 * with its size in UTF-8 bytes. Made only by {@link encodeSpan}.
 *
 * @since 0.2.0
 * @category Models
 */
export class EncodedSpan {
  /** @internal */
  constructor(
    readonly text: string,
    readonly bytes: number,
    readonly traceId: string,
    readonly spanId: string,
    readonly log: LogFacts | undefined
  ) {}
}

const decodeSpan = Schema.decodeUnknownResult(S.Span)

/**
 * Validates a span (as `spans.bulk` would) and encodes it for `spans.bulkEncoded`, synchronously:
 * the encoded span, or the `ValidationError` `spans.bulk` would fail with, as a `Result` (it was
 * `encodeSpanEither`, returning an `Either`, on the Effect 3 line).
 *
 * @example
 * ```ts
 * const encoded = PromptLayerClient.encodeSpanResult(span) // Result<EncodedSpan, ValidationError>
 * if (Result.isSuccess(encoded)) yield* client.spans.bulkEncoded([encoded.success])
 * ```
 *
 * @since 0.2.0
 * @category Constructors
 */
export const encodeSpanResult = (span: S.SpanInput): Result.Result<EncodedSpan, ValidationError> => {
  const fast = decodeSpan(span)
  if (Result.isFailure(fast)) {
    // Only a span that fails pays for the readable report (every issue, with paths).
    const report = Effect.runSync(Effect.result(Http.validate("spans.bulk", S.Span, span)))
    return Result.fail(
      Result.isFailure(report)
        ? report.failure
        : new ValidationError({ operation: "spans.bulk", issue: "invalid span" })
    )
  }
  const valid = fast.success
  let text: string
  try {
    text = SpanWire.encodeSpan(valid)
  } catch (error) {
    return Result.fail(
      new ValidationError({
        operation: "spans.bulk",
        issue: `the span cannot be sent as JSON: ${error instanceof Error ? error.message : String(error)}`
      })
    )
  }
  return Result.succeed(
    new EncodedSpan(
      text,
      SpanWire.utf8Length(text),
      valid.context.trace_id,
      valid.context.span_id,
      SpanWire.logFactsOf(valid.log_request)
    )
  )
}

/**
 * {@link encodeSpanResult} as an Effect.
 *
 * @since 0.2.0
 * @category Constructors
 */
export const encodeSpan = (span: S.SpanInput): Effect.Effect<EncodedSpan, ValidationError> =>
  Effect.suspend(() => Effect.fromResult(encodeSpanResult(span)))

/**
 * The client service.
 *
 * @since 0.1.0
 * @category Context
 */
export class PromptLayerClient extends Context.Service<PromptLayerClient, Service>()(
  "promptlayer-effect/PromptLayerClient"
) {}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category Models
 */
export interface MakeOptions {
  /** Change the `HttpClient` used (add headers, a proxy, logging, ...). */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * Builds the client from an `HttpClient`, the configuration and the retry policy.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = Effect.fnUntraced(function* (options: MakeOptions = {}) {
  const config = yield* PromptLayerConfig.PromptLayerConfig
  const policy = yield* PromptLayerRetryPolicy.PromptLayerRetryPolicy
  const baseClient = yield* HttpClient.HttpClient
  const apiKey = config.apiKey
  const httpClient = (options.transformClient ?? ((c: HttpClient.HttpClient) => c))(
    baseClient.pipe(
      HttpClient.mapRequest((request) =>
        request.pipe(
          HttpClientRequest.prependUrl(config.baseUrl),
          HttpClientRequest.setHeader("x-api-key", Redacted.value(apiKey)),
          HttpClientRequest.acceptJson
        )
      )
    )
  )
  const scrub = Http.scrubber(apiKey)

  const call = <A, I>(spec: {
    readonly method: "GET" | "POST"
    readonly path: string
    readonly body?: unknown
    /** JSON text written as is (span times must not go through `JSON.stringify`). */
    readonly rawBody?: string
    readonly bodyAuth?: boolean
    readonly query?: ReadonlyArray<readonly [string, string]>
    readonly schema: Schema.Codec<A, I>
  }): Effect.Effect<A, PromptLayerError> => {
    const endpoint = scrub(`${spec.method} ${spec.path.split("?")[0]}`)
    const body =
      spec.method === "GET" || spec.rawBody !== undefined
        ? undefined
        : spec.bodyAuth
          ? { ...(spec.body as object | undefined), api_key: Redacted.value(apiKey) }
          : (spec.body ?? {})
    const raw = spec.rawBody
    const sender =
      raw === undefined
        ? httpClient
        : // A raw string body: the HTTP client writes it as is (node:http encodes it into the socket), no
          // UTF-8 copy of a whole batch in JavaScript first; its length is counted without one too.
          HttpClient.mapRequest(httpClient, (request) =>
            HttpClientRequest.setBody(
              request,
              HttpBody.raw(raw, { contentType: "application/json", contentLength: SpanWire.utf8Length(raw) })
            )
          )
    const attempt = Http.send(sender, {
      method: spec.method,
      path: spec.path,
      endpoint,
      body,
      query: spec.query ?? [],
      scrub,
      maxResponseBytes: config.maxResponseBytes
    }).pipe(
      redactingApiKey,
      Effect.flatMap((response) => Http.decode(response, endpoint, spec.schema, scrub))
    )
    return PromptLayerRetryPolicy.apply(policy, endpoint, attempt)
  }

  // The span covers validation as well as every attempt, so a call rejected before the network is traced too.
  // No captured stack trace: its frame would always be this helper, and capturing it costs ~50 µs per call.
  const traced =
    (operation: string, endpoint: string) =>
    <A>(effect: Effect.Effect<A, PromptLayerError>): Effect.Effect<A, PromptLayerError> =>
      Effect.withSpan(effect, `PromptLayerClient.${operation}`, {
        kind: "client",
        captureStackTrace: false,
        attributes: { "promptlayer.endpoint": endpoint }
      })

  const validated = <A, I>(operation: string, schema: Schema.Codec<A, I>, input: unknown) =>
    Http.validate(operation, schema, input, scrub)

  const track =
    <A, I>(operation: string, path: string, schema: Schema.Codec<A, I>) =>
    (input: I) =>
      Effect.flatMap(validated(operation, schema, input), (body) =>
        call({ method: "POST", path, body, bodyAuth: true, schema: S.SuccessResponse })
      ).pipe(Effect.asVoid, traced(operation, `POST ${path}`))

  const getTemplate = (identifier: string | number, params?: S.GetTemplateParams) =>
    Effect.gen(function* () {
      const name = yield* validated("templates.get", Schema.Union([S.Name, S.Id]), identifier)
      const body = yield* validated("templates.get", S.GetTemplateParams, params ?? {})
      return yield* call({
        method: "POST",
        path: `/prompt-templates/${encodeURIComponent(String(name))}`,
        body,
        bodyAuth: true,
        schema: S.GetTemplateResponse
      })
    }).pipe(
      traced(
        "templates.get",
        // The label is built before validation: an identifier that is not a string or number must not throw here.
        `POST /prompt-templates/${typeof identifier === "string" || typeof identifier === "number" ? encodeURIComponent(String(identifier)) : "{invalid}"}`
      )
    )

  const listTemplates = (params?: S.ListTemplatesParams) =>
    Effect.flatMap(validated("templates.all", S.ListTemplatesParams, params ?? {}), (query) =>
      call({ method: "GET", path: "/prompt-templates", query: Http.queryOf(query), schema: S.ListTemplatesResponse })
    ).pipe(traced("templates.all", "GET /prompt-templates"))

  const tracePath = (traceId: unknown) =>
    `/api/public/v2/traces/${typeof traceId === "string" ? encodeURIComponent(traceId) : "{invalid}"}`

  const spansBulk = (input: S.CreateSpansBulkInput) =>
    validated("spans.bulk", S.CreateSpansBulk, input).pipe(
      Effect.flatMap((body) =>
        Effect.try({
          try: () => SpanWire.encodeBulk(body),
          catch: (error) =>
            new ValidationError({
              operation: "spans.bulk",
              issue: `the body cannot be sent as JSON: ${error instanceof Error ? error.message : String(error)}`
            })
        })
      ),
      Effect.flatMap((rawBody) =>
        call({ method: "POST", path: "/spans-bulk", rawBody, schema: S.CreateSpansBulkResponse })
      ),
      traced("spans.bulk", "POST /spans-bulk")
    )

  const getTrace = (traceId: string) =>
    Effect.flatMap(validated("traces.get", S.TraceId, traceId), (id) =>
      call({ method: "GET", path: tracePath(id), schema: S.TraceDetailResponse })
    ).pipe(traced("traces.get", "GET /api/public/v2/traces/{trace_id}"))

  const closeTrace = (traceId: string) =>
    Effect.flatMap(validated("traces.close", S.TraceId, traceId), (id) =>
      call({ method: "POST", path: `${tracePath(id)}/close`, body: {}, schema: S.CloseTraceResponse })
    ).pipe(traced("traces.close", "POST /api/public/v2/traces/{trace_id}/close"))

  const bulkEncoded = (spans: ReadonlyArray<EncodedSpan>, options?: { readonly closeAfter?: boolean | undefined }) =>
    Effect.suspend(() =>
      spans.every((span) => span instanceof EncodedSpan)
        ? call({
            method: "POST",
            path: "/spans-bulk",
            rawBody: SpanWire.bulkBody(
              spans.map((span) => span.text),
              options?.closeAfter
            ),
            schema: S.CreateSpansBulkResponse
          })
        : Effect.fail(
            new ValidationError({ operation: "spans.bulkEncoded", issue: "expected spans made by encodeSpan" })
          )
    ).pipe(traced("spans.bulk", "POST /spans-bulk"))

  return PromptLayerClient.of({
    spans: { bulk: spansBulk, bulkEncoded },
    traces: { get: getTrace, close: closeTrace },
    logRequest: (input) =>
      Effect.flatMap(validated("logRequest", S.LogRequestBody, input), (body) =>
        call({ method: "POST", path: "/log-request", body, schema: S.LogRequestResponse })
      ).pipe(traced("logRequest", "POST /log-request")),
    trackRequest: (input) =>
      Effect.flatMap(validated("trackRequest", S.TrackRequestBody, input), (body) =>
        call({ method: "POST", path: "/track-request", body, bodyAuth: true, schema: S.TrackRequestResponse })
      ).pipe(traced("trackRequest", "POST /track-request")),
    track: {
      score: track("track.score", "/library-track-score", S.TrackScoreBody),
      metadata: track("track.metadata", "/library-track-metadata", S.TrackMetadataBody),
      prompt: track("track.prompt", "/library-track-prompt", S.TrackPromptBody),
      group: track("track.group", "/track-group", S.TrackGroupBody)
    },
    group: {
      create: () =>
        call({ method: "POST", path: "/create-group", body: {}, bodyAuth: true, schema: S.CreateGroupResponse }).pipe(
          Effect.map((response) => response.id),
          traced("group.create", "POST /create-group")
        )
    },
    templates: {
      get: getTemplate,
      publish: (input) =>
        Effect.flatMap(validated("templates.publish", S.PublishTemplateBody, input), (body) =>
          call({
            method: "POST",
            path: "/rest/prompt-templates",
            body: { prompt_template: body, prompt_version: body, release_labels: body.release_labels ?? null },
            schema: S.PublishTemplateResponse
          })
        ).pipe(traced("templates.publish", "POST /rest/prompt-templates")),
      all: listTemplates,
      stream: streamTemplates(listTemplates)
    }
  })
})

const redactsApiKey = (names: ReadonlyArray<string | RegExp>): boolean =>
  names.some((name) => (typeof name === "string" ? name.toLowerCase() === "x-api-key" : name.test("x-api-key")))

/**
 * The HttpClient records request headers on its span when the app opts in
 * (`HttpClient.TracerHeaderFilter`): keep X-API-KEY redacted whatever the app configured. It is in
 * `Headers.CurrentRedactedNames`'s default list, so the reference is only provided (which costs a
 * context copy per call) when the app's list lacks it.
 */
const redactingApiKey = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Headers.CurrentRedactedNames, (names) =>
    redactsApiKey(names) ? effect : Effect.provideService(effect, Headers.CurrentRedactedNames, [...names, "x-api-key"])
  )

/**
 * Every page of a template listing from `params.page` (default 1) on, as a stream: what
 * `templates.stream` does over `templates.all`, for any implementation of `all`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const streamTemplates =
  (all: Service["templates"]["all"]) =>
  (params?: S.ListTemplatesParams): Stream.Stream<S.TemplateListItem, PromptLayerError> =>
    Stream.paginate(params?.page ?? 1, (page) =>
      Effect.map(
        all({ ...params, page }),
        (response) =>
          [
            response.items,
            response.has_next && response.items.length > 0 ? Option.some(page + 1) : Option.none<number>()
          ] as const
      )
    )

/**
 * The client as a layer; provide an `HttpClient`, a {@link PromptLayerConfig} and a
 * {@link PromptLayerRetryPolicy}.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (
  options: MakeOptions = {}
): Layer.Layer<
  PromptLayerClient,
  never,
  HttpClient.HttpClient | PromptLayerConfig.PromptLayerConfig | PromptLayerRetryPolicy.PromptLayerRetryPolicy
> => Layer.effect(PromptLayerClient, make(options))

/**
 * Options of {@link layerWith}: configuration and retry policy as plain values.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Options extends PromptLayerConfig.Options, MakeOptions {
  readonly retry?: PromptLayerRetryPolicy.Options | undefined
}

/**
 * The client from plain options; only an `HttpClient` remains to provide.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerWith = (options: Options): Layer.Layer<PromptLayerClient, never, HttpClient.HttpClient> =>
  layer(options).pipe(
    Layer.provide(PromptLayerConfig.layer(options)),
    Layer.provide(PromptLayerRetryPolicy.layer(options.retry ?? {}))
  )

/**
 * The client configured from the environment (`PROMPTLAYER_API_KEY`, `PROMPTLAYER_BASE_URL`,
 * `PROMPTLAYER_TIMEOUT_MS`, `PROMPTLAYER_MAX_RETRIES`); only an `HttpClient` remains to provide.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerConfig = (
  options: MakeOptions = {}
): Layer.Layer<PromptLayerClient, Config.ConfigError, HttpClient.HttpClient> =>
  layer(options).pipe(Layer.provide(PromptLayerConfig.layerConfig), Layer.provide(PromptLayerRetryPolicy.layerConfig))

/**
 * Ready to use: configured from the environment, over the global `fetch`
 * ({@link PromptLayerHttp.layerFetch}: redirects are never followed).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerFetch: Layer.Layer<PromptLayerClient, Config.ConfigError> = layerConfig().pipe(
  Layer.provide(PromptLayerHttp.layerFetch)
)

/**
 * Ready to use on Node: configured from the environment, over `node:http` with keep-alive
 * ({@link PromptLayerHttp.layerNode}), which costs about two thirds of the CPU per call of
 * {@link layerFetch}.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerNode: Layer.Layer<PromptLayerClient, Config.ConfigError> = layerConfig().pipe(
  Layer.provide(PromptLayerHttp.layerNode())
)

/**
 * A local PromptLayer-compatible server, for tests, demos and offline development (like
 * `stripe-mock`): the tracking, logging and prompt-registry endpoints with the real server's
 * shapes and validation, a read API and dashboard of what was logged, fault injection, and
 * optional persistence to a JSON file.
 *
 * Built on `@effect/platform`'s `HttpRouter`/`HttpServer`, served by a small `node:http` adapter
 * (no `@effect/platform-node`, which would add cluster/rpc/sql/workflow packages to installs).
 *
 * | route | |
 * | --- | --- |
 * | POST `/log-request` (201), `/track-request`, `/library-track-score\|metadata\|prompt`, `/track-group`, `/create-group` | the SDKs' routes; key in `X-API-KEY` (any case) or body `api_key` |
 * | POST `/rest/track-score\|metadata\|prompt\|group\|request` | documented aliases |
 * | POST, GET `/prompt-templates/{name or id}`; GET `/prompt-templates`; POST `/rest/prompt-templates` (201) | prompt registry |
 * | POST `/v1/traces` | OTLP JSON; spans kept (GET `/emulator/spans`) |
 * | POST `/spans-bulk` (201); GET `/api/public/v2/traces/{trace_id}`; POST `.../{trace_id}/close` (201) | PromptLayer traces (GET `/emulator/traces[/{trace_id}]`); see `internal/emulator/traceRoutes.ts` |
 * | GET `/workflows/{name or id}`; POST `/workflows/{name or id}/run` (201; 202 with `callback_url`) | workflows of {@link Options.workflows} or `store.publishWorkflow` |
 * | GET `/workflow-version-execution-results?workflow_version_execution_id&return_all_outputs` | node results, or the final output |
 * | POST `/ws-token-request-library?capability=...` (201) | a fake token: no WebSocket is served |
 * | GET `/emulator/requests[/{id}]`, `/emulator/templates`, `/emulator/stats`; POST `/emulator/reset` | read API (no auth) |
 * | GET, POST, DELETE `/emulator/faults` | fault rules ({@link FaultRule}) |
 * | GET `/`, `/requests/{id}` | dashboard |
 *
 * Failures answer like the real server: 401 `{ success: false, message }` for a missing or wrong
 * key, 400 for malformed JSON, 422 `{ detail: [{ loc, msg, type }] }` for a body of the wrong
 * shape, 404 `{ success: false, message }` for an unknown request, group, template, version or label.
 *
 * Workflows run synchronously when posted: each output node's value is taken from the workflow's
 * definition ({@link WorkflowDefinition}), a string rendered as an f-string over the run's
 * `input_variables`, so results are final (200) at once. There is no WebSocket (Centrifugo) server,
 * so the official SDKs' `runWorkflow`, which waits on one, is not supported: run, then poll
 * `/workflow-version-execution-results`. A `callback_url` gets 202 but is never called.
 *
 * @example
 * ```ts
 * import { startEmulator } from "promptlayer-effect/emulator"
 *
 * const emulator = await startEmulator({
 *   port: 0,
 *   faults: [{ route: "/log-request", status: 503, times: 1 }] // the first log-request fails
 * })
 * // PROMPTLAYER_BASE_URL=emulator.url PROMPTLAYER_API_KEY=emulator.apiKey
 * console.log(emulator.store.requests())
 * await emulator.close()
 * ```
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PromptLayerEmulator } from "promptlayer-effect/emulator"
 *
 * const program = Effect.gen(function*() {
 *   const emulator = yield* PromptLayerEmulator.PromptLayerEmulator
 *   console.log(emulator.url, emulator.store.requests().length)
 * }).pipe(Effect.provide(PromptLayerEmulator.layer({ port: 0 })))
 * ```
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Dashboard from "./internal/dashboard.js"
import { traceRoutes } from "./internal/emulator/traceRoutes.js"
import { type ActiveFault, type FaultRule, Faults, parseRule } from "./internal/faults.js"
import * as NodeHttp from "./internal/nodeHttp.js"
import { Persister, writeAtomicallySync } from "./internal/persistence.js"
import { isStoreFailure, type Snapshot, Store, type StoredRequest, type WorkflowDefinition } from "./internal/store.js"
import type * as S from "./PromptLayerSchema.js"

export type { ActiveFault, FaultRule } from "./internal/faults.js"
export type { StoredRequest, StoredTemplate, StoredSpan, Snapshot } from "./internal/store.js"
export type { PromptLink, StoredVersion, StoreOptions, ValidationDetail } from "./internal/store.js"
export type { StoredExecution, StoredWorkflow, WorkflowDefinition, WorkflowNodeResult } from "./internal/store.js"
export type { StoredTraceSpan, TraceClosure, TraceSummary, TracesSnapshot } from "./internal/emulator/traces.js"

/**
 * The in-memory PromptLayer state machine the emulator serves (no HTTP): `logRequest`,
 * `trackScore`, `publishTemplate`, `getTemplate`, `listTemplates`, `publishWorkflow`, `runWorkflow`, `requests()`,
 * `snapshot()`, ...
 * Methods throw a {@link StoreFailure} carrying the `{ status, body }` the server answers with.
 *
 * @since 0.1.0
 * @category Store
 */
export { Store } from "./internal/store.js"

/**
 * A failure of a {@link Store} method: `status` and the JSON `body` the server would answer.
 *
 * @since 0.1.0
 * @category Store
 */
export { StoreFailure } from "./internal/store.js"

/**
 * True for a {@link StoreFailure}.
 *
 * @since 0.1.0
 * @category Store
 */
export { isStoreFailure } from "./internal/store.js"

/**
 * Runs a {@link Store} operation: `{ ok: true, value }` or `{ ok: false, failure }` instead of throwing.
 *
 * @since 0.1.0
 * @category Store
 */
export { attempt as attemptStore } from "./internal/store.js"

/**
 * The API key the emulator accepts when none is configured. Not a secret: it is printed.
 *
 * @since 0.1.0
 * @category Constants
 */
export const DEFAULT_API_KEY = "pl_emulator_local_key"

/**
 * The port the command line listens on by default.
 *
 * @since 0.1.0
 * @category Constants
 */
export const DEFAULT_PORT = 8787

/**
 * Options of {@link make}, {@link layer} and {@link startEmulator}.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Options {
  /** Port to listen on; 0 (the default) = any free port. */
  readonly port?: number | undefined
  /** Host to bind; default `127.0.0.1`. */
  readonly host?: string | undefined
  /** The accepted API key; default {@link DEFAULT_API_KEY}. */
  readonly apiKey?: string | undefined
  /**
   * Persist the state to this JSON file: loaded at start; rewritten atomically (temp file, fsync,
   * rename) after every write, before the response is sent.
   */
  readonly dataFile?: string | undefined
  /** Fault rules active from the start. */
  readonly faults?: ReadonlyArray<FaultRule> | undefined
  /** Seed of the fault generator (fractions of failing calls); default 1. */
  readonly seed?: number | undefined
  /** Templates to publish at start (skipped when a template of that name already exists). */
  readonly templates?: ReadonlyArray<S.PublishTemplateInput> | undefined
  /**
   * Workflows to serve, published at start (skipped when a workflow of that name already exists):
   * `{ name, outputs? }`, the output nodes' values by node name, strings being f-string templates
   * over the run's input variables, e.g. `{ name: "greet", outputs: { Answer: "Hello {name}" } }`.
   */
  readonly workflows?: ReadonlyArray<WorkflowDefinition> | undefined
}

/**
 * Call and fault counters of a running emulator.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Stats {
  readonly requests: number
  readonly groups: number
  readonly templates: number
  readonly versions: number
  readonly spans: number
  /** API calls by `METHOD path`. */
  readonly calls: Readonly<Record<string, number>>
  /** API responses by status code. */
  readonly statuses: Readonly<Record<string, number>>
  /** Calls affected by a fault rule. */
  readonly faultsInjected: number
}

/**
 * A running emulator.
 *
 * @since 0.1.0
 * @category Models
 */
export interface RunningEmulator {
  /** Base URL, e.g. `http://127.0.0.1:8787` (no trailing slash). */
  readonly url: string
  /** The accepted API key. */
  readonly apiKey: string
  /** The state; read it (`store.requests()`) or change it directly. */
  readonly store: Store
  /** Fault rules: add, list, clear. */
  readonly faults: {
    readonly add: (rules: ReadonlyArray<FaultRule>) => ReadonlyArray<ActiveFault>
    readonly list: () => ReadonlyArray<ActiveFault>
    readonly clear: () => void
  }
  /** Call counters. */
  readonly stats: () => Stats
}

/**
 * The emulator as a service, for Effect tests.
 *
 * @since 0.1.0
 * @category Context
 */
export class PromptLayerEmulator extends Context.Tag("promptlayer-effect/PromptLayerEmulator")<
  PromptLayerEmulator,
  RunningEmulator
>() {}

/**
 * The emulator could not start: the port is taken, or the data file cannot be read.
 *
 * @since 0.1.0
 * @category Errors
 */
export class EmulatorError extends Schema.TaggedError<EmulatorError>()("EmulatorError", {
  reason: Schema.Literal("Listen", "DataFile", "Options"),
  message: Schema.String
}) {}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(body, { status, headers })

const loadDataFile = (store: Store, file: string): Effect.Effect<void, EmulatorError> =>
  Effect.try({
    try: () => {
      if (!Fs.existsSync(file)) return
      store.restore(JSON.parse(Fs.readFileSync(file, "utf8")) as Snapshot)
    },
    catch: (error) =>
      new EmulatorError({
        reason: "DataFile",
        message: `cannot load ${file}: ${error instanceof Error ? error.message : String(error)}`
      })
  })

const numeric = (value: string | null) => (value !== null && /^\d+$/.test(value) ? Number(value) : (value ?? undefined))
const bool = (value: string | null) =>
  value === null
    ? undefined
    : value === "true" || value === "1"
      ? true
      : value === "false" || value === "0"
        ? false
        : value

const defined = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)))

/**
 * Starts the emulator; it stops when the scope closes.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<RunningEmulator, EmulatorError, Scope.Scope> =>
  Effect.gen(function* () {
    const apiKey = options.apiKey ?? DEFAULT_API_KEY
    if (apiKey === "") return yield* new EmulatorError({ reason: "Options", message: "apiKey must not be empty" })
    const host = options.host ?? "127.0.0.1"
    const store = new Store()
    const faults = new Faults(options.seed ?? 1)
    const checked = (options.faults ?? []).map(parseRule)
    const bad = checked.find((r): r is string => typeof r === "string")
    if (bad !== undefined) return yield* new EmulatorError({ reason: "Options", message: `faults: ${bad}` })
    faults.add(checked as Array<FaultRule>)
    const dataFile = options.dataFile === undefined ? undefined : Path.resolve(options.dataFile)
    if (dataFile !== undefined) yield* loadDataFile(store, dataFile)
    for (const template of options.templates ?? []) {
      if (store.templatesList().some((t) => t.prompt_name === template.prompt_name)) continue
      try {
        store.publishTemplate({
          prompt_template: template,
          prompt_version: template,
          release_labels: template.release_labels ?? null
        })
      } catch (error) {
        const detail = isStoreFailure(error) ? JSON.stringify(error.body) : String(error)
        return yield* new EmulatorError({ reason: "Options", message: `templates: ${detail}` })
      }
    }
    for (const workflow of options.workflows ?? []) {
      if (store.workflowsList().some((w) => w.name === workflow.name)) continue
      try {
        store.publishWorkflow(workflow)
      } catch (error) {
        const detail = isStoreFailure(error) ? JSON.stringify(error.body) : String(error)
        return yield* new EmulatorError({ reason: "Options", message: `workflows: ${detail}` })
      }
    }

    if (dataFile !== undefined) {
      const initial = JSON.stringify(store.snapshot())
      yield* Effect.try({
        try: () => writeAtomicallySync(dataFile, initial),
        catch: (error) =>
          new EmulatorError({
            reason: "DataFile",
            message: `cannot write ${dataFile}: ${error instanceof Error ? error.message : String(error)}`
          })
      })
    }
    const persister =
      dataFile === undefined
        ? undefined
        : new Persister(dataFile, {
            get revision() {
              return store.revision
            },
            text: () => JSON.stringify(store.snapshot())
          })
    /** Waits until every change so far is durable (no-op without a data file). */
    const persist = persister === undefined ? Effect.void : Effect.tryPromise(() => persister.durable())

    const calls: Record<string, number> = {}
    const statuses: Record<string, number> = {}
    const stats = (): Stats => ({
      ...store.counts(),
      calls: { ...calls },
      statuses: { ...statuses },
      faultsInjected: faults.injected
    })

    type Handler = (ctx: {
      readonly body: Record<string, unknown>
      readonly url: URL
      readonly params: Readonly<Record<string, string | undefined>>
    }) => { readonly status: number; readonly body: unknown }

    const liveClock = Clock.make()

    /** Destroys the socket of the call being handled; false when not served over node:http. */
    const dropConnection = Effect.map(Effect.serviceOption(NodeHttp.NodeExchange), (exchange) => {
      if (Option.isNone(exchange)) return false
      exchange.value.req.socket.destroy()
      statuses.dropped = (statuses.dropped ?? 0) + 1
      return true
    })

    /** One PromptLayer API route: faults, JSON body, auth, the store call, persistence. */
    const api = (handler: Handler, options: { readonly jsonOnly?: boolean } = {}) =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const url = new URL(request.url, "http://emulator.local")
        const key = `${request.method} ${url.pathname}`
        calls[key] = (calls[key] ?? 0) + 1
        const respond = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          statuses[status] = (statuses[status] ?? 0) + 1
          return json(status, body, headers)
        }
        const fault = faults.decide(request.method, url.pathname)
        if (fault !== undefined) {
          // Real sockets wait in real time, even when the emulator runs under a TestClock.
          if (fault.latencyMs > 0) yield* Effect.withClock(Effect.sleep(fault.latencyMs), liveClock)
          if (fault.drop && (yield* dropConnection)) return HttpServerResponse.empty({ status: 500 })
          if (fault.status !== undefined) {
            return respond(
              fault.status,
              { success: false, message: `Injected fault: HTTP ${fault.status}` },
              fault.retryAfterSeconds !== undefined ? { "retry-after": String(fault.retryAfterSeconds) } : {}
            )
          }
        }
        const contentType = request.headers["content-type"] ?? ""
        if (options.jsonOnly && contentType !== "" && !contentType.includes("json")) {
          return respond(415, {
            success: false,
            message: `Unsupported content type ${contentType}: the emulator accepts OTLP as JSON (application/json)`
          })
        }
        const text = yield* Effect.orElseSucceed(request.text, () => "")
        let body: Record<string, unknown> = {}
        if (text.trim() !== "") {
          let parsed: unknown
          try {
            parsed = JSON.parse(text)
          } catch {
            return respond(400, { success: false, message: "Malformed JSON in the request body" })
          }
          if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
            return respond(422, {
              detail: [{ loc: ["body"], msg: "Input should be a valid dictionary", type: "dict_type" }]
            })
          }
          body = parsed as Record<string, unknown>
        }
        const header = request.headers["x-api-key"]
        if (header !== apiKey && body.api_key !== apiKey) {
          return respond(401, {
            success: false,
            message: header === undefined && body.api_key === undefined ? "API key required" : "Invalid API key"
          })
        }
        const params = yield* HttpRouter.params
        let result: { readonly status: number; readonly body: unknown }
        try {
          result = handler({ body, url, params })
        } catch (error) {
          if (isStoreFailure(error)) return respond(error.status, error.body)
          return respond(500, {
            success: false,
            message: `Emulator error: ${error instanceof Error ? error.message : String(error)}`
          })
        }
        // Acknowledge only once the change is on disk.
        const durable = yield* Effect.either(persist)
        if (durable._tag === "Left") {
          return respond(500, { success: false, message: `Emulator error: the data file could not be written` })
        }
        if (fault?.dropResponse && (yield* dropConnection)) return HttpServerResponse.empty({ status: 500 })
        return respond(result.status, result.body)
      })

    const identifier = (params: Readonly<Record<string, string | undefined>>) => {
      const raw = params.identifier ?? ""
      try {
        return decodeURIComponent(raw)
      } catch {
        return raw
      }
    }

    const ok = (status: number, body: unknown) => ({ status, body })
    const rest = (body: Record<string, unknown>) => ({ ...body, message: "success" })

    const read = <A>(f: (request: HttpServerRequest.HttpServerRequest) => A) =>
      Effect.map(HttpServerRequest.HttpServerRequest, f)

    const body = (request: HttpServerRequest.HttpServerRequest) =>
      Effect.map(
        Effect.orElseSucceed(request.text, () => ""),
        (text): unknown => {
          if (text.trim() === "") return {}
          try {
            return JSON.parse(text)
          } catch {
            return undefined
          }
        }
      )

    const controlFaults = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const input = yield* body(request)
      if (input === undefined) return json(400, { success: false, message: "Malformed JSON in the request body" })
      const list =
        typeof input === "object" && input !== null && Array.isArray((input as { faults?: unknown }).faults)
          ? ((input as { faults: Array<unknown> }).faults as Array<unknown>)
          : Array.isArray(input)
            ? input
            : [input]
      const rules = list.map(parseRule)
      const error = rules.find((r): r is string => typeof r === "string")
      if (error !== undefined) return json(422, { success: false, message: error })
      faults.add(rules as Array<FaultRule>)
      return json(200, { success: true, faults: faults.list() })
    })

    const router = HttpRouter.empty.pipe(
      HttpRouter.post(
        "/log-request",
        api(({ body }) => ok(201, store.logRequest(body)))
      ),
      HttpRouter.post(
        "/track-request",
        api(({ body }) => ok(200, store.trackRequest(body)))
      ),
      HttpRouter.post(
        "/rest/track-request",
        api(({ body }) => ok(200, store.trackRequest(body)))
      ),
      HttpRouter.post(
        "/library-track-score",
        api(({ body }) => ok(200, store.trackScore(body)))
      ),
      HttpRouter.post(
        "/library-track-metadata",
        api(({ body }) => ok(200, store.trackMetadata(body)))
      ),
      HttpRouter.post(
        "/library-track-prompt",
        api(({ body }) => ok(200, store.trackPrompt(body)))
      ),
      HttpRouter.post(
        "/track-group",
        api(({ body }) => ok(200, store.trackGroup(body)))
      ),
      HttpRouter.post(
        "/create-group",
        api(() => ok(200, store.createGroup()))
      ),
      HttpRouter.post(
        "/rest/track-score",
        api(({ body }) => ok(200, rest(store.trackScore(body))))
      ),
      HttpRouter.post(
        "/rest/track-metadata",
        api(({ body }) => ok(200, rest(store.trackMetadata(body))))
      ),
      HttpRouter.post(
        "/rest/track-prompt",
        api(({ body }) => ok(200, rest(store.trackPrompt(body))))
      ),
      HttpRouter.post(
        "/rest/track-group",
        api(({ body }) => ok(200, rest(store.trackGroup(body))))
      ),
      HttpRouter.post(
        "/rest/prompt-templates",
        api(({ body }) => ok(201, store.publishTemplate(body)))
      ),
      HttpRouter.post(
        "/prompt-templates/:identifier",
        api(({ body, params }) => {
          const { api_key: _key, ...rest } = body
          return ok(200, store.getTemplate(identifier(params), rest))
        })
      ),
      HttpRouter.get(
        "/prompt-templates/:identifier",
        api(({ url, params }) =>
          ok(
            200,
            store.getTemplateRaw(
              identifier(params),
              defined({
                version: numeric(url.searchParams.get("version")),
                label: url.searchParams.get("label") ?? undefined,
                include_llm_kwargs: bool(url.searchParams.get("include_llm_kwargs")),
                resolve_snippets: bool(url.searchParams.get("resolve_snippets"))
              })
            )
          )
        )
      ),
      HttpRouter.get(
        "/prompt-templates",
        api(({ url }) =>
          ok(
            200,
            store.listTemplates(
              defined({
                page: numeric(url.searchParams.get("page")),
                per_page: numeric(url.searchParams.get("per_page")),
                label: url.searchParams.get("label") ?? undefined,
                name: url.searchParams.get("name") ?? undefined,
                tags: [...url.searchParams.getAll("tags"), ...url.searchParams.getAll("tags[]")],
                status: url.searchParams.get("status") ?? undefined
              })
            )
          )
        )
      ),
      HttpRouter.post(
        "/v1/traces",
        api(
          ({ body }) => {
            store.exportTraces(body)
            return ok(200, {})
          },
          { jsonOnly: true }
        )
      )
    )

    // Workflows run synchronously; there is no WebSocket, so clients poll the results route.
    const workflows = HttpRouter.empty.pipe(
      HttpRouter.get(
        "/workflows/:identifier",
        api(({ params }) => ok(200, store.getWorkflow(identifier(params))))
      ),
      HttpRouter.post(
        "/workflows/:identifier/run",
        api(({ body, params }) => {
          const { api_key: _key, ...rest } = body
          const started = store.runWorkflow(identifier(params), rest)
          return ok(typeof rest.callback_url === "string" ? 202 : 201, started)
        })
      ),
      HttpRouter.get(
        "/workflow-version-execution-results",
        api(({ url }) =>
          ok(
            200,
            store.workflowResults(
              defined({
                workflow_version_execution_id: numeric(url.searchParams.get("workflow_version_execution_id")),
                return_all_outputs: bool(url.searchParams.get("return_all_outputs"))
              })
            )
          )
        )
      ),
      HttpRouter.post(
        "/ws-token-request-library",
        api(({ url }) =>
          ok(201, store.wsToken(defined({ capability: url.searchParams.get("capability") ?? undefined })))
        )
      )
    )

    // Read API and dashboard: no auth, local development only.
    const local = HttpRouter.empty.pipe(
      HttpRouter.get(
        "/emulator/requests",
        Effect.sync(() => json(200, { items: store.requests() }))
      ),
      HttpRouter.get(
        "/emulator/requests/:id",
        Effect.map(HttpRouter.params, (params) => {
          const found = /^\d+$/.test(params.id ?? "") ? store.request(Number(params.id)) : undefined
          return found === undefined
            ? json(404, { success: false, message: `Request ${params.id} not found` })
            : json(200, found)
        })
      ),
      HttpRouter.get(
        "/emulator/templates",
        Effect.sync(() => json(200, { items: store.templatesList() }))
      ),
      HttpRouter.get(
        "/emulator/spans",
        Effect.sync(() => json(200, { items: store.traceSpans() }))
      ),
      HttpRouter.get(
        "/emulator/stats",
        Effect.sync(() => json(200, stats()))
      ),
      HttpRouter.post(
        "/emulator/reset",
        Effect.suspend(() => {
          store.reset()
          return persist.pipe(
            Effect.as(json(200, { success: true })),
            Effect.orElseSucceed(() => json(500, { success: false, message: "the data file could not be written" }))
          )
        })
      ),
      HttpRouter.get(
        "/emulator/faults",
        Effect.sync(() => json(200, { faults: faults.list() }))
      ),
      HttpRouter.post("/emulator/faults", controlFaults),
      HttpRouter.del(
        "/emulator/faults",
        Effect.sync(() => {
          faults.clear()
          return json(200, { success: true, faults: [] })
        })
      ),
      HttpRouter.get(
        "/",
        Effect.sync(() => HttpServerResponse.html(Dashboard.renderIndex(store.requests(), store.templatesList())))
      ),
      HttpRouter.get(
        "/requests/:id",
        Effect.map(HttpRouter.params, (params) => {
          const found: StoredRequest | undefined = /^\d+$/.test(params.id ?? "")
            ? store.request(Number(params.id))
            : undefined
          return found === undefined
            ? HttpServerResponse.html(Dashboard.renderNotFound(`Request ${params.id ?? ""}`)).pipe(
                HttpServerResponse.setStatus(404)
              )
            : HttpServerResponse.html(Dashboard.renderRequest(found, store.traces.traceOfRequest(found.id)))
        })
      )
    )

    const traces = traceRoutes({ api, store })
    const app = HttpRouter.concat(HttpRouter.concat(HttpRouter.concat(router, workflows), traces), local).pipe(
      Effect.catchTag("RouteNotFound", () =>
        Effect.map(
          read((request) => request),
          (request) => json(404, { success: false, message: `No route for ${request.method} ${request.url}` })
        )
      ),
      Effect.catchAllCause(() => Effect.succeed(json(500, { success: false, message: "Emulator error" })))
    )

    const server = yield* NodeHttp.make({ port: options.port ?? 0, host }).pipe(
      Effect.mapError(
        (error) => new EmulatorError({ reason: "Listen", message: `cannot listen on ${host}: ${String(error.cause)}` })
      )
    )
    yield* server.serve(app)
    const address = server.address as { readonly hostname: string; readonly port: number }
    const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host
    return {
      url: `http://${shown}:${address.port}`,
      apiKey,
      store,
      faults: {
        add: (rules) => {
          const parsed = rules.map(parseRule)
          const error = parsed.find((r): r is string => typeof r === "string")
          if (error !== undefined) throw new Error(`invalid fault rule: ${error}`)
          return faults.add(parsed as Array<FaultRule>)
        },
        list: () => faults.list(),
        clear: () => faults.clear()
      },
      stats
    } satisfies RunningEmulator
  }).pipe(Effect.withSpan("PromptLayerEmulator.make"))

/**
 * The emulator as a scoped layer, for Effect tests.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options = {}): Layer.Layer<PromptLayerEmulator, EmulatorError> =>
  Layer.scoped(PromptLayerEmulator, make(options))

/**
 * A running emulator with a Promise `close()`.
 *
 * @since 0.1.0
 * @category Models
 */
export interface StartedEmulator extends RunningEmulator {
  /** Stops the server and closes every connection. */
  readonly close: () => Promise<void>
}

/**
 * Starts the emulator outside Effect. Rejects with an {@link EmulatorError} if it cannot start.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator({ port: 0, faults: [{ route: "/log-request", status: 503, times: 1 }] })
 * await emulator.close()
 * ```
 *
 * @since 0.1.0
 * @category Constructors
 */
export const startEmulator = async (options: Options = {}): Promise<StartedEmulator> => {
  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromiseExit(Scope.extend(make(options), scope))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    const error = exit.cause._tag === "Fail" ? exit.cause.error : new Error(String(exit.cause))
    throw error
  }
  let closed: Promise<void> | undefined
  return {
    ...exit.value,
    close: () => {
      closed ??= Effect.runPromise(Scope.close(scope, Exit.void))
      return closed
    }
  }
}

/**
 * A local PromptLayer-compatible server, for tests, demos and offline development (like
 * `stripe-mock`): the tracking, logging and prompt-registry endpoints with the real server's
 * shapes and validation, a read API and dashboard of what was logged, fault injection, and
 * optional persistence to a JSON file.
 *
 * Built on `effect/http`'s `HttpRouter`/`HttpServer`, served by a small `node:http` adapter
 * (no `@effect/platform-node`, which would add undici, ws and a redis peer to installs).
 *
 * | route | |
 * | --- | --- |
 * | POST `/log-request` (201), `/track-request`, `/library-track-score\|metadata\|prompt`, `/track-group`, `/create-group` | the SDKs' routes; key in `X-API-KEY` (any case) or body `api_key` |
 * | POST `/rest/track-score\|metadata\|prompt\|group\|request` | documented aliases |
 * | POST, GET `/prompt-templates/{name or id}`; GET `/prompt-templates`; POST `/rest/prompt-templates` (201) | prompt registry |
 * | POST `/v1/traces?close_after` | OTLP JSON; spans kept (GET `/emulator/spans`); `close_after=true` closes their traces; 409 for a span of a closed trace |
 * | POST `/spans-bulk` (201); GET `/api/public/v2/traces/{trace_id}`; POST `.../{trace_id}/close` (201) | PromptLayer traces (GET `/emulator/traces[/{trace_id}]`); see `internal/emulator/traceRoutes.ts` |
 * | GET `/workflows/{name or id}`; POST `/workflows/{name or id}/run` (201; 202 with `callback_url`) | workflows of {@link Options.workflows} or `store.publishWorkflow` |
 * | GET `/workflow-version-execution-results?workflow_version_execution_id&return_all_outputs` | node results, or the final output |
 * | POST `/ws-token-request-library?capability=...` (201) | a fake token: no WebSocket is served |
 * | GET `/emulator/requests[/{id}]`, `/emulator/templates`, `/emulator/stats`; POST `/emulator/reset` (key required) | read API |
 * | GET, POST, DELETE `/emulator/faults` (key required to change) | fault rules ({@link FaultRule}) |
 * | GET `/`, `/requests/{id}` | dashboard |
 *
 * Failures answer like the real server: 401 `{ success: false, message }` for a missing or wrong
 * key, 400 for malformed JSON, 422 `{ detail: [{ loc, msg, type }] }` for a body of the wrong
 * shape, 404 `{ success: false, message }` for an unknown request, group, template, version or label.
 *
 * Every route is guarded: a `Host` it does not serve → 403 (see {@link Options.allowedHosts}), a
 * state-changing call from a foreign `Origin` → 403, a non-JSON body → 415, a state-changing
 * `/emulator/*` call without the key in `X-API-KEY` → 401, a body nested deeper than
 * `maxJsonDepth` → 422, larger than `maxBodyBytes` → 413, past `maxStoredBytes` stored → 507.
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
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as NetAddress from "effect/net/NetAddress"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { type CallCounters, makeApiRoute } from "./internal/emulator/apiRoute.js"
import { makeDurability } from "./internal/emulator/durability.js"
import { emulatorApp } from "./internal/emulator/emulatorApp.js"
import { EmulatorError } from "./internal/emulator/emulatorError.js"
import { type ActiveFault, type FaultRule, Faults, parseRule } from "./internal/emulator/faults.js"
import { allowedHosts, guard } from "./internal/emulator/guard.js"
import * as NodeHttp from "./internal/emulator/nodeHttp.js"
import { seedStore } from "./internal/emulator/seedStore.js"
import { Store, type WorkflowDefinition } from "./internal/emulator/store.js"
import type * as S from "./PromptLayerSchema.js"

export type { ActiveFault, FaultRule } from "./internal/emulator/faults.js"
export type { StoredRequest, StoredTemplate, StoredSpan, Snapshot } from "./internal/emulator/store.js"
export type { PromptLink, StoredVersion, StoreOptions, ValidationDetail } from "./internal/emulator/store.js"
export type {
  StoredExecution,
  StoredWorkflow,
  WorkflowDefinition,
  WorkflowNodeResult
} from "./internal/emulator/store.js"
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
export { Store } from "./internal/emulator/store.js"

/**
 * A failure of a {@link Store} method: `status` and the JSON `body` the server would answer.
 *
 * @since 0.1.0
 * @category Store
 */
export { StoreFailure } from "./internal/emulator/store.js"

/**
 * True for a {@link StoreFailure}.
 *
 * @since 0.1.0
 * @category Store
 */
export { isStoreFailure } from "./internal/emulator/store.js"

/**
 * Runs a {@link Store} operation: `{ ok: true, value }` or `{ ok: false, failure }` instead of throwing.
 *
 * @since 0.1.0
 * @category Store
 */
export { attempt as attemptStore } from "./internal/emulator/store.js"

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
   * Persist the whole state (trace spans and closures included) to this file, FILE. Every change
   * is appended to a journal beside it, `FILE.journal.N`, and fdatasync'd before the response is
   * sent; the journal is compacted into FILE once it outgrows both 8 MiB and FILE. A write that
   * cannot be made durable is undone in memory and answered 503 (a retry is no duplicate). At
   * start, damaged files are refused naming the file and the first bad entry, and stale temp files
   * are removed; temp files have random names and are never followed through symlinks.
   *
   * @example
   * ```ts
   * const emulator = yield* PromptLayerEmulator.make({ dataFile: ".emulator-data/state.json" })
   * ```
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
  /**
   * `Host` header values served besides the loopback names (`localhost`, `127.0.0.1`, `[::1]`) and
   * the bound address at the served port (every interface address and the machine's name when bound
   * to `0.0.0.0`/`::`): `name` at any port, `name:port` at that port only, `*` for any host. Other
   * hosts get 403, so a DNS-rebinding page cannot read what was logged.
   */
  readonly allowedHosts?: ReadonlyArray<string> | undefined
  /** Largest request body in bytes (after gunzip); larger ones get 413. Default 32 MiB. */
  readonly maxBodyBytes?: number | undefined
  /** Deepest nesting of objects and arrays accepted in a JSON body; deeper ones get 422. Default 64. */
  readonly maxJsonDepth?: number | undefined
  /**
   * Total size (JSON bytes) of logged requests, spans, template versions and workflow runs kept;
   * a write past it gets 507 until `POST /emulator/reset`. Default 128 MiB (the heap holds about
   * 2.4× that for text-heavy requests); `Infinity` for no limit (and no size accounting).
   */
  readonly maxStoredBytes?: number | undefined
  /** Time allowed to receive a request's headers; then 408. Default 10 000 ms. */
  readonly headersTimeoutMs?: number | undefined
  /** Time allowed to receive a whole request; then 408. Default 30 000 ms. */
  readonly requestTimeoutMs?: number | undefined
  /** Open connections at most; further ones are closed at once. Default 512. */
  readonly maxConnections?: number | undefined
}

/**
 * The defaults of the emulator's limits ({@link Options}).
 *
 * @since 0.1.0
 * @category Constants
 */
export const DEFAULT_LIMITS = {
  ...NodeHttp.defaults,
  maxJsonDepth: 64,
  maxStoredBytes: 128 * 1024 * 1024
} as const

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
export class PromptLayerEmulator extends Context.Service<PromptLayerEmulator, RunningEmulator>()(
  "promptlayer-effect/PromptLayerEmulator"
) {}

/**
 * The emulator could not start: the port is taken, or the data file cannot be read.
 *
 * @since 0.1.0
 * @category Errors
 */
export { EmulatorError } from "./internal/emulator/emulatorError.js"

const definedLimits = (options: Options) =>
  Object.fromEntries(
    Object.keys(DEFAULT_LIMITS).flatMap((key) => {
      const value = options[key as keyof typeof DEFAULT_LIMITS]
      return value === undefined ? [] : [[key, value]]
    })
  ) as Partial<Record<keyof typeof DEFAULT_LIMITS, number>>

/** The options checked: key, host, limits and fault rules, or `EmulatorError` (Options). */
const checkOptions = (options: Options) => {
  const apiKey = options.apiKey ?? DEFAULT_API_KEY
  if (apiKey === "") return new EmulatorError({ reason: "Options", message: "apiKey must not be empty" })
  const limits = { ...DEFAULT_LIMITS, ...definedLimits(options) }
  const invalid = Object.entries(limits).find(([, v]) => !(typeof v === "number" && v > 0))
  if (invalid !== undefined) {
    return new EmulatorError({ reason: "Options", message: `${invalid[0]} must be a positive number` })
  }
  const rules = (options.faults ?? []).map(parseRule)
  const bad = rules.find((r): r is string => typeof r === "string")
  if (bad !== undefined) return new EmulatorError({ reason: "Options", message: `faults: ${bad}` })
  return { apiKey, host: options.host ?? "127.0.0.1", limits, rules: rules as Array<FaultRule> }
}

/** The URL clients use: a wildcard bind is reached on loopback, an IPv6 host in brackets. */
const baseUrl = (host: string, port: number) => {
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host
  return `http://${shown}:${port}`
}

/**
 * Starts the emulator; it stops when the scope closes.
 *
 * @example
 * ```ts
 * const program = Effect.scoped(
 *   Effect.gen(function*() {
 *     const emulator = yield* PromptLayerEmulator.make({ port: 0 })
 *     return emulator.store.requests().length
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category Constructors
 */
export const make = (options: Options = {}): Effect.Effect<RunningEmulator, EmulatorError, Scope.Scope> =>
  Effect.gen(function* () {
    const checked = checkOptions(options)
    if (checked instanceof EmulatorError) return yield* checked
    const { apiKey, host, limits } = checked
    const store = new Store({ maxStoredBytes: limits.maxStoredBytes })
    const faults = new Faults(options.seed ?? 1)
    faults.add(checked.rules)
    const { persist, settle } = yield* makeDurability(store, options.dataFile)
    yield* seedStore(store, options)
    yield* settle

    const counters: CallCounters = { calls: {}, statuses: {} }
    const stats = (): Stats => ({
      ...store.counts(),
      calls: { ...counters.calls },
      statuses: { ...counters.statuses },
      faultsInjected: faults.injected
    })
    const api = makeApiRoute({ apiKey, faults, counters, persist })
    const app = yield* emulatorApp({ api, store, faults, persist, stats })

    const server = yield* NodeHttp.make({
      port: options.port ?? 0,
      host,
      maxBodyBytes: limits.maxBodyBytes,
      headersTimeoutMs: limits.headersTimeoutMs,
      requestTimeoutMs: limits.requestTimeoutMs,
      maxConnections: limits.maxConnections
    }).pipe(
      Effect.mapError(
        (error) => new EmulatorError({ reason: "Listen", message: `cannot listen on ${host}: ${String(error.cause)}` })
      )
    )
    const port = NetAddress.isInetAddress(server.address) ? server.address.port : 0
    yield* server.serve(
      guard({
        apiKey,
        isAllowedHost: allowedHosts(host, port, options.allowedHosts ?? []),
        maxJsonDepth: limits.maxJsonDepth
      })(app)
    )
    return {
      url: baseUrl(host, port),
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
 * The emulator as a scoped layer, for Effect tests: it stops when the layer's scope closes.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function*() {
 *   const emulator = yield* PromptLayerEmulator.PromptLayerEmulator
 *   return emulator.url
 * }).pipe(Effect.provide(PromptLayerEmulator.layer({ port: 0 })))
 * ```
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: Options = {}): Layer.Layer<PromptLayerEmulator, EmulatorError> =>
  Layer.effect(PromptLayerEmulator, make(options))

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
  const exit = await Effect.runPromiseExit(Scope.provide(make(options), scope))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw Option.getOrElse(Cause.findErrorOption(exit.cause), () => new Error(Cause.pretty(exit.cause)))
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

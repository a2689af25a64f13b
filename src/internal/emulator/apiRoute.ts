/**
 * The wrapper every authenticated PromptLayer API route of the emulator goes through: call and
 * status counters, injected faults, the JSON body, the API key, the store call, and persistence
 * (the response is sent only once the change is durable).
 */
import type * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import { parseExact } from "./exactJson.js"
import type { Faults } from "./faults.js"
import * as NodeHttp from "./nodeHttp.js"
import { isStoreFailure, type Store } from "./store.js"

/** A route body of the `api` wrapper: the parsed request in, status and JSON body out; may throw a `StoreFailure`. */
export type ApiHandler = (ctx: {
  readonly body: Record<string, unknown>
  /** Length of the body's JSON text (what the store counts against its size limit). */
  readonly bodyChars: number
  readonly url: URL
  readonly params: Readonly<Record<string, string | undefined>>
}) => { readonly status: number; readonly body: unknown }

/** Waits until every change so far is durable; on failure the changes are undone (see `durability.ts`). */
export type Persist = Effect.Effect<void, Cause.UnknownError>

/** API calls by `METHOD path` and responses by status, shared with the emulator's stats. */
export interface CallCounters {
  readonly calls: Record<string, number>
  readonly statuses: Record<string, number>
}

/** What the wrapper needs from the emulator. */
export interface ApiRouteOptions {
  readonly apiKey: string
  readonly faults: Faults
  readonly counters: CallCounters
  readonly persist: Persist
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  HttpServerResponse.jsonUnsafe(body, { status, headers })

const liveClock = Clock.Clock.defaultValue()

type ParsedBody =
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly status: number; readonly body: unknown }

/** Options of one `api` route. */
export interface ApiRouteSpec {
  /**
   * Parse the body with {@link parseExact}: integers beyond 2^53 arrive as `bigint`s with every
   * digit (`/spans-bulk`'s nanosecond times) instead of rounded numbers.
   */
  readonly exactIntegers?: boolean | undefined
}

/**
 * The request body as a JSON object (an empty body is `{}`), or the 400/422 the server answers;
 * with `exact`, integers beyond 2^53 as `bigint`s.
 */
const parseBody = (text: string, exact: boolean): ParsedBody => {
  if (text.trim() === "") return { ok: true, body: {} }
  let parsed: unknown
  try {
    parsed = exact ? parseExact(text) : JSON.parse(text)
  } catch {
    return { ok: false, status: 400, body: { success: false, message: "Malformed JSON in the request body" } }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return {
      ok: false,
      status: 422,
      body: { detail: [{ loc: ["body"], msg: "Input should be a valid dictionary", type: "dict_type" }] }
    }
  }
  return { ok: true, body: parsed as Record<string, unknown> }
}

const errorMessage = (error: unknown, otherwise: string) => (error instanceof Error ? error.message : otherwise)

/**
 * The `api` wrapper: give it a route body, get the route's handler.
 *
 * @example
 * ```ts
 * const api = makeApiRoute({ apiKey, faults, counters, persist })
 * HttpRouter.route("POST", "/log-request", api(({ body }) => ({ status: 201, body: store.logRequest(body) })))
 * ```
 */
export const makeApiRoute = ({ apiKey, counters, faults, persist }: ApiRouteOptions) => {
  const { calls, statuses } = counters

  /** Destroys the socket of the call being handled; false when not served over node:http. */
  const dropConnection = Effect.map(Effect.serviceOption(NodeHttp.NodeExchange), (exchange) => {
    if (Option.isNone(exchange)) return false
    exchange.value.req.socket.destroy()
    statuses.dropped = (statuses.dropped ?? 0) + 1
    return true
  })

  return (handler: ApiHandler, spec: ApiRouteSpec = {}) =>
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
        if (fault.latencyMs > 0) yield* Effect.provideService(Effect.sleep(fault.latencyMs), Clock.Clock, liveClock)
        if (fault.drop && (yield* dropConnection)) return HttpServerResponse.empty({ status: 500 })
        if (fault.status !== undefined) {
          return respond(
            fault.status,
            { success: false, message: `Injected fault: HTTP ${fault.status}` },
            fault.retryAfterSeconds !== undefined ? { "retry-after": String(fault.retryAfterSeconds) } : {}
          )
        }
      }
      const text = yield* NodeHttp.requestText
      const parsed = parseBody(text, spec.exactIntegers === true)
      if (!parsed.ok) return respond(parsed.status, parsed.body)
      const body = parsed.body
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
        result = handler({ body, bodyChars: text.length, url, params })
      } catch (error) {
        if (isStoreFailure(error)) return respond(error.status, error.body)
        return respond(500, { success: false, message: `Emulator error: ${errorMessage(error, String(error))}` })
      }
      // Acknowledge only once the change is on disk.
      const durable = yield* Effect.result(persist)
      if (Result.isFailure(durable)) {
        return respond(503, {
          success: false,
          message: `Emulator error: ${errorMessage(durable.failure.cause, "the data file could not be written")}`
        })
      }
      if (fault?.dropResponse && (yield* dropConnection)) return HttpServerResponse.empty({ status: 500 })
      return respond(result.status, result.body)
    })
}

/** The `api` wrapper's type, for route modules. */
export type ApiRoute = ReturnType<typeof makeApiRoute>

/** What a route group needs from the emulator: the `api` wrapper and the store. */
export interface RouteDeps {
  readonly api: ApiRoute
  readonly store: Store
}

/**
 * A `/rest/*` alias's answer: the library route's, with `message: "success"`.
 *
 * @example
 * ```ts
 * rest({ success: true }) // { success: true, message: "success" }
 * ```
 */
export const rest = (body: Record<string, unknown>) => ({ ...body, message: "success" })

/**
 * The emulator's own routes (`/emulator/*`), mounted by `PromptLayerEmulator.make`:
 *
 * | route | |
 * | --- | --- |
 * | GET `/emulator/requests[/{id}]`, `/emulator/templates`, `/emulator/spans`, `/emulator/stats` | read API |
 * | POST `/emulator/reset` | forget everything (503 and nothing forgotten when it cannot be made durable) |
 * | GET, POST, DELETE `/emulator/faults` | fault rules |
 *
 * Reads need no key (the guard's Host check keeps other sites out); the guard requires it on the
 * state-changing ones. These routes do not go through the `api` wrapper: no faults, no call counts.
 */
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Effect from "effect/Effect"
import type { Persist } from "./apiRoute.js"
import { type FaultRule, type Faults, parseRule } from "./faults.js"
import type { Store } from "./store.js"

/** What the control routes need from the emulator. */
export interface ControlRouteDeps {
  readonly store: Store
  readonly faults: Faults
  readonly persist: Persist
  /** The emulator's `Stats`. */
  readonly stats: () => object
}

const json = (status: number, body: unknown) => HttpServerResponse.jsonUnsafe(body, { status })

const requestBody = (request: HttpServerRequest.HttpServerRequest) =>
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

/** The rules of a POST `/emulator/faults` body: `{ faults: [...] }`, an array, or one rule. */
const ruleList = (input: unknown): Array<unknown> =>
  typeof input === "object" && input !== null && Array.isArray((input as { faults?: unknown }).faults)
    ? (input as { faults: Array<unknown> }).faults
    : Array.isArray(input)
      ? input
      : [input]

const addFaults = (faults: Faults) =>
  Effect.gen(function* () {
    const input = yield* requestBody(yield* HttpServerRequest.HttpServerRequest)
    if (input === undefined) return json(400, { success: false, message: "Malformed JSON in the request body" })
    const rules = ruleList(input).map(parseRule)
    const error = rules.find((r): r is string => typeof r === "string")
    if (error !== undefined) return json(422, { success: false, message: error })
    faults.add(rules as Array<FaultRule>)
    return json(200, { success: true, faults: faults.list() })
  })

/**
 * The control routes as an array of routes, to add with the emulator's.
 *
 * @example
 * ```ts
 * const routes = [...otherRoutes, ...controlRoutes({ store, faults, persist, stats })]
 * ```
 */
export const controlRoutes = ({ faults, persist, stats, store }: ControlRouteDeps) => [
  HttpRouter.route(
    "GET",
    "/emulator/requests",
    Effect.sync(() => json(200, { items: store.requests() }))
  ),
  HttpRouter.route(
    "GET",
    "/emulator/requests/:id",
    Effect.map(HttpRouter.params, (params) => {
      const found = /^\d+$/.test(params.id ?? "") ? store.request(Number(params.id)) : undefined
      return found === undefined
        ? json(404, { success: false, message: `Request ${params.id} not found` })
        : json(200, found)
    })
  ),
  HttpRouter.route(
    "GET",
    "/emulator/templates",
    Effect.sync(() => json(200, { items: store.templatesList() }))
  ),
  HttpRouter.route(
    "GET",
    "/emulator/spans",
    Effect.sync(() => json(200, { items: store.traceSpans() }))
  ),
  HttpRouter.route(
    "GET",
    "/emulator/stats",
    Effect.sync(() => json(200, stats()))
  ),
  HttpRouter.route(
    "POST",
    "/emulator/reset",
    Effect.suspend(() => {
      store.reset()
      return persist.pipe(
        Effect.as(json(200, { success: true })),
        Effect.orElseSucceed(() =>
          json(503, { success: false, message: "the data file could not be written, the reset was not applied" })
        )
      )
    })
  ),
  HttpRouter.route(
    "GET",
    "/emulator/faults",
    Effect.sync(() => json(200, { faults: faults.list() }))
  ),
  HttpRouter.route("POST", "/emulator/faults", addFaults(faults)),
  HttpRouter.route(
    "DELETE",
    "/emulator/faults",
    Effect.sync(() => {
      faults.clear()
      return json(200, { success: true, faults: [] })
    })
  )
]

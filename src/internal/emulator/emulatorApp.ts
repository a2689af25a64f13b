/**
 * The emulator's HTTP app: every route group concatenated, unknown routes answered 404 and
 * unexpected failures 500, both as JSON like the real server.
 */
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import type { ApiRoute, Persist } from "./apiRoute.js"
import { controlRoutes } from "./controlRoutes.js"
import { dashboardRoutes } from "./dashboardRoutes.js"
import type { Faults } from "./faults.js"
import { groupRoutes } from "./groupRoutes.js"
import { logRoutes } from "./logRoutes.js"
import type { Store } from "./store.js"
import { templateRoutes } from "./templateRoutes.js"
import { traceRoutes } from "./traceRoutes.js"
import { workflowRoutes } from "./workflowRoutes.js"

/** What the app is made of. */
export interface EmulatorAppDeps {
  readonly api: ApiRoute
  readonly store: Store
  readonly faults: Faults
  readonly persist: Persist
  /** The emulator's `Stats`, for GET `/emulator/stats`. */
  readonly stats: () => object
}

const json = (status: number, body: unknown) => HttpServerResponse.jsonUnsafe(body, { status })

/**
 * The app to serve (behind the guard), built once: the router needs a scope, closed with the
 * server's.
 *
 * @example
 * ```ts
 * const app = yield* emulatorApp({ api, store, faults, persist, stats })
 * yield* server.serve(guard(guardOptions)(app))
 * ```
 */
export const emulatorApp = ({ api, faults, persist, stats, store }: EmulatorAppDeps) =>
  Effect.map(
    HttpRouter.toHttpEffect(
      HttpRouter.addAll([
        ...logRoutes({ api, store }),
        ...groupRoutes({ api, store }),
        ...templateRoutes({ api, store }),
        ...workflowRoutes({ api, store }),
        ...traceRoutes({ api, store }),
        ...controlRoutes({ store, faults, persist, stats }),
        ...dashboardRoutes(store)
      ])
    ),
    (handler) =>
      handler.pipe(
        Effect.catchTag("HttpServerError", (error) =>
          error.reason._tag === "RouteNotFound"
            ? Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
                json(404, { success: false, message: `No route for ${request.method} ${request.url}` })
              )
            : Effect.fail(error)
        ),
        Effect.catchCause(() => Effect.succeed(json(500, { success: false, message: "Emulator error" })))
      )
  )

/**
 * The emulator's HTTP app: every route group concatenated, unknown routes answered 404 and
 * unexpected failures 500, both as JSON like the real server.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
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

const json = (status: number, body: unknown) => HttpServerResponse.unsafeJson(body, { status })

/**
 * The app to serve (behind the guard).
 *
 * @example
 * ```ts
 * yield* server.serve(guard(guardOptions)(emulatorApp({ api, store, faults, persist, stats })))
 * ```
 */
export const emulatorApp = ({ api, faults, persist, stats, store }: EmulatorAppDeps) =>
  [
    logRoutes({ api, store }),
    groupRoutes({ api, store }),
    templateRoutes({ api, store }),
    workflowRoutes({ api, store }),
    traceRoutes({ api, store }),
    controlRoutes({ store, faults, persist, stats }),
    dashboardRoutes(store)
  ]
    .reduce((app, routes) => HttpRouter.concat(app, routes))
    .pipe(
      Effect.catchTag("RouteNotFound", () =>
        Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
          json(404, { success: false, message: `No route for ${request.method} ${request.url}` })
        )
      ),
      Effect.catchAllCause(() => Effect.succeed(json(500, { success: false, message: "Emulator error" })))
    )

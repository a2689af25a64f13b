/**
 * The emulator's dashboard pages, mounted by `PromptLayerEmulator.make`: GET `/` (logged requests
 * and the registry) and GET `/requests/{id}` (one request, linked to its trace). The trace pages
 * are in `traceRoutes.ts`. No key is needed (the guard's Host check keeps other sites out).
 */
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Dashboard from "./dashboard.js"
import type { Store } from "./store.js"

/**
 * The dashboard routes as an array of routes, to add with the emulator's.
 *
 * @example
 * ```ts
 * const routes = [...otherRoutes, ...dashboardRoutes(store)]
 * ```
 */
export const dashboardRoutes = (store: Store) => [
  HttpRouter.route(
    "GET",
    "/",
    Effect.sync(() => HttpServerResponse.html(Dashboard.renderIndex(store.requests(), store.templatesList())))
  ),
  HttpRouter.route(
    "GET",
    "/requests/:id",
    Effect.map(HttpRouter.params, (params) => {
      const found = /^\d+$/.test(params.id ?? "") ? store.request(Number(params.id)) : undefined
      return found === undefined
        ? HttpServerResponse.html(Dashboard.renderNotFound(`Request ${params.id ?? ""}`)).pipe(
            HttpServerResponse.setStatus(404)
          )
        : HttpServerResponse.html(Dashboard.renderRequest(found, store.traces.traceOfRequest(found.id)))
    })
  )
]

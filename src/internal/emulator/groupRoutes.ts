/**
 * The emulator's group routes, mounted by `PromptLayerEmulator.make`:
 *
 * | route | |
 * | --- | --- |
 * | POST `/create-group` | a new group id |
 * | POST `/track-group`, `/rest/track-group` | add a logged request to a group |
 *
 * Every route goes through the `api` wrapper (faults, JSON body, auth, persistence).
 */
import * as HttpRouter from "effect/http/HttpRouter"
import { type RouteDeps, rest } from "./apiRoute.js"

/**
 * The group routes as an array of routes, to add with the emulator's.
 *
 * @example
 * ```ts
 * const routes = [...logRoutes({ api, store }), ...groupRoutes({ api, store })]
 * ```
 */
export const groupRoutes = ({ api, store }: RouteDeps) => [
  HttpRouter.route(
    "POST",
    "/track-group",
    api(({ body }) => ({ status: 200, body: store.trackGroup(body) }))
  ),
  HttpRouter.route(
    "POST",
    "/create-group",
    api(() => ({ status: 200, body: store.createGroup() }))
  ),
  HttpRouter.route(
    "POST",
    "/rest/track-group",
    api(({ body }) => ({ status: 200, body: rest(store.trackGroup(body)) }))
  )
]

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
import * as HttpRouter from "@effect/platform/HttpRouter"
import { type RouteDeps, rest } from "./apiRoute.js"

/**
 * The group routes as a router, to concatenate with the emulator's.
 *
 * @example
 * ```ts
 * const app = HttpRouter.concat(logRoutes({ api, store }), groupRoutes({ api, store }))
 * ```
 */
export const groupRoutes = ({ api, store }: RouteDeps) =>
  HttpRouter.empty.pipe(
    HttpRouter.post(
      "/track-group",
      api(({ body }) => ({ status: 200, body: store.trackGroup(body) }))
    ),
    HttpRouter.post(
      "/create-group",
      api(() => ({ status: 200, body: store.createGroup() }))
    ),
    HttpRouter.post(
      "/rest/track-group",
      api(({ body }) => ({ status: 200, body: rest(store.trackGroup(body)) }))
    )
  )

/**
 * The emulator's request-log routes, mounted by `PromptLayerEmulator.make`:
 *
 * | route | |
 * | --- | --- |
 * | POST `/log-request` (201), `/track-request` | log a request |
 * | POST `/library-track-score\|metadata\|prompt` | the SDKs' tracking routes |
 * | POST `/rest/track-score\|metadata\|prompt\|request` | documented aliases (`message: "success"` added) |
 *
 * Every route goes through the `api` wrapper (faults, JSON body, auth, persistence).
 */
import * as HttpRouter from "effect/http/HttpRouter"
import { type RouteDeps, rest } from "./apiRoute.js"

/**
 * The request-log routes as an array of routes, to add with the emulator's.
 *
 * @example
 * ```ts
 * const routes = [...logRoutes({ api, store }), ...templateRoutes({ api, store })]
 * ```
 */
export const logRoutes = ({ api, store }: RouteDeps) => [
  HttpRouter.route(
    "POST",
    "/log-request",
    api(({ body }) => ({ status: 201, body: store.logRequest(body) }))
  ),
  HttpRouter.route(
    "POST",
    "/track-request",
    api(({ body }) => ({ status: 200, body: store.trackRequest(body) }))
  ),
  HttpRouter.route(
    "POST",
    "/rest/track-request",
    api(({ body }) => ({ status: 200, body: store.trackRequest(body) }))
  ),
  HttpRouter.route(
    "POST",
    "/library-track-score",
    api(({ body }) => ({ status: 200, body: store.trackScore(body) }))
  ),
  HttpRouter.route(
    "POST",
    "/library-track-metadata",
    api(({ body }) => ({ status: 200, body: store.trackMetadata(body) }))
  ),
  HttpRouter.route(
    "POST",
    "/library-track-prompt",
    api(({ body }) => ({ status: 200, body: store.trackPrompt(body) }))
  ),
  HttpRouter.route(
    "POST",
    "/rest/track-score",
    api(({ body }) => ({ status: 200, body: rest(store.trackScore(body)) }))
  ),
  HttpRouter.route(
    "POST",
    "/rest/track-metadata",
    api(({ body }) => ({ status: 200, body: rest(store.trackMetadata(body)) }))
  ),
  HttpRouter.route(
    "POST",
    "/rest/track-prompt",
    api(({ body }) => ({ status: 200, body: rest(store.trackPrompt(body)) }))
  )
]

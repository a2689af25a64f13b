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
import * as HttpRouter from "@effect/platform/HttpRouter"
import { type RouteDeps, rest } from "./apiRoute.js"

/**
 * The request-log routes as a router, to concatenate with the emulator's.
 *
 * @example
 * ```ts
 * const app = HttpRouter.concat(logRoutes({ api, store }), templateRoutes({ api, store }))
 * ```
 */
export const logRoutes = ({ api, store }: RouteDeps) =>
  HttpRouter.empty.pipe(
    HttpRouter.post(
      "/log-request",
      api(({ body }) => ({ status: 201, body: store.logRequest(body) }))
    ),
    HttpRouter.post(
      "/track-request",
      api(({ body }) => ({ status: 200, body: store.trackRequest(body) }))
    ),
    HttpRouter.post(
      "/rest/track-request",
      api(({ body }) => ({ status: 200, body: store.trackRequest(body) }))
    ),
    HttpRouter.post(
      "/library-track-score",
      api(({ body }) => ({ status: 200, body: store.trackScore(body) }))
    ),
    HttpRouter.post(
      "/library-track-metadata",
      api(({ body }) => ({ status: 200, body: store.trackMetadata(body) }))
    ),
    HttpRouter.post(
      "/library-track-prompt",
      api(({ body }) => ({ status: 200, body: store.trackPrompt(body) }))
    ),
    HttpRouter.post(
      "/rest/track-score",
      api(({ body }) => ({ status: 200, body: rest(store.trackScore(body)) }))
    ),
    HttpRouter.post(
      "/rest/track-metadata",
      api(({ body }) => ({ status: 200, body: rest(store.trackMetadata(body)) }))
    ),
    HttpRouter.post(
      "/rest/track-prompt",
      api(({ body }) => ({ status: 200, body: rest(store.trackPrompt(body)) }))
    )
  )

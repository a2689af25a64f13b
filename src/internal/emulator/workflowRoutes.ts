/**
 * The emulator's workflow routes, mounted by `PromptLayerEmulator.make`:
 *
 * | route | |
 * | --- | --- |
 * | GET `/workflows/{name or id}` | the workflow |
 * | POST `/workflows/{name or id}/run` (201; 202 with `callback_url`) | run it (synchronously) |
 * | GET `/workflow-version-execution-results?workflow_version_execution_id&return_all_outputs` | node results, or the final output |
 * | POST `/ws-token-request-library?capability=...` (201) | a fake token |
 *
 * Workflows run synchronously; there is no WebSocket, so clients poll the results route. Every
 * route goes through the `api` wrapper (faults, JSON body, auth, persistence).
 */
import * as HttpRouter from "effect/http/HttpRouter"
import type { RouteDeps } from "./apiRoute.js"
import { bool, defined, numeric, pathParam } from "./requestParams.js"

/**
 * The workflow routes as an array of routes, to add with the emulator's.
 *
 * @example
 * ```ts
 * const routes = [...templateRoutes({ api, store }), ...workflowRoutes({ api, store })]
 * ```
 */
export const workflowRoutes = ({ api, store }: RouteDeps) => [
  HttpRouter.route(
    "GET",
    "/workflows/:identifier",
    api(({ params }) => ({ status: 200, body: store.getWorkflow(pathParam(params, "identifier")) }))
  ),
  HttpRouter.route(
    "POST",
    "/workflows/:identifier/run",
    api(({ body, params }) => {
      const { api_key: _key, ...rest } = body
      const started = store.runWorkflow(pathParam(params, "identifier"), rest)
      return { status: typeof rest.callback_url === "string" ? 202 : 201, body: started }
    })
  ),
  HttpRouter.route(
    "GET",
    "/workflow-version-execution-results",
    api(({ url }) => ({
      status: 200,
      body: store.workflowResults(
        defined({
          workflow_version_execution_id: numeric(url.searchParams.get("workflow_version_execution_id")),
          return_all_outputs: bool(url.searchParams.get("return_all_outputs"))
        })
      )
    }))
  ),
  HttpRouter.route(
    "POST",
    "/ws-token-request-library",
    api(({ url }) => ({
      status: 201,
      body: store.wsToken(defined({ capability: url.searchParams.get("capability") ?? undefined }))
    }))
  )
]

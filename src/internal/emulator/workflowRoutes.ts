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
import * as HttpRouter from "@effect/platform/HttpRouter"
import type { RouteDeps } from "./apiRoute.js"
import { bool, defined, numeric, pathParam } from "./requestParams.js"

/**
 * The workflow routes as a router, to concatenate with the emulator's.
 *
 * @example
 * ```ts
 * const app = HttpRouter.concat(templateRoutes({ api, store }), workflowRoutes({ api, store }))
 * ```
 */
export const workflowRoutes = ({ api, store }: RouteDeps) =>
  HttpRouter.empty.pipe(
    HttpRouter.get(
      "/workflows/:identifier",
      api(({ params }) => ({ status: 200, body: store.getWorkflow(pathParam(params, "identifier")) }))
    ),
    HttpRouter.post(
      "/workflows/:identifier/run",
      api(({ body, params }) => {
        const { api_key: _key, ...rest } = body
        const started = store.runWorkflow(pathParam(params, "identifier"), rest)
        return { status: typeof rest.callback_url === "string" ? 202 : 201, body: started }
      })
    ),
    HttpRouter.get(
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
    HttpRouter.post(
      "/ws-token-request-library",
      api(({ url }) => ({
        status: 201,
        body: store.wsToken(defined({ capability: url.searchParams.get("capability") ?? undefined }))
      }))
    )
  )

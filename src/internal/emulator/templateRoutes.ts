/**
 * The emulator's prompt-registry routes, mounted by `PromptLayerEmulator.make`:
 *
 * | route | |
 * | --- | --- |
 * | POST `/rest/prompt-templates` (201) | publish a template version |
 * | POST `/prompt-templates/{name or id}` | a version, rendered for the body's `input_variables` |
 * | GET `/prompt-templates/{name or id}?version&label&include_llm_kwargs&resolve_snippets` | a version, raw |
 * | GET `/prompt-templates?page&per_page&label&name&tags&status` | the templates, a page at a time |
 *
 * Every route goes through the `api` wrapper (faults, JSON body, auth, persistence).
 */
import * as HttpRouter from "effect/http/HttpRouter"
import type { RouteDeps } from "./apiRoute.js"
import { bool, defined, numeric, pathParam } from "./requestParams.js"

/**
 * The prompt-registry routes as an array of routes, to add with the emulator's.
 *
 * @example
 * ```ts
 * const routes = [...logRoutes({ api, store }), ...templateRoutes({ api, store })]
 * ```
 */
export const templateRoutes = ({ api, store }: RouteDeps) => [
  HttpRouter.route(
    "POST",
    "/rest/prompt-templates",
    api(({ body }) => ({ status: 201, body: store.publishTemplate(body) }))
  ),
  HttpRouter.route(
    "POST",
    "/prompt-templates/:identifier",
    api(({ body, params }) => {
      const { api_key: _key, ...rest } = body
      return { status: 200, body: store.getTemplate(pathParam(params, "identifier"), rest) }
    })
  ),
  HttpRouter.route(
    "GET",
    "/prompt-templates/:identifier",
    api(({ url, params }) => ({
      status: 200,
      body: store.getTemplateRaw(
        pathParam(params, "identifier"),
        defined({
          version: numeric(url.searchParams.get("version")),
          label: url.searchParams.get("label") ?? undefined,
          include_llm_kwargs: bool(url.searchParams.get("include_llm_kwargs")),
          resolve_snippets: bool(url.searchParams.get("resolve_snippets"))
        })
      )
    }))
  ),
  HttpRouter.route(
    "GET",
    "/prompt-templates",
    api(({ url }) => ({
      status: 200,
      body: store.listTemplates(
        defined({
          page: numeric(url.searchParams.get("page")),
          per_page: numeric(url.searchParams.get("per_page")),
          label: url.searchParams.get("label") ?? undefined,
          name: url.searchParams.get("name") ?? undefined,
          tags: [...url.searchParams.getAll("tags"), ...url.searchParams.getAll("tags[]")],
          status: url.searchParams.get("status") ?? undefined
        })
      )
    }))
  )
]

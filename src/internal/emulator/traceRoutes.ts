/**
 * The emulator's trace routes, mounted by `PromptLayerEmulator.make`:
 *
 * | route | |
 * | --- | --- |
 * | POST `/spans-bulk` (201) | spans, with request logs for spans carrying `log_request` |
 * | GET `/api/public/v2/traces/{trace_id}` | the trace's spans (404 when unknown) |
 * | POST `/api/public/v2/traces/{trace_id}/close` (201; 409 when closed) | no more spans for that trace |
 * | GET `/emulator/traces`, `/emulator/traces/{trace_id}` | read API (no auth) |
 * | GET `/traces`, `/traces/{trace_id}` | dashboard pages (no auth) |
 *
 * The API routes go through the emulator's `api` wrapper (faults, JSON body, auth, persistence).
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import { renderNotFound } from "../dashboard.js"
import type { Store } from "../store.js"
import { renderTrace, renderTraces } from "./traceDashboard.js"

/** A route body of the emulator's `api` wrapper: the parsed request in, status and JSON body out. */
export type ApiHandler = (ctx: {
  readonly body: Record<string, unknown>
  readonly url: URL
  readonly params: Readonly<Record<string, string | undefined>>
}) => { readonly status: number; readonly body: unknown }

/** What the trace routes need from the emulator. */
export interface TraceRouteDeps<E, R> {
  /** The emulator's wrapper of authenticated API routes. */
  readonly api: (handler: ApiHandler) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
  readonly store: Store
}

const traceIdOf = (params: Readonly<Record<string, string | undefined>>): string => {
  const raw = params.traceId ?? ""
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

const json = (status: number, body: unknown) => HttpServerResponse.unsafeJson(body, { status })

/**
 * The trace routes as a router, to concatenate with the emulator's.
 *
 * @example
 * ```ts
 * const app = HttpRouter.concat(router, traceRoutes({ api, store }))
 * ```
 */
export const traceRoutes = <E, R>({ api, store }: TraceRouteDeps<E, R>) =>
  HttpRouter.empty.pipe(
    HttpRouter.post(
      "/spans-bulk",
      api(({ body }) => ({ status: 201, body: store.traces.createSpansBulk(body) }))
    ),
    HttpRouter.get(
      "/api/public/v2/traces/:traceId",
      api(({ params }) => ({ status: 200, body: store.traces.getTrace(traceIdOf(params)) }))
    ),
    HttpRouter.post(
      "/api/public/v2/traces/:traceId/close",
      api(({ params }) => ({ status: 201, body: store.traces.closeTrace(traceIdOf(params)) }))
    ),
    HttpRouter.get(
      "/emulator/traces",
      Effect.sync(() => json(200, { items: store.traces.list() }))
    ),
    HttpRouter.get(
      "/emulator/traces/:traceId",
      Effect.map(HttpRouter.params, (params) => {
        const traceId = traceIdOf(params)
        const spans = store.traces.spansOf(traceId)
        return spans.length === 0
          ? json(404, { success: false, message: `Trace ${traceId} not found` })
          : json(200, { trace_id: traceId, closure: store.traces.closure(traceId) ?? null, spans })
      })
    ),
    HttpRouter.get(
      "/traces",
      Effect.sync(() => HttpServerResponse.html(renderTraces(store.traces.list())))
    ),
    HttpRouter.get(
      "/traces/:traceId",
      Effect.map(HttpRouter.params, (params) => {
        const traceId = traceIdOf(params)
        const spans = store.traces.spansOf(traceId)
        return spans.length === 0
          ? HttpServerResponse.html(renderNotFound(`Trace ${traceId}`)).pipe(HttpServerResponse.setStatus(404))
          : HttpServerResponse.html(
              renderTrace(traceId, spans, store.traces.closure(traceId), (id) => store.request(id))
            )
      })
    )
  )

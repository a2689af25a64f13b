/**
 * The emulator's trace routes, mounted by `PromptLayerEmulator.make`:
 *
 * | route | |
 * | --- | --- |
 * | POST `/v1/traces?close_after` | OTLP JSON spans, kept as sent (GET `/emulator/spans`); `close_after=true` closes their traces; 409 `{ error, trace_ids }` (nothing kept) for a span of a closed trace |
 * | POST `/spans-bulk` (201) | spans, with request logs for spans carrying `log_request` |
 * | GET `/api/public/v2/traces/{trace_id}` | the trace's spans, times as ISO-8601 with nine fraction digits (404 when unknown) |
 * | POST `/api/public/v2/traces/{trace_id}/close` (201; 409 when closed) | no more spans for that trace |
 * | GET `/emulator/traces`, `/emulator/traces/{trace_id}` | read API (no auth); a trace's span times are exact JSON integers of nanoseconds |
 * | GET `/traces`, `/traces/{trace_id}` | dashboard pages (no auth) |
 *
 * The API routes go through the emulator's `api` wrapper (faults, JSON body, auth, persistence).
 */
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Effect from "effect/Effect"
import type { RouteDeps } from "./apiRoute.js"
import { renderNotFound } from "./dashboard.js"
import { stringifyExact } from "./exactJson.js"
import { bool, defined, pathParam } from "./requestParams.js"
import { renderTrace, renderTraces } from "./traceDashboard.js"

const traceIdOf = (params: Readonly<Record<string, string | undefined>>): string => pathParam(params, "traceId")

const json = (status: number, body: unknown) => HttpServerResponse.jsonUnsafe(body, { status })

/** A JSON response whose `bigint`s are written as JSON integers with every digit. */
const exactJson = (status: number, body: unknown) =>
  HttpServerResponse.text(stringifyExact(body), { status, contentType: "application/json" })

/**
 * The trace routes as an array of routes, to add with the emulator's.
 *
 * @example
 * ```ts
 * const routes = [...otherRoutes, ...traceRoutes({ api, store })]
 * ```
 */
export const traceRoutes = ({ api, store }: RouteDeps) => [
  HttpRouter.route(
    "POST",
    "/v1/traces",
    api(({ body, url }) => {
      store.exportTraces(body, defined({ close_after: bool(url.searchParams.get("close_after")) }))
      return { status: 200, body: {} }
    })
  ),
  HttpRouter.route(
    "POST",
    "/spans-bulk",
    api(
      ({ body, bodyChars }) => ({
        status: 201,
        body: store.traces.createSpansBulk(body, { owned: true, bodyChars })
      }),
      { exactIntegers: true }
    )
  ),
  HttpRouter.route(
    "GET",
    "/api/public/v2/traces/:traceId",
    api(({ params }) => ({ status: 200, body: store.traces.getTrace(traceIdOf(params)) }))
  ),
  HttpRouter.route(
    "POST",
    "/api/public/v2/traces/:traceId/close",
    api(({ params }) => ({ status: 201, body: store.traces.closeTrace(traceIdOf(params)) }))
  ),
  HttpRouter.route(
    "GET",
    "/emulator/traces",
    Effect.sync(() => json(200, { items: store.traces.list() }))
  ),
  HttpRouter.route(
    "GET",
    "/emulator/traces/:traceId",
    Effect.map(HttpRouter.params, (params) => {
      const traceId = traceIdOf(params)
      const spans = store.traces.spansOf(traceId)
      return spans.length === 0
        ? json(404, { success: false, message: `Trace ${traceId} not found` })
        : exactJson(200, {
            trace_id: traceId,
            closure: store.traces.closure(traceId) ?? null,
            spans: spans.map((s) => ({ ...s, start_time: BigInt(s.start_time), end_time: BigInt(s.end_time) }))
          })
    })
  ),
  HttpRouter.route(
    "GET",
    "/traces",
    Effect.sync(() => HttpServerResponse.html(renderTraces(store.traces.list())))
  ),
  HttpRouter.route(
    "GET",
    "/traces/:traceId",
    Effect.map(HttpRouter.params, (params) => {
      const traceId = traceIdOf(params)
      const spans = store.traces.spansOf(traceId)
      return spans.length === 0
        ? HttpServerResponse.html(renderNotFound(`Trace ${traceId}`)).pipe(HttpServerResponse.setStatus(404))
        : HttpServerResponse.html(renderTrace(traceId, spans, store.traces.closure(traceId), (id) => store.request(id)))
    })
  )
]

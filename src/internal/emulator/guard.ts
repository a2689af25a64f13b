/**
 * The emulator's request guard: one wrapper around the whole app, so every route (including routes
 * added later) gets the same checks, in this order:
 *
 * 1. `Host` must be an address the emulator serves (DNS rebinding) → 403;
 * 2. a state-changing method (not GET/HEAD/OPTIONS) from a foreign `Origin` → 403;
 * 3. a non-empty body of a state-changing method must be JSON (`Content-Type: application/json`, so a
 *    cross-site "simple" form or `no-cors` fetch cannot send one) → 415;
 * 4. state-changing `/emulator/*` routes need the API key in `X-API-KEY` → 401;
 * 5. a JSON body nested deeper than `maxJsonDepth` → 422, before anything parses it.
 *
 * Every response gets `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and the
 * dashboard's Content Security Policy.
 */
import * as Os from "node:os"
import * as Effect from "effect/Effect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { CONTENT_SECURITY_POLICY } from "./dashboard.js"
import { scanJson } from "./exactJson.js"
import { requestText } from "./nodeHttp.js"

/** Options of {@link guard}. */
export interface GuardOptions {
  /** The key required on state-changing `/emulator/*` routes. */
  readonly apiKey: string
  /** Whether a `Host` header value (`host[:port]`, lower case) is served; see {@link allowedHosts}. */
  readonly isAllowedHost: (host: string) => boolean
  /** Deepest accepted nesting of a JSON body (objects and arrays). */
  readonly maxJsonDepth: number
}

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"]

const bracket = (host: string) => (host.includes(":") && !host.startsWith("[") ? `[${host}]` : host).toLowerCase()

const hostname = (host: string) => (host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!)

/**
 * The `Host` check: loopback names and the bound address at the served port (every interface
 * address and the machine's name when bound to all interfaces), plus `extra` entries: `*` allows
 * any host, `name` allows that name at any port, `name:port` only at that port.
 */
export const allowedHosts = (bound: string, port: number, extra: ReadonlyArray<string> = []) => {
  if (extra.includes("*")) return (_host: string) => true
  const names = new Set([...LOOPBACK, bracket(bound)])
  if (bound === "0.0.0.0" || bound === "::") {
    names.add(Os.hostname().toLowerCase())
    for (const list of Object.values(Os.networkInterfaces())) {
      for (const info of list ?? []) names.add(bracket(info.address))
    }
  }
  const exact = new Set<string>()
  for (const name of names) {
    exact.add(`${name}:${port}`)
    if (port === 80) exact.add(name)
  }
  const anyPort = new Set<string>()
  for (const entry of extra.map((e) => e.trim().toLowerCase()).filter((e) => e !== "")) {
    if (/^(\[[^\]]+\]|[^:[\]]+):\d+$/.test(entry)) exact.add(entry)
    else anyPort.add(bracket(entry))
  }
  return (host: string) => exact.has(host) || anyPort.has(hostname(host))
}

/** True when `text` (JSON) nests deeper than `limit`; a linear scan, no recursion (see `exactJson.ts`). */
export const jsonDepthExceeds = (text: string, limit: number): boolean => scanJson(text, limit).tooDeep

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"])

const refuse = (status: number, message: string) =>
  Effect.succeed(HttpServerResponse.jsonUnsafe({ success: false, message }, { status }))

const isJson = (contentType: string) => {
  const type = contentType.split(";")[0]!.trim().toLowerCase()
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"))
}

const check = (
  request: HttpServerRequest.HttpServerRequest,
  options: GuardOptions
): Effect.Effect<HttpServerResponse.HttpServerResponse | undefined, never, HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function* () {
    const host = (request.headers.host ?? "").toLowerCase()
    if (!options.isAllowedHost(host)) {
      return yield* refuse(403, `Host '${host}' is not allowed: add it to allowedHosts (--allowed-host) to serve it`)
    }
    if (SAFE_METHODS.has(request.method)) return undefined
    const origin = request.headers.origin
    if (origin !== undefined && !options.isAllowedHost(originHost(origin))) {
      return yield* refuse(403, `Cross-origin request from '${origin}' refused`)
    }
    const text = yield* requestText
    if (text.length > 0 && !isJson(request.headers["content-type"] ?? "")) {
      return yield* refuse(
        415,
        `Unsupported content type '${request.headers["content-type"] ?? ""}': the emulator accepts JSON bodies (application/json)`
      )
    }
    const path = new URL(request.url, "http://emulator.local").pathname
    if (path.startsWith("/emulator/") && request.headers["x-api-key"] !== options.apiKey) {
      return yield* refuse(
        401,
        request.headers["x-api-key"] === undefined ? "API key required (X-API-KEY)" : "Invalid API key"
      )
    }
    if (jsonDepthExceeds(text, options.maxJsonDepth)) {
      return HttpServerResponse.jsonUnsafe(
        {
          detail: [
            {
              loc: ["body"],
              msg: `JSON nested deeper than ${options.maxJsonDepth} levels (maxJsonDepth)`,
              type: "too_deep"
            }
          ]
        },
        { status: 422 }
      )
    }
    return undefined
  })

const originHost = (origin: string) => {
  try {
    const url = new URL(origin)
    return url.protocol === "http:" || url.protocol === "https:" ? url.host.toLowerCase() : ""
  } catch {
    return ""
  }
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy": CONTENT_SECURITY_POLICY
}

/**
 * Wraps `app` with the checks of this module and the security headers.
 *
 * @example
 * ```ts
 * yield* server.serve(guard({ apiKey, isAllowedHost: allowedHosts(host, port), maxJsonDepth: 64 })(app))
 * ```
 */
export const guard =
  (options: GuardOptions) =>
  <E, R>(
    app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest> =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const refused = yield* check(request, options)
      const response = refused ?? (yield* app)
      return HttpServerResponse.setHeaders(response, SECURITY_HEADERS)
    })

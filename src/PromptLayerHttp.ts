/**
 * The `HttpClient` layers the client can run over.
 *
 * - {@link layerNode}: `node:http`/`node:https` with keep-alive agents. About two thirds of the CPU
 *   per request of `fetch` on Node (no web `Request`/`Response` objects, no undici streams), which
 *   is what bounds the tracker's logs per second on one core.
 * - {@link layerFetch}: Effect's `FetchHttpClient` over the global `fetch`, for any runtime.
 * - {@link layerDefault}: `layerNode` where `node:http` is available (Node, Bun, Deno), otherwise
 *   `layerFetch`. The LangChain handler and the Promise bridge use it.
 *
 * Neither follows redirects: a 3xx comes back as it is, and the client fails it with a
 * `RedirectError` (status and `Location`), so that the `X-API-KEY` header never goes to another
 * address than the configured base URL, and a 302 never turns a POST into a GET. (Effect's own
 * `FetchHttpClient.layer` lets `fetch` follow them: prefer `layerFetch`.) The node:http client also stops
 * reading a body past the request's size limit (see `PromptLayerConfig.maxResponseBytes`).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { PromptLayerClient, PromptLayerHttp } from "promptlayer-effect"
 *
 * const client = PromptLayerClient.layerConfig().pipe(Layer.provide(PromptLayerHttp.layerNode()))
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as NodeHttpClient from "./internal/nodeHttpClient.js"

/**
 * Options of {@link layerNode}.
 *
 * @since 0.1.0
 * @category Models
 */
export interface NodeOptions extends NodeHttpClient.Options {}

/**
 * An `HttpClient` over `node:http`/`node:https`, with its own keep-alive agents (closed with the
 * layer). Request bodies: empty, bytes or text (what the client sends); responses are read in full,
 * up to the size limit the client sets for the call (32 MiB by default): past it the socket is
 * destroyed. Redirects are returned, never followed.
 * Transport failures, aborts included, are `HttpClientError`s with a `TransportError` reason, as with
 * fetch.
 * Dies when built outside a runtime with `node:http` (see {@link nodeAvailable}).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerNode = (options: NodeOptions = {}): Layer.Layer<HttpClient.HttpClient> =>
  NodeHttpClient.layer(options)

/**
 * `FetchHttpClient` over the global `fetch` (or the `FetchHttpClient.Fetch` you provide), with
 * `redirect: "manual"` on every request: a 3xx is returned, not followed. A `FetchHttpClient.RequestInit`
 * you provide (to the layer or to a call) is kept, except for `redirect`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerFetch: Layer.Layer<HttpClient.HttpClient> = Layer.effect(
  HttpClient.HttpClient,
  Effect.gen(function* () {
    const layerInit = Option.getOrUndefined(yield* Effect.serviceOption(FetchHttpClient.RequestInit))
    const client = yield* HttpClient.HttpClient
    return HttpClient.transform(client, (execute) =>
      Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (callInit) =>
        Effect.provideService(execute, FetchHttpClient.RequestInit, {
          ...layerInit,
          ...Option.getOrUndefined(callInit),
          redirect: "manual"
        })
      )
    )
  })
).pipe(Layer.provide(FetchHttpClient.layer))

/**
 * Whether this runtime has `node:http` (loaded through `process.getBuiltinModule`).
 *
 * @since 0.1.0
 * @category Utils
 */
export const nodeAvailable = (): boolean => NodeHttpClient.available()

/**
 * {@link layerNode} where `node:http` is available, {@link layerFetch} elsewhere.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerDefault: Layer.Layer<HttpClient.HttpClient> = Layer.suspend(() =>
  NodeHttpClient.available() ? NodeHttpClient.layer() : layerFetch
)

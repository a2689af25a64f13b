/**
 * The `HttpClient` layers the client can run over.
 *
 * - {@link layerNode}: `node:http`/`node:https` with keep-alive agents. About two thirds of the CPU
 *   per request of `fetch` on Node (no web `Request`/`Response` objects, no undici streams), which
 *   is what bounds the tracker's logs per second on one core.
 * - {@link layerFetch}: `@effect/platform`'s `FetchHttpClient` over the global `fetch`, for any runtime.
 * - {@link layerDefault}: `layerNode` where `node:http` is available (Node, Bun, Deno), otherwise
 *   `layerFetch`. The LangChain handler and the Promise bridge use it.
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
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Layer from "effect/Layer"
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
 * layer). Request bodies: empty, bytes or text (what the client sends); responses are read in full.
 * Transport failures, aborts included, are `RequestError`s with reason `Transport`, as with fetch.
 * Dies when built outside a runtime with `node:http` (see {@link nodeAvailable}).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerNode = (options: NodeOptions = {}): Layer.Layer<HttpClient.HttpClient> =>
  NodeHttpClient.layer(options)

/**
 * `FetchHttpClient` over the global `fetch`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerFetch: Layer.Layer<HttpClient.HttpClient> = FetchHttpClient.layer

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
  NodeHttpClient.available() ? NodeHttpClient.layer() : FetchHttpClient.layer
)

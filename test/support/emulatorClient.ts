/**
 * The real PromptLayer client pointed at a running emulator (over fetch, loopback only).
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { FetchHttpClient, type HttpClient } from "effect/http"
import { PromptLayerClient, type PromptLayerRetryPolicy } from "promptlayer-effect"
import type { PromptLayerEmulator } from "promptlayer-effect/emulator"

/** Fast retries for tests: short backoff, no jitter, `Retry-After` capped at 50 ms. */
export const fastRetry: PromptLayerRetryPolicy.Options = {
  maxAttempts: 3,
  initialDelay: "5 millis",
  maxDelay: "20 millis",
  jitter: false,
  maxRetryAfter: "50 millis",
  // Far above a loopback call on a machine loaded by other processes: the cases that test a
  // timeout set their own attempt timeout against a latency fault.
  attemptTimeout: "30 seconds",
  deadline: "60 seconds"
}

/** Options of {@link clientLayer}: another key, a retry policy, another `HttpClient` (default: fetch). */
export interface ClientOptions {
  readonly apiKey?: string
  readonly retry?: PromptLayerRetryPolicy.Options
  readonly http?: Layer.Layer<HttpClient.HttpClient>
}

/** The client layer for an emulator (its URL, and its key unless another is given). */
export const clientLayer = (
  emulator: Pick<PromptLayerEmulator.RunningEmulator, "url" | "apiKey">,
  options: ClientOptions = {}
): Layer.Layer<PromptLayerClient.PromptLayerClient> =>
  PromptLayerClient.layerWith({
    apiKey: options.apiKey ?? emulator.apiKey,
    baseUrl: emulator.url,
    retry: options.retry ?? { ...fastRetry, maxAttempts: 1 }
  }).pipe(Layer.provide(options.http ?? FetchHttpClient.layer))

/** Runs `f` with a client for the emulator. */
export const withClient = <A, E>(
  emulator: Pick<PromptLayerEmulator.RunningEmulator, "url" | "apiKey">,
  f: (client: PromptLayerClient.Service) => Effect.Effect<A, E>,
  options: ClientOptions = {}
): Effect.Effect<A, E> =>
  Effect.flatMap(PromptLayerClient.PromptLayerClient, f).pipe(Effect.provide(clientLayer(emulator, options)))

/** A chat prompt of one message. */
export const chat = (role: string, text: string) => ({
  type: "chat" as const,
  messages: [{ role, content: [{ type: "text", text }] }]
})

/** Headers of a call to a state-changing `/emulator/*` route (reset, faults): JSON and the key. */
export const controlHeaders = (emulator: Pick<PromptLayerEmulator.RunningEmulator, "apiKey">) => ({
  "content-type": "application/json",
  "x-api-key": emulator.apiKey
})

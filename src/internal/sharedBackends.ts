/**
 * The backends of plain-constructed handlers: one client and one tracker per configuration, shared
 * by every handler built with it, and the process hooks that flush them all at shutdown.
 *
 * @internal
 */
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as PromptLayerClient from "../PromptLayerClient.js"
import * as PromptLayerConfig from "../PromptLayerConfig.js"
import * as PromptLayerHttp from "../PromptLayerHttp.js"
import * as PromptLayerRetryPolicy from "../PromptLayerRetryPolicy.js"
import * as PromptLayerTracker from "../PromptLayerTracker.js"
import type { TraceRecorder } from "./traceRecorder.js"

/** What a backend is built from: the tracker options, the key, the base URL, the response limit and the retry policy. */
export interface BackendOptions extends PromptLayerTracker.Options {
  readonly apiKey?: string | undefined
  readonly baseURL?: string | undefined
  readonly maxResponseBytes?: number | undefined
  readonly retry?: PromptLayerRetryPolicy.Options | undefined
}

/**
 * `maxResponseBytes` of the options, else `PROMPTLAYER_MAX_RESPONSE_BYTES` as a number (an invalid
 * one is reported by the config check, naming the variable), else undefined (the client's default).
 */
const maxResponseBytesOf = (options: BackendOptions): number | undefined => {
  if (options.maxResponseBytes !== undefined) return options.maxResponseBytes
  const env = envVar("PROMPTLAYER_MAX_RESPONSE_BYTES")
  return env === undefined || env.trim() === "" ? undefined : Number(env)
}

/** A tracker handlers deliver to, how to shut it down, and the recorders with runs still open on it. */
export interface Backend {
  readonly tracker: PromptLayerTracker.Service
  readonly shutdown: () => Promise<void>
  /** Trace recorders of this backend's handlers that have open runs: logged as partial at shutdown. */
  readonly recorders: Set<TraceRecorder>
}

/** Why runs still open at shutdown are logged as partial. */
export const SHUTDOWN_REASON = "the handler shut down"

/** Logs the open runs of every recorder of a backend as partial (before its tracker shuts down). */
export const closeRecorders = (backend: Backend) => {
  for (const recorder of [...backend.recorders]) recorder.closeAll(SHUTDOWN_REASON)
}

const registry = new Map<string, Backend>()

const trackerOptionsOf = (options: PromptLayerTracker.Options): PromptLayerTracker.Options => ({
  concurrency: options.concurrency,
  maxQueued: options.maxQueued,
  maxBatchSpans: options.maxBatchSpans,
  maxBatchBytes: options.maxBatchBytes,
  batchDelay: options.batchDelay,
  dropPolicy: options.dropPolicy,
  shutdownTimeout: options.shutdownTimeout,
  requestIdBuffer: options.requestIdBuffer,
  rememberRuns: options.rememberRuns
})

/** An environment variable, or undefined outside Node. */
export const envVar = (name: string): string | undefined =>
  typeof process !== "undefined" && process.env !== undefined ? process.env[name] : undefined

/**
 * The backend of a configuration (key, base URL, tracker and retry options): `acquire` returns the
 * shared one, making it on first use (or after a shutdown); `peek` returns it without making one.
 */
export const sharedBackend = (
  options: BackendOptions
): { key: string; acquire: () => Backend; peek: () => Backend | undefined } => {
  const apiKey = options.apiKey ?? envVar("PROMPTLAYER_API_KEY") ?? ""
  const baseUrl = options.baseURL ?? envVar("PROMPTLAYER_BASE_URL")
  const maxResponseBytes = maxResponseBytesOf(options)
  const config = PromptLayerConfig.make({ apiKey, baseUrl, maxResponseBytes })
  if (config._tag === "Failure") {
    const hint =
      options.maxResponseBytes === undefined &&
      maxResponseBytes !== undefined &&
      config.failure.includes("maxResponseBytes")
        ? " (from PROMPTLAYER_MAX_RESPONSE_BYTES)"
        : ""
    throw new Error(`PromptLayerCallbackHandler: ${config.failure}${hint}`)
  }
  const trackerOptions = trackerOptionsOf(options)
  const key = JSON.stringify([
    apiKey,
    config.success.baseUrl,
    config.success.maxResponseBytes,
    trackerOptions,
    options.retry ?? null,
    String(options.retry?.retryOn ?? "")
  ])
  const acquire = (): Backend => {
    const existing = registry.get(key)
    if (existing !== undefined) return existing
    const layer = PromptLayerTracker.layer(trackerOptions).pipe(
      Layer.provide(PromptLayerClient.layer()),
      Layer.provide(Layer.succeed(PromptLayerConfig.PromptLayerConfig, config.success)),
      Layer.provide(
        options.retry === undefined ? PromptLayerRetryPolicy.layerDefault : PromptLayerRetryPolicy.layer(options.retry)
      ),
      Layer.provide(PromptLayerHttp.layerDefault)
    )
    const runtime = ManagedRuntime.make(layer)
    const tracker = runtime.runSync(PromptLayerTracker.PromptLayerTracker)
    let closing: Promise<void> | undefined
    const backend: Backend = {
      tracker,
      recorders: new Set(),
      shutdown: () => {
        if (closing === undefined) {
          if (registry.get(key) === backend) registry.delete(key)
          closeRecorders(backend)
          closing = runtime.runPromise(tracker.shutdown).then(() => runtime.dispose())
        }
        return closing
      }
    }
    registry.set(key, backend)
    return backend
  }
  return { key, acquire, peek: () => registry.get(key) }
}

/**
 * Shuts down every shared tracker created by plain construction (flushing each first).
 *
 * @since 0.1.0
 * @category Lifecycle
 */
export const shutdownAll = async (): Promise<void> => {
  await awaitAllCallbacks()
  await Promise.all([...registry.values()].map((backend) => backend.shutdown()))
}

/**
 * Options of {@link installShutdownHooks}.
 *
 * @since 0.1.0
 * @category Lifecycle
 */
export interface ShutdownHooksOptions {
  /**
   * How long a hook waits for the logs at most. Default 5 s: within the 10 s that Docker and Cloud
   * Run give between `SIGTERM` and `SIGKILL`.
   */
  readonly deadline?: Duration.Input | undefined
  /** The signals that flush, then re-raise. Default `["SIGTERM", "SIGINT"]`; `[]` for none. */
  readonly signals?: ReadonlyArray<NodeJS.Signals> | undefined
  /** Also flush on `beforeExit` (the event loop ran empty with logs still pending). Default true. */
  readonly beforeExit?: boolean | undefined
  /** Called when a hook's flush ends, before the signal is re-raised; `timedOut` if the deadline came first. */
  readonly onShutdown?: ((outcome: ShutdownOutcome) => void) | undefined
}

/**
 * How a shutdown hook ended (see {@link ShutdownHooksOptions.onShutdown}).
 *
 * @since 0.1.0
 * @category Lifecycle
 */
export interface ShutdownOutcome {
  readonly trigger: NodeJS.Signals | "beforeExit"
  readonly timedOut: boolean
}

let installedHooks: (() => void) | undefined
let hookRun: Promise<boolean> | undefined

/** {@link shutdownAll}, given up at the deadline; a ref'd timer keeps the process alive meanwhile. */
const shutdownWithin = (deadlineMs: number): Promise<boolean> => {
  hookRun ??= new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(true), deadlineMs)
    const done = () => {
      clearTimeout(timer)
      resolve(false)
    }
    shutdownAll().then(done, done)
  }).then((timedOut) => {
    hookRun = undefined
    if (timedOut) {
      Effect.runFork(
        Effect.logWarning("PromptLayer shutdown hook: deadline reached before every log was delivered").pipe(
          Effect.annotateLogs({ deadlineMs })
        )
      )
    }
    return timedOut
  })
  return hookRun
}

/**
 * Installs process hooks that deliver the pending logs of every handler built by plain
 * construction ({@link shutdownAll}) before the process goes, for servers and long-running workers
 * (a script or a serverless function should `await handler.flush()` instead):
 *
 * - on `SIGTERM` / `SIGINT` (`signals`): flush within `deadline`, then, if no other listener of
 *   that signal is left, re-raise it, so the process ends as it would have without the hook
 *   (with another listener, ending the process is left to it);
 * - on `beforeExit`, when shared handlers exist: flush within `deadline`; the process then exits
 *   as usual (at once with `process.exitCode` if the deadline came first).
 *
 * A ref'd timer keeps the process alive while a hook flushes. Installing again while installed
 * changes nothing and returns the same uninstall function. Does nothing outside Node.js.
 *
 * @example
 * ```ts
 * import { installShutdownHooks, PromptLayerCallbackHandler } from "promptlayer-effect/langchain"
 *
 * const uninstall = installShutdownHooks({ deadline: "8 seconds" })
 * const handler = new PromptLayerCallbackHandler({ plTags: ["api"] })
 * // ... serve requests; on SIGTERM the pending logs are delivered (at most 8 s), then the process ends
 * ```
 *
 * @since 0.1.0
 * @category Lifecycle
 */
export const installShutdownHooks = (options: ShutdownHooksOptions = {}): (() => void) => {
  if (installedHooks !== undefined) return installedHooks
  if (typeof process === "undefined" || typeof process.on !== "function") return () => {}
  const deadlineMs = Math.min(
    Duration.toMillis(Duration.fromInputUnsafe(options.deadline ?? Duration.seconds(5))),
    2 ** 31 - 1
  )
  const signals = [...(options.signals ?? ["SIGTERM", "SIGINT"])]
  const report = (outcome: ShutdownOutcome) => {
    try {
      options.onShutdown?.(outcome)
    } catch {
      // The process is going away; a failing report must not stop it.
    }
  }
  const onSignal = (signal: NodeJS.Signals) => {
    void shutdownWithin(deadlineMs).then((timedOut) => {
      report({ trigger: signal, timedOut })
      process.removeListener(signal, onSignal)
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    })
  }
  const onBeforeExit = () => {
    // Nothing left to deliver: let the process exit (and end the beforeExit cycle).
    if (registry.size === 0 || hookRun !== undefined) return
    void shutdownWithin(deadlineMs).then((timedOut) => {
      report({ trigger: "beforeExit", timedOut })
      if (timedOut) process.exit()
    })
  }
  for (const signal of signals) process.on(signal, onSignal)
  if (options.beforeExit !== false) process.on("beforeExit", onBeforeExit)
  const uninstall = () => {
    if (installedHooks !== uninstall) return
    installedHooks = undefined
    for (const signal of signals) process.removeListener(signal, onSignal)
    process.removeListener("beforeExit", onBeforeExit)
  }
  installedHooks = uninstall
  return uninstall
}

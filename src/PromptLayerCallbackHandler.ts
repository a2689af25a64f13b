/**
 * A LangChain.js callback handler that logs every LLM and chat model call to PromptLayer
 * (`POST /log-request`, blueprint format) without slowing the call.
 *
 * Each `handle*` method only records a few references in memory and returns; conversion to
 * PromptLayer's format and the HTTP call happen later in the background {@link PromptLayerTracker}
 * (bounded queue, bounded concurrency, retries with backoff, counted drops). The methods never
 * wait on the network and never throw; handler failures are counted and reported once as a warning.
 *
 * **Plain construction** reads `PROMPTLAYER_API_KEY` / `PROMPTLAYER_BASE_URL` (options `apiKey`,
 * `baseURL` override). Every handler built with the same configuration shares one client and one
 * delivery queue. **The Effect way**, {@link PromptLayerCallbackHandler.make}, uses the app's own
 * {@link PromptLayerTracker} (and so its client, retry and timeout layers) and flushes when its scope
 * closes.
 *
 * What is logged per prompt: provider and model (invocation params → `ls_provider`/`ls_model_name`
 * metadata → response metadata), input and output messages with roles, tool calls and tool results
 * (or completion prompts for LLMs), parameters, start/end times, tokens (`usage_metadata`, else
 * `llmOutput.tokenUsage`), tags (`plTags` + the run's tags), metadata (the run's metadata as strings
 * plus `langchain_run_id`, `langchain_parent_run_id`, `langchain_run_name`, `time_to_first_token_ms`
 * when streaming), errors as `status: "ERROR"` with an `error_type`, and the registry template named by
 * the run's (or its prompt template's) `promptlayer_prompt_*` metadata. All `n > 1` candidates are kept
 * in the one request of their prompt (one assistant message per candidate).
 *
 * `hideInputs`, `hideOutputs` and `mask` (see `PromptLayerRedaction`) decide what is sent; they run in
 * the background as the logs are built, and fail closed.
 *
 * Runs that never end (a stream abandoned by its consumer) are evicted after `runTtl` and logged
 * with `status: "WARNING"`, `error_type: "PROVIDER_PARTIAL_RESPONSE"`.
 *
 * In serverless code, `await handler.flush()` before the function returns (or hand it to the
 * platform's `waitUntil`); it first awaits LangChain's own background callback queue
 * (`awaitAllCallbacks`). With `deliverOnRootEnd`, each trace is sent as soon as its root run ends,
 * so that flush has little left to wait for.
 * In a server, {@link installShutdownHooks} flushes every handler on `SIGTERM`/`SIGINT` and
 * `beforeExit` within a deadline.
 *
 * @example
 * ```ts
 * import { ChatOpenAI } from "@langchain/openai"
 * import { PromptLayerCallbackHandler } from "promptlayer-effect/langchain"
 *
 * const handler = new PromptLayerCallbackHandler({ plTags: ["chatopenai"], plIdCallback: (id) => console.log(id) })
 * const chat = new ChatOpenAI({ temperature: 0, callbacks: [handler] })
 * const answer = await chat.invoke("Hello", { runId: "0b0d5e4c-..." })
 * const requestId = await handler.requestIdFor("0b0d5e4c-...")
 * await handler.flush()
 * ```
 *
 * @since 0.1.0
 */
import type { BaseCallbackHandlerInput } from "@langchain/core/callbacks/base"
import { BaseCallbackHandler } from "@langchain/core/callbacks/base"
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises"
import type { Serialized } from "@langchain/core/load/serializable"
import type { BaseMessage } from "@langchain/core/messages"
import type { LLMResult } from "@langchain/core/outputs"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { resumeLater } from "./internal/backgroundTimers.js"
import * as Blueprint from "./internal/blueprint.js"
import { RecentMap } from "./internal/recentMap.js"
import { Redactor } from "./internal/redaction.js"
import { type Backend, closeRecorders, envVar, SHUTDOWN_REASON, sharedBackend } from "./internal/sharedBackends.js"
import * as SpanMapper from "./internal/spanMapper.js"
import { type ModelData, type ModelStart, TraceRecorder, treeFor } from "./internal/traceRecorder.js"
import {
  makeSampler,
  type SamplingStats,
  samplingOptionsOf,
  samplingStatsOf,
  type TraceSampler
} from "./internal/traceSampler.js"
import type * as PromptLayerRedaction from "./PromptLayerRedaction.js"
import type * as PromptLayerRetryPolicy from "./PromptLayerRetryPolicy.js"
import * as PromptLayerTracker from "./PromptLayerTracker.js"

// =============================================================================
// Options
// =============================================================================

/**
 * Options of the handler. Tracker options (`concurrency`, `maxQueued`, `dropPolicy`, ...) apply to
 * the shared tracker of plain construction and are part of its sharing key.
 *
 * @since 0.1.0
 * @category Models
 */
export interface PromptLayerCallbackHandlerOptions
  extends PromptLayerTracker.Options,
    PromptLayerRedaction.RedactionOptions {
  /**
   * `"traces"` (default): the whole run tree (chains, tools, retrievers, model calls) as spans
   * through `POST /spans-bulk`, each model call's request log attached to its span.
   * `"requests"`: one `POST /log-request` per model call, nothing else.
   */
  readonly mode?: "traces" | "requests" | undefined
  /** `service.name` of the spans' resource (traces mode). Default `OTEL_SERVICE_NAME`, else `"langchain"`. */
  readonly serviceName?: string | undefined
  /** Tags added to every request, before the run's LangChain tags. */
  readonly plTags?: ReadonlyArray<string> | undefined
  /** Called with each PromptLayer request id once its log is delivered (sync or async); errors are reported, not thrown. */
  readonly plIdCallback?: ((requestId: number) => unknown) | undefined
  /** Overrides `PROMPTLAYER_API_KEY`. */
  readonly apiKey?: string | undefined
  /** Overrides `PROMPTLAYER_BASE_URL`. */
  readonly baseURL?: string | undefined
  /**
   * The largest PromptLayer response the shared client reads, in bytes (plain construction); a
   * larger one fails that delivery with a `ResponseTooLargeError`. Overrides
   * `PROMPTLAYER_MAX_RESPONSE_BYTES`; default 32 MiB. A value that is not a positive integer
   * throws at construction.
   */
  readonly maxResponseBytes?: number | undefined
  /** Retry and timeout policy of the shared client (plain construction). Default: the client's default. */
  readonly retry?: PromptLayerRetryPolicy.Options | undefined
  /**
   * A run with no event for this long is evicted (and logged as partial). Checked on the handler's
   * later events (at most every TTL/4) and on `flush()`; no timer. Default 10 minutes.
   */
  readonly runTtl?: Duration.Input | undefined
  /** Runs tracked at once at most; the oldest is evicted beyond. Default 10 000. */
  readonly maxRuns?: number | undefined
  /** Log evicted (abandoned) runs with status WARNING. Default true. */
  readonly logAbandonedRuns?: boolean | undefined
  /**
   * Traces mode: send a trace as soon as its root run ends, without waiting for the rest of
   * `batchDelay`, so that a `flush()` at the end of a request (serverless) has little or nothing
   * left to wait for. The spans that ended before the root still wait in the open batch until then,
   * so a trace normally leaves in one `/spans-bulk` call; the cost is smaller batches under load
   * (about one call per trace). Requests mode sends each log at once anyway: no effect there.
   * Default false.
   */
  readonly deliverOnRootEnd?: boolean | undefined
  /** The clock, in epoch milliseconds (tests). Default `Date.now`. */
  readonly now?: (() => number) | undefined
  /**
   * The share of traces sent, 0 to 1 (default 1: all). Decided once per trace at its root run from
   * the trace id (deterministic: every run of a trace is kept or dropped together, and two processes
   * agree). In requests mode, a model call follows the trace of its topmost run. Anything outside
   * 0–1 throws at construction.
   */
  readonly sampleRate?: number | undefined
  /**
   * With `sampleRate` below 1: record sampled-out traces anyway, hold their spans until the root run
   * ends, and send them only if a run in them failed (requests mode: log a sampled-out model call
   * only if it failed). Default false. Holding costs memory (see {@link maxHeldTraces}).
   */
  readonly keepErrors?: boolean | undefined
  /** Sampled-out traces held at once at most (`keepErrors`); beyond, one is dropped unchecked and counted. Default 1000. */
  readonly maxHeldTraces?: number | undefined
  /** Spans held at once at most over all held traces (`keepErrors`); the trace that would exceed it is given up and counted. Default 10 000. */
  readonly maxHeldSpans?: number | undefined
}

/**
 * The handler's counters: the tracker's plus its own run bookkeeping.
 *
 * @since 0.1.0
 * @category Models
 */
export interface PromptLayerCallbackHandlerStats extends PromptLayerTracker.Stats, SamplingStats {
  /** Runs started and not yet ended. */
  readonly activeRuns: number
  /** Starts and ends ignored because the run was already started or already ended/unknown. */
  readonly duplicates: number
  /** Runs evicted because they never ended (TTL or `maxRuns`). */
  readonly evicted: number
  /** Exceptions caught inside handler methods. */
  readonly handlerErrors: number
  /** Fields sent as `[redaction failed]` because `mask`, `hideInputs` or `hideOutputs` failed on them. */
  readonly redactionFailures: number
}

export type { SamplingStats } from "./internal/traceSampler.js"

export {
  installShutdownHooks,
  type ShutdownHooksOptions,
  type ShutdownOutcome,
  shutdownAll
} from "./internal/sharedBackends.js"

// =============================================================================
// The handler
// =============================================================================

interface RunState {
  readonly start: Omit<Blueprint.RunStart, "input" | "promptIndex" | "runId">
  readonly runId: string
  readonly inputs: ReadonlyArray<ReadonlyArray<unknown> | string>
  firstTokenAt: number | undefined
  lastSeen: number
  /** Sampled out and held (`keepErrors`, requests mode): logged only if it fails. */
  readonly held?: boolean
}

interface PromptLink {
  readonly metadata: Record<string, unknown>
  readonly at: number
}

const internalTracker = Symbol.for("promptlayer-effect/PromptLayerCallbackHandler/tracker")

const isUuidLike = (u: unknown): u is string => typeof u === "string" && /^[0-9a-f-]{32,36}$/i.test(u)

const promptKeys = Object.values(Blueprint.PROMPT_KEYS) as ReadonlyArray<string>

let handlerCount = 0

const objectOf = (u: unknown): Record<string, unknown> =>
  u !== null && typeof u === "object" && !Array.isArray(u) ? (u as Record<string, unknown>) : {}

/** `tools` and `tool_choice` from the call options, for models that leave them out of their invocation params. */
const toolsOf = (options: unknown): Record<string, unknown> => {
  const { tool_choice, tools } = objectOf(options)
  return {
    ...(tools === undefined ? {} : { tools }),
    ...(tool_choice === undefined ? {} : { tool_choice })
  }
}

/**
 * The PromptLayer callback handler for LangChain.js.
 *
 * @since 0.1.0
 * @category Handler
 */
export class PromptLayerCallbackHandler extends BaseCallbackHandler {
  name = "PromptLayerCallbackHandler"

  /**
   * One element per log of this handler delivered to PromptLayer; each run of the stream is a new
   * subscriber. Ends when the tracker shuts down; run after a shutdown, it ends at once (it does not
   * start a new tracker).
   */
  readonly requestIds: Stream.Stream<PromptLayerTracker.DeliveredLog>
  /**
   * {@link requestIds}, subscribed at once in the current scope: no log delivered after this
   * effect returns is missed, even before the stream is first pulled.
   *
   * @example
   * ```ts
   * const ids = yield* handler.subscribeRequestIds
   * yield* Effect.forkScoped(Stream.runForEach(ids, ({ requestId }) => client.track.score({ request_id: requestId, score: 100 })))
   * ```
   */
  readonly subscribeRequestIds: Effect.Effect<Stream.Stream<PromptLayerTracker.DeliveredLog>, never, Scope.Scope>

  private readonly id: string
  private readonly plTags: ReadonlyArray<string>
  private readonly plIdCallback: ((requestId: number) => unknown) | undefined
  private readonly runTtl: number
  private readonly maxRuns: number
  private readonly logAbandonedRuns: boolean
  private readonly now: () => number
  private current: Backend
  private readonly acquire: () => Backend
  private readonly peek: () => Backend | undefined
  private readonly runs = new Map<string, RunState>()
  private readonly ended: RecentMap<string, true>
  private readonly promptLinks: RecentMap<string, PromptLink>
  private lastSweep = 0
  private readonly counters = { duplicates: 0, evicted: 0, handlerErrors: 0, redactionFailures: 0 }
  private errorReported = false
  private readonly mode: "traces" | "requests"
  /** The traces mode's callback state; undefined in requests mode. */
  private readonly recorder: TraceRecorder | undefined
  /** `hideInputs`, `hideOutputs` and `mask`, applied in the tracker's fibers; undefined when none is set. */
  private readonly redactor: Redactor | undefined
  /** The sampling state; undefined when every trace is sent (`sampleRate` 1). */
  private readonly sampler: TraceSampler | undefined

  constructor(options: PromptLayerCallbackHandlerOptions = {}) {
    super({} satisfies BaseCallbackHandlerInput)
    this.id = `pl-handler-${++handlerCount}`
    this.plTags = [...(options.plTags ?? [])]
    this.plIdCallback = options.plIdCallback
    this.mode = options.mode ?? "traces"
    // Checked before a backend (and its tracker) is made for this configuration.
    if (this.mode !== "traces" && this.mode !== "requests") {
      throw new Error(`PromptLayerCallbackHandler: mode must be "traces" or "requests", got ${String(this.mode)}`)
    }
    if (options.deliverOnRootEnd !== undefined && typeof options.deliverOnRootEnd !== "boolean") {
      throw new Error(
        `PromptLayerCallbackHandler: deliverOnRootEnd must be a boolean, got ${String(options.deliverOnRootEnd)}`
      )
    }
    this.redactor = Redactor.make(options, () => {
      this.counters.redactionFailures++
    })
    const sampling = samplingOptionsOf(options)
    this.runTtl = Duration.toMillis(Duration.fromInputUnsafe(options.runTtl ?? Duration.minutes(10)))
    this.maxRuns = options.maxRuns ?? 10_000
    this.ended = new RecentMap(this.maxRuns)
    this.promptLinks = new RecentMap(this.maxRuns)
    this.logAbandonedRuns = options.logAbandonedRuns ?? true
    this.now = options.now ?? Date.now
    const fixed = (options as { [internalTracker]?: PromptLayerTracker.Service })[internalTracker]
    if (fixed !== undefined) {
      const backend: Backend = {
        tracker: fixed,
        recorders: new Set(),
        shutdown: () => {
          closeRecorders(backend)
          return Effect.runPromise(fixed.flush)
        }
      }
      this.acquire = () => backend
      this.peek = () => backend
    } else {
      const shared = sharedBackend(options)
      this.acquire = shared.acquire
      this.peek = shared.peek
    }
    this.current = this.acquire()
    this.sampler = makeSampler(sampling, {
      maxRuns: this.maxRuns,
      knows: (runId) => this.recorder?.traceIdFor(runId) !== undefined,
      send: (event) => {
        this.live().tracker.offerSpan(event)
      }
    })
    this.recorder = this.mode === "traces" ? this.makeRecorder(options) : undefined
    const id = this.id
    this.requestIds = Stream.unwrap(
      Effect.sync(() => {
        const tracker = this.reader().tracker
        return tracker.isShutdown() ? Stream.empty : Stream.filter(tracker.requestIds, (log) => log.source === id)
      })
    )
    this.subscribeRequestIds = Effect.suspend(() => {
      const tracker = this.reader().tracker
      return tracker.isShutdown() ? Effect.succeed(Stream.empty) : tracker.subscribe
    }).pipe(Effect.map((stream) => Stream.filter(stream, (log) => log.source === id)))
  }

  /**
   * The handler as a scoped Effect over the app's {@link PromptLayerTracker}: the logs go through
   * the app's client, retry and timeout layers; the handler flushes (at most 30 s) when the scope
   * closes. Its `shutdown()` only flushes: the app's layer owns the tracker.
   *
   * @example
   * ```ts
   * import { Effect, Layer } from "effect"
   * import { PromptLayerClient, PromptLayerTracker } from "promptlayer-effect"
   * import { PromptLayerCallbackHandler } from "promptlayer-effect/langchain"
   *
   * const program = Effect.gen(function*() {
   *   const handler = yield* PromptLayerCallbackHandler.make({ plTags: ["effect"] })
   *   yield* Effect.promise(() => model.invoke("Hi", { callbacks: [handler] }))
   * }).pipe(Effect.scoped)
   *
   * Effect.runPromise(program.pipe(
   *   Effect.provide(PromptLayerTracker.layer().pipe(Layer.provide(PromptLayerClient.layerFetch)))
   * ))
   * ```
   */
  static make(
    options: Omit<
      PromptLayerCallbackHandlerOptions,
      "apiKey" | "baseURL" | "maxResponseBytes" | "retry" | keyof PromptLayerTracker.Options
    > = {}
  ): Effect.Effect<PromptLayerCallbackHandler, never, PromptLayerTracker.PromptLayerTracker | Scope.Scope> {
    return Effect.gen(function* () {
      const tracker = yield* PromptLayerTracker.PromptLayerTracker
      const handler = new PromptLayerCallbackHandler({
        ...options,
        [internalTracker]: tracker
      } as PromptLayerCallbackHandlerOptions)
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => handler.recorder?.closeAll(SHUTDOWN_REASON)).pipe(
          Effect.andThen(handler.flushEffect),
          Effect.timeoutOption(Duration.seconds(30)),
          Effect.flatMap((flushed) =>
            flushed._tag === "None"
              ? Effect.logWarning("PromptLayerCallbackHandler: scope closed before every log was delivered (30 s)")
              : Effect.void
          )
        )
      )
      return handler
    })
  }

  /** LangChain may copy handlers; a copy shares this one's state. */
  override copy(): this {
    return this
  }

  // ---------------------------------------------------------------------------
  // Public API
  // ---------------------------------------------------------------------------

  /** Number of runs started and not yet ended (or evicted). */
  get activeRuns(): number {
    return this.runs.size + (this.recorder?.size ?? 0)
  }

  /** The handler's and its tracker's counters. */
  stats(): PromptLayerCallbackHandlerStats {
    return {
      ...this.reader().tracker.statsUnsafe(),
      activeRuns: this.activeRuns,
      ...this.counters,
      ...samplingStatsOf(this.sampler)
    }
  }

  /**
   * The trace id of a run (traces mode): its root run's UUID as 32 hex digits, so the trace of a
   * run started with a preset `config.runId` is that id without dashes. Waits for LangChain's
   * background callbacks first; undefined for a run this handler has not seen (or forgot: it
   * remembers `maxRuns` ended runs), and in requests mode.
   */
  async traceIdFor(runId: string): Promise<string | undefined> {
    await awaitAllCallbacks()
    return this.recorder?.traceIdFor(runId)
  }

  /**
   * The PromptLayer request id of a run (preset it with `config.runId`), once its log is delivered.
   * Rejects with {@link PromptLayerTracker.RequestIdUnavailable} if the log failed or was dropped,
   * or (reason `"sampled"`) was not sent because its trace was sampled out; with sampling on, it
   * first waits for LangChain's background callbacks, so that the run's decision is known.
   */
  async requestIdFor(runId: string): Promise<number> {
    if (this.sampler !== undefined) await awaitAllCallbacks()
    return Effect.runPromise(this.requestIdForEffect(runId))
  }

  /** {@link requestIdFor} as an Effect (it does not wait for LangChain's background callbacks). */
  requestIdForEffect(runId: string): Effect.Effect<number, PromptLayerTracker.RequestIdUnavailable> {
    return Effect.suspend(() => {
      const sampler = this.sampler
      if (sampler === undefined) return this.reader().tracker.requestIdFor(runId)
      const sampled = new PromptLayerTracker.RequestIdUnavailable({ runId, reason: "sampled" })
      if (sampler.unsent(runId)) return Effect.fail(sampled)
      // A held trace discarded later (its root ended without a failure) never reaches the tracker.
      const discarded = Effect.callback<never, PromptLayerTracker.RequestIdUnavailable>((resume) => {
        const later = resumeLater(resume)
        return Effect.sync(sampler.onUnsent(runId, () => later(Effect.fail(sampled))))
      })
      return Effect.raceFirst(this.reader().tracker.requestIdFor(runId), discarded)
    })
  }

  /** Evicts runs idle for longer than `runTtl`, then waits for every accepted log to be delivered or to fail. */
  get flushEffect(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.sweep(true)
      this.recorder?.sweep(true)
      return this.reader().tracker.flush
    })
  }

  /**
   * Waits for LangChain's background callbacks (`awaitAllCallbacks`), evicts expired runs, then for
   * every accepted log to be delivered or to finally fail. Do not call it from inside a callback.
   */
  async flush(): Promise<void> {
    await awaitAllCallbacks()
    await Effect.runPromise(this.flushEffect)
  }

  /**
   * Flushes, then releases the shared client and tracker of this configuration. Only a new LLM run
   * on a handler of this configuration starts a new one; `stats()`, `requestIds`, `requestIdFor` and
   * `flush()` afterwards read the shut-down tracker (its final counters and remembered ids). For a
   * handler from {@link make}, only flushes: the app's scope owns the tracker. In traces mode,
   * runs still open are logged first as partial (status UNSET, model logs `WARNING`): nothing seen
   * is lost. Idempotent.
   */
  async shutdown(): Promise<void> {
    await awaitAllCallbacks()
    this.sweep(true)
    this.recorder?.closeAll(SHUTDOWN_REASON)
    await this.current.shutdown()
  }

  // ---------------------------------------------------------------------------
  // LangChain callbacks
  // ---------------------------------------------------------------------------

  override handleLLMStart(
    llm: Serialized,
    prompts: Array<string>,
    runId: string,
    parentRunId?: string,
    extraParams?: Record<string, unknown>,
    tags?: Array<string>,
    metadata?: Record<string, unknown>,
    runName?: string
  ): void {
    this.guard("handleLLMStart", () =>
      this.start("llm", llm, prompts, runId, parentRunId, extraParams, tags, metadata, runName)
    )
  }

  override handleChatModelStart(
    llm: Serialized,
    messages: Array<Array<BaseMessage>>,
    runId: string,
    parentRunId?: string,
    extraParams?: Record<string, unknown>,
    tags?: Array<string>,
    metadata?: Record<string, unknown>,
    runName?: string
  ): void {
    this.guard("handleChatModelStart", () =>
      this.start("chat", llm, messages, runId, parentRunId, extraParams, tags, metadata, runName)
    )
  }

  override handleLLMNewToken(_token: string, _idx: unknown, runId: string): void {
    this.guard("handleLLMNewToken", () => this.touch(runId))
  }

  override handleChatModelStreamEvent(_event: unknown, runId: string): void {
    this.guard("handleChatModelStreamEvent", () => this.touch(runId))
  }

  override handleLLMEnd(
    output: LLMResult,
    runId: string,
    _parentRunId?: string,
    _tags?: Array<string>,
    extraParams?: Record<string, unknown>
  ): void {
    this.guard("handleLLMEnd", () => {
      if (this.sampledOutEnd(runId)) return
      const end = {
        generations: output?.generations ?? [],
        llmOutput: output?.llmOutput ?? undefined,
        cached: extraParams?.cached === true
      }
      if (this.recorder !== undefined) {
        this.recorder.endModel(runId, end)
        return
      }
      const run = this.finish(runId)
      if (run === undefined || (run.held === true && !this.sampler?.heldEnded(runId, false, run.inputs.length))) return
      const endedAt = this.now()
      run.inputs.forEach((_, i) => {
        const generations = run.inputs.length === 1 ? end.generations.flat() : (end.generations[i] ?? [])
        this.emit(run, i, {
          _tag: "end",
          endedAt,
          firstTokenAt: run.firstTokenAt,
          generations,
          llmOutput: end.llmOutput,
          cached: end.cached
        })
      })
    })
  }

  override handleLLMError(err: unknown, runId: string): void {
    this.guard("handleLLMError", () => {
      if (this.sampledOutEnd(runId)) return
      if (this.recorder !== undefined) {
        this.recorder.error(runId, err)
        return
      }
      const run = this.finish(runId)
      if (run === undefined) return
      if (run.held === true) this.sampler?.heldEnded(runId, true, run.inputs.length)
      const endedAt = this.now()
      run.inputs.forEach((_, i) => {
        this.emit(run, i, { _tag: "error", endedAt, firstTokenAt: run.firstTokenAt, error: err })
      })
    })
  }

  /**
   * A chain run: a span in traces mode. In both modes, a prompt template run whose metadata names a
   * PromptLayer template is noted, so that the LLM run that follows it under the same parent is
   * linked to the template (with the prompt's inputs as input variables). LangChain calls this with
   * `(chain, inputs, runId, parentRunId, tags, metadata, runType, runName)`, whatever the declared order.
   */
  override handleChainStart(
    chain: Serialized,
    inputs: Record<string, unknown>,
    runId: string,
    runTypeOrParent?: string,
    tags?: Array<string>,
    metadata?: Record<string, unknown>,
    runTypeOrName?: string,
    runNameOrParent?: string
  ): void {
    this.guard("handleChainStart", () => {
      // The call order (parentRunId 4th) is what LangChain does; the declared order is a fallback.
      const callOrder = runTypeOrParent === undefined || isUuidLike(runTypeOrParent)
      const parent = callOrder ? runTypeOrParent : isUuidLike(runNameOrParent) ? runNameOrParent : undefined
      const runType = callOrder ? runTypeOrName : runTypeOrParent
      const runName = callOrder ? runNameOrParent : runTypeOrName
      if (this.sampling(runId, parent, 0) === "drop") return
      this.notePromptLink(inputs, parent, metadata)
      this.recorder?.start(runId, parent, {
        kind: "chain",
        runType,
        name: runName ?? Blueprint.className(chain?.id) ?? "chain",
        tags: tags ?? [],
        metadata: metadata ?? {},
        inputs: SpanMapper.capture(SpanMapper.unwrap(inputs, "input")),
        startedAt: this.now()
      })
    })
  }

  override handleChainEnd(outputs: unknown, runId: string): void {
    if (this.recorder !== undefined && !this.sampledOutEnd(runId))
      this.guard("handleChainEnd", () => this.recorder?.end(runId, outputs))
  }

  override handleChainError(err: unknown, runId: string): void {
    if (this.recorder !== undefined && !this.sampledOutEnd(runId))
      this.guard("handleChainError", () => this.recorder?.error(runId, err))
  }

  override handleToolStart(
    tool: Serialized,
    input: string,
    runId: string,
    parentRunId?: string,
    tags?: Array<string>,
    metadata?: Record<string, unknown>,
    runName?: string,
    toolCallId?: string
  ): void {
    if (this.sampling(runId, parentRunId, 0) === "drop" || this.recorder === undefined) return
    this.guard("handleToolStart", () =>
      this.recorder?.start(runId, parentRunId, {
        kind: "tool",
        runType: undefined,
        name: runName ?? (tool as { name?: string })?.name ?? Blueprint.className(tool?.id) ?? "tool",
        tags: tags ?? [],
        metadata: metadata ?? {},
        inputs: SpanMapper.capture(input),
        startedAt: this.now(),
        toolCallId
      })
    )
  }

  override handleToolEnd(output: unknown, runId: string): void {
    if (this.recorder !== undefined && !this.sampledOutEnd(runId))
      this.guard("handleToolEnd", () => this.recorder?.end(runId, output))
  }

  override handleToolError(err: unknown, runId: string): void {
    if (this.recorder !== undefined && !this.sampledOutEnd(runId))
      this.guard("handleToolError", () => this.recorder?.error(runId, err))
  }

  override handleRetrieverStart(
    retriever: Serialized,
    query: string,
    runId: string,
    parentRunId?: string,
    tags?: Array<string>,
    metadata?: Record<string, unknown>,
    name?: string
  ): void {
    if (this.sampling(runId, parentRunId, 0) === "drop" || this.recorder === undefined) return
    this.guard("handleRetrieverStart", () =>
      this.recorder?.start(runId, parentRunId, {
        kind: "retriever",
        runType: undefined,
        name: name ?? Blueprint.className(retriever?.id) ?? "retriever",
        tags: tags ?? [],
        metadata: metadata ?? {},
        inputs: query,
        startedAt: this.now()
      })
    )
  }

  override handleRetrieverEnd(documents: ReadonlyArray<unknown>, runId: string): void {
    if (this.recorder !== undefined && !this.sampledOutEnd(runId))
      this.guard("handleRetrieverEnd", () => this.recorder?.end(runId, documents))
  }

  override handleRetrieverError(err: unknown, runId: string): void {
    if (this.recorder !== undefined && !this.sampledOutEnd(runId))
      this.guard("handleRetrieverError", () => this.recorder?.error(runId, err))
  }

  /** An agent's tool choice, as an `agent_action` event on the agent's span. */
  override handleAgentAction(action: unknown, runId: string): void {
    if (this.recorder === undefined || this.sampledOut(runId)) return
    this.guard("handleAgentAction", () => {
      const a = objectOf(action)
      this.recorder?.event(runId, "agent_action", {
        tool: a.tool,
        tool_input: SpanMapper.capture(a.toolInput),
        log: a.log
      })
    })
  }

  /** An agent's final answer, as an `agent_finish` event on the agent's span. */
  override handleAgentEnd(finish: unknown, runId: string): void {
    if (this.recorder === undefined || this.sampledOut(runId)) return
    this.guard("handleAgentEnd", () => {
      const f = objectOf(finish)
      this.recorder?.event(runId, "agent_finish", { return_values: SpanMapper.capture(f.returnValues), log: f.log })
    })
  }

  /** `dispatchCustomEvent(name, data)`, as an event named `name` on the span of the run that dispatched it. */
  override handleCustomEvent(eventName: string, data: unknown, runId: string): void {
    if (this.recorder === undefined || this.sampledOut(runId)) return
    this.guard("handleCustomEvent", () => this.recorder?.event(runId, eventName, { data: SpanMapper.capture(data) }))
  }

  // ---------------------------------------------------------------------------
  // Internals
  // ---------------------------------------------------------------------------

  /** The tracker to offer to: after a shutdown of the shared one, a fresh one for this configuration. */
  private live(): Backend {
    if (this.current.tracker.isShutdown()) this.current = this.acquire()
    return this.current
  }

  /**
   * The tracker to read from, never a new one: after a shutdown, the live shared tracker of this
   * configuration if another handler's run started one, else the shut-down one (its final counters).
   * Only a new LLM run ({@link live}) starts a tracker.
   */
  private reader(): Backend {
    if (this.current.tracker.isShutdown()) {
      const shared = this.peek()
      if (shared !== undefined && !shared.tracker.isShutdown()) this.current = shared
    }
    return this.current
  }

  /** Remembers the registry template named by a prompt template run's metadata, for the LLM run after it. */
  private notePromptLink(
    inputs: Record<string, unknown>,
    parent: string | undefined,
    metadata: Record<string, unknown> | undefined
  ): void {
    if (metadata === undefined || typeof metadata[Blueprint.PROMPT_KEYS.name] !== "string") return
    if (parent === undefined) return
    const link: Record<string, unknown> = {}
    for (const key of promptKeys) if (metadata[key] !== undefined) link[key] = metadata[key]
    if (link[Blueprint.PROMPT_KEYS.inputVariables] === undefined && inputs !== null && typeof inputs === "object") {
      link[Blueprint.PROMPT_KEYS.inputVariables] = { ...inputs }
    }
    this.promptLinks.set(parent, { metadata: link, at: this.now() })
  }

  private makeRecorder(options: PromptLayerCallbackHandlerOptions): TraceRecorder {
    const callback = this.plIdCallback
    const recorder: TraceRecorder = new TraceRecorder({
      source: this.id,
      plTags: this.plTags,
      maxRuns: this.maxRuns,
      runTtl: this.runTtl,
      logAbandonedRuns: this.logAbandonedRuns,
      now: this.now,
      resource: {
        attributes: {
          "service.name": options.serviceName ?? envVar("OTEL_SERVICE_NAME") ?? "langchain",
          "telemetry.sdk.name": "promptlayer-effect",
          "telemetry.sdk.language": "nodejs"
        },
        schema_url: ""
      },
      counters: this.counters,
      offer: (event, traceId) => {
        // Redacted when built (in the tracker's fiber), whether it is sent now or held first.
        const job = this.redactor === undefined ? event : this.redactor.spanJob(event)
        if (this.sampler?.options.keepErrors === true && this.sampler.hold(job, traceId)) return
        this.live().tracker.offerSpan(job)
      },
      onClosed:
        this.sampler?.options.keepErrors === true
          ? (runId, traceId, failed) => this.sampler?.closed(runId, traceId, failed)
          : undefined,
      onDelivered: callback === undefined ? undefined : (log) => callback(log.requestId),
      onRootEnd: options.deliverOnRootEnd === true ? () => this.live().tracker.sendNow() : undefined,
      tree: (starting) => treeFor((starting ? this.live() : this.current).tracker, this.maxRuns),
      onActive: (active) => {
        if (active) this.live().recorders.add(recorder)
        else this.current.recorders.delete(recorder)
      }
    })
    return recorder
  }

  /**
   * Sampling, on a run's start (`models`: its request logs, 0 for a chain, tool or retriever):
   * `"drop"` if its trace is sampled out and it is not to be recorded, `"hold"` for a sampled-out
   * model call kept only if it fails (requests mode, `keepErrors`), else `"keep"`.
   */
  private sampling(runId: string, parentRunId: string | undefined, models: number): "keep" | "drop" | "hold" {
    const sampler = this.sampler
    if (sampler === undefined) return "keep"
    if (this.recorder !== undefined) return sampler.dropStart(runId, parentRunId, models) ? "drop" : "keep"
    if (models > 0) return sampler.modelStart(runId, parentRunId, models)
    sampler.noteRun(runId, parentRunId)
    return "keep"
  }

  /** Whether a run is an open run of a sampled-out trace, not recorded: its events are ignored. */
  private sampledOut(runId: string): boolean {
    return this.sampler?.drops(runId) === true
  }

  /** {@link sampledOut}, on the run's end (ignored, and the run forgotten). */
  private sampledOutEnd(runId: string): boolean {
    return this.sampler?.dropEnd(runId) === true
  }

  private guard(method: string, body: () => void): void {
    try {
      body()
    } catch (error) {
      this.counters.handlerErrors++
      const first = !this.errorReported
      this.errorReported = true
      const message = `PromptLayerCallbackHandler.${method} failed; the LLM call is not affected`
      Effect.runFork(
        (first ? Effect.logWarning(message) : Effect.logDebug(message)).pipe(
          Effect.annotateLogs({ error: error instanceof Error ? error.message : String(error) })
        )
      )
    }
  }

  private start(
    kind: "chat" | "llm",
    llm: Serialized,
    inputs: ReadonlyArray<ReadonlyArray<unknown> | string>,
    runId: string,
    parentRunId: string | undefined,
    extraParams: Record<string, unknown> | undefined,
    tags: ReadonlyArray<string> | undefined,
    metadata: Record<string, unknown> | undefined,
    runName: string | undefined
  ): void {
    const sampling = this.sampling(runId, parentRunId, inputs.length)
    if (sampling === "drop") return
    const now = this.now()
    this.sweep(false)
    if (this.recorder === undefined && (this.runs.has(runId) || this.ended.has(runId))) {
      this.counters.duplicates++
      return
    }
    let runMetadata: Record<string, unknown> = metadata ?? {}
    if (parentRunId !== undefined) {
      const link = this.promptLinks.get(parentRunId)
      if (link !== undefined && runMetadata[Blueprint.PROMPT_KEYS.name] === undefined) {
        this.promptLinks.delete(parentRunId)
        runMetadata = { ...runMetadata, ...link.metadata }
      }
    }
    const invocationParams = { ...toolsOf(extraParams?.options), ...objectOf(extraParams?.invocation_params) }
    const batchSize = extraParams?.batch_size
    const start: ModelStart = {
      kind,
      parentRunId,
      invocationParams,
      tags: tags ?? [],
      metadata: runMetadata,
      runName,
      serializedId: Array.isArray(llm?.id) ? llm.id : undefined,
      batchSize: typeof batchSize === "number" ? batchSize : inputs.length,
      startedAt: now
    }
    if (this.recorder !== undefined) {
      const model: ModelData = { start, inputs: [...inputs], firstTokenAt: undefined }
      this.recorder.start(
        runId,
        parentRunId,
        {
          kind: kind === "chat" ? "chat_model" : "llm",
          runType: undefined,
          name: runName ?? Blueprint.className(start.serializedId) ?? kind,
          tags: start.tags,
          metadata: runMetadata,
          inputs: undefined,
          startedAt: now
        },
        model
      )
      return
    }
    this.runs.set(runId, {
      runId,
      inputs: [...inputs],
      firstTokenAt: undefined,
      lastSeen: now,
      start,
      ...(sampling === "hold" ? { held: true } : {})
    })
    if (this.runs.size > this.maxRuns) {
      const oldest = this.runs.values().next()
      if (!oldest.done) this.evict(oldest.value, `more than ${this.maxRuns} runs in progress`)
    }
  }

  private touch(runId: string): void {
    if (this.recorder !== undefined) {
      this.recorder.token(runId)
      return
    }
    const run = this.runs.get(runId)
    if (run === undefined) return
    const now = this.now()
    if (run.firstTokenAt === undefined) run.firstTokenAt = now
    run.lastSeen = now
  }

  private finish(runId: string): RunState | undefined {
    const run = this.runs.get(runId)
    if (run === undefined) {
      this.counters.duplicates++
      return undefined
    }
    this.runs.delete(runId)
    this.ended.set(runId, true)
    return run
  }

  private evict(run: RunState, reason: string): void {
    this.runs.delete(run.runId)
    this.ended.set(run.runId, true)
    this.counters.evicted++
    if (
      (run.held === true && !this.sampler?.heldEnded(run.runId, false, run.inputs.length)) ||
      !this.logAbandonedRuns
    ) {
      return
    }
    const endedAt = run.lastSeen
    run.inputs.forEach((_, i) => {
      this.emit(run, i, {
        _tag: "abandoned",
        endedAt,
        firstTokenAt: run.firstTokenAt,
        reason: `the run never ended (${reason}); a stream abandoned by its consumer?`
      })
    })
  }

  /** Evicts runs idle for longer than the TTL; amortized (at most every TTL/4) unless forced. */
  private sweep(force: boolean): void {
    const now = this.now()
    if (!force && now - this.lastSweep < this.runTtl / 4) return
    this.lastSweep = now
    for (const run of [...this.runs.values()]) {
      if (now - run.lastSeen >= this.runTtl) this.evict(run, `no event for ${this.runTtl} ms`)
    }
    for (const [parent, link] of [...this.promptLinks.entries()]) {
      if (now - link.at >= this.runTtl) this.promptLinks.delete(parent)
    }
  }

  private emit(run: RunState, index: number, end: Blueprint.RunEnd): void {
    const start: Blueprint.RunStart = {
      ...run.start,
      runId: run.runId,
      input: run.inputs[index] ?? [],
      promptIndex: run.inputs.length > 1 ? index : undefined
    }
    const plTags = this.plTags
    const callback = this.plIdCallback
    const redactor = this.redactor
    this.live().tracker.offer({
      runId: index === 0 ? run.runId : `${run.runId}:${index}`,
      parentRunId: run.start.parentRunId,
      source: this.id,
      build: () => {
        const body = Blueprint.toLogRequest(start, end, plTags)
        return redactor === undefined ? body : redactor.logRequest(body)
      },
      onDelivered: callback === undefined ? undefined : (log) => callback(log.requestId)
    })
  }
}

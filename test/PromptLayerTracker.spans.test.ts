/**
 * The tracker's span pipeline over a fake client: the debounce (TestClock, no real sleeping), count
 * and byte limits, flush, request ids from `request_logs`, failures of one span, bounded memory,
 * shutdown.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import { TestClock } from "effect/testing"
import * as SpanDelivery from "../src/internal/spanDelivery.js"
import * as SpanWire from "../src/internal/spanWire.js"
import * as PromptLayerClient from "../src/PromptLayerClient.js"
import type * as S from "../src/PromptLayerSchema.js"
import * as PromptLayerTracker from "../src/PromptLayerTracker.js"

interface Sent {
  readonly spanIds: ReadonlyArray<string>
  readonly bytes: number
}

/** A client whose `spans.bulkEncoded` records each batch and creates a request log per span with a log. */
const fakeClient = (gate?: Deferred.Deferred<void>) => {
  const sent: Array<Sent> = []
  let nextLog = 100
  const layer = Layer.succeed(PromptLayerClient.PromptLayerClient, {
    spans: {
      bulkEncoded: (spans: ReadonlyArray<PromptLayerClient.EncodedSpan>) =>
        Effect.gen(function* () {
          if (gate !== undefined) yield* Deferred.await(gate)
          const body = SpanWire.bulkBody(spans.map((s) => s.text))
          sent.push({ spanIds: spans.map((s) => s.spanId), bytes: new TextEncoder().encode(body).length })
          return {
            success: true,
            spans: spans.map((s) => ({ span_id: s.spanId })),
            request_logs: spans.filter((s) => s.log !== undefined).map((s) => ({ id: nextLog++, span_id: s.spanId }))
          }
        })
    }
  } as unknown as PromptLayerClient.Service)
  return { sent, layer }
}

const span = (n: number, extra: Partial<S.SpanInput> = {}): S.SpanInput => ({
  name: `span-${n}`,
  context: { trace_id: "0af7651916cd43dd8448eb211c80319c", span_id: n.toString(16).padStart(16, "0"), trace_state: "" },
  kind: "SpanKind.INTERNAL",
  parent_id: null,
  start_time: 1_000_000_000n,
  end_time: 2_000_000_000n,
  status: { status_code: "StatusCode.OK" },
  attributes: { n },
  resource: { attributes: {}, schema_url: "" },
  ...extra
})

const logged = (n: number): S.SpanInput =>
  span(n, {
    kind: "SpanKind.CLIENT",
    log_request: {
      provider: "openai",
      model: "m",
      input: { type: "completion", content: [{ type: "text", text: "in" }] },
      output: { type: "completion", content: [{ type: "text", text: "out" }] },
      request_start_time: 1,
      request_end_time: 2,
      tags: [`t${n}`]
    }
  })

const withTracker = <A, E>(
  layer: Layer.Layer<PromptLayerClient.PromptLayerClient>,
  options: PromptLayerTracker.Options,
  use: (tracker: PromptLayerTracker.Service) => Effect.Effect<A, E, Scope.Scope>
) =>
  Effect.gen(function* () {
    return yield* use(yield* PromptLayerTracker.make(options))
  }).pipe(Effect.scoped, Effect.provide(layer))

/**
 * Until the assembler (woken on a later macrotask) has taken every offered span and dispatched what
 * is due by the clock, then until the senders (over a synchronous fake client) have sent it. No sleeping: `assembledOf` completes when the assembler parks.
 */
const settle = (tracker: PromptLayerTracker.Service) =>
  Effect.gen(function* () {
    yield* SpanDelivery.assembledOf(tracker)
    for (let i = 0; i < 50; i++) yield* Effect.yieldNow
  })

describe("PromptLayerTracker spans", () => {
  it.effect("the first span of a batch waits batchDelay for others (TestClock), then they go as one request", () => {
    const { sent, layer } = fakeClient()
    return withTracker(layer, { batchDelay: "250 millis" }, (tracker) =>
      Effect.gen(function* () {
        for (let n = 1; n <= 3; n++) tracker.offerSpan({ build: () => span(n) })
        yield* settle(tracker)
        yield* TestClock.adjust("249 millis")
        yield* settle(tracker)
        assert.lengthOf(sent, 0, "nothing sent before the delay")
        tracker.offerSpan({ build: () => span(4) })
        yield* settle(tracker)
        yield* TestClock.adjust("1 millis")
        yield* settle(tracker)
        assert.lengthOf(sent, 1)
        assert.lengthOf(sent[0]!.spanIds, 4, "one request for the four spans")
        const stats = yield* tracker.stats
        assert.strictEqual(stats.delivered, 4)
        assert.strictEqual(stats.batches, 1)
      })
    )
  })

  // The handler's plain construction builds its tracker with `ManagedRuntime.runSync`: in Effect 4,
  // fibers forked under `runSync` keep its microtask scheduler, so it is a case of its own.
  for (const [name, build] of [
    ["Effect.runPromise", (effect: Effect.Effect<PromptLayerTracker.Service>) => Effect.runPromise(effect)],
    ["Effect.runSync", (effect: Effect.Effect<PromptLayerTracker.Service>) => Promise.resolve(Effect.runSync(effect))]
  ] as const) {
    it(`regression: an offered span is not built inside the caller's chain of promises (LangChain's invoke), but on the next macrotask (tracker built with ${name})`, async () => {
      const { layer } = fakeClient()
      const scope = Effect.runSync(Scope.make())
      const tracker = await build(PromptLayerTracker.make().pipe(Scope.provide(scope), Effect.provide(layer)))
      // The assembler parks waiting for spans, as it does long before a handler's first callback.
      await new Promise<void>((resolve) => setImmediate(resolve))
      let built = 0
      tracker.offerSpan({
        build: () => {
          built++
          return span(1)
        }
      })
      // Effect 3's scheduler resumed fibers as microtasks, and Effect 4 runs a resumed fiber inside
      // `resume`: without the deferred wake-up on the macrotask queue, the assembler would run in here.
      for (let i = 0; i < 200; i++) await Promise.resolve()
      assert.strictEqual(built, 0, "not built between the caller's awaits")
      await new Promise<void>((resolve) => setImmediate(resolve))
      assert.strictEqual(built, 1, "built on the macrotask the offer scheduled, before this later one")
      await Effect.runPromise(tracker.flush)
      assert.strictEqual(tracker.statsUnsafe().delivered, 1)
      await Effect.runPromise(Scope.close(scope, Exit.void))
    })
  }

  it.effect("a full batch goes at once; flush sends the open batch without waiting for the delay", () => {
    const { sent, layer } = fakeClient()
    return withTracker(layer, { maxBatchSpans: 10, batchDelay: "1 hour" }, (tracker) =>
      Effect.gen(function* () {
        for (let n = 1; n <= 25; n++) tracker.offerSpan({ build: () => span(n) })
        yield* settle(tracker)
        assert.deepStrictEqual(
          sent.map((b) => b.spanIds.length),
          [10, 10]
        )
        yield* tracker.flush
        assert.deepStrictEqual(
          sent.map((b) => b.spanIds.length),
          [10, 10, 5]
        )
        assert.deepStrictEqual(
          sent.flatMap((b) => b.spanIds),
          Array.from({ length: 25 }, (_, i) => (i + 1).toString(16).padStart(16, "0")),
          "in order"
        )
      })
    )
  })

  it.effect("bodies stay within maxBatchBytes", () => {
    const { sent, layer } = fakeClient()
    const big = (n: number) => span(n, { attributes: { text: "x".repeat(900 + n * 37) } })
    return withTracker(layer, { maxBatchBytes: 4096 }, (tracker) =>
      Effect.gen(function* () {
        for (let n = 1; n <= 30; n++) tracker.offerSpan({ build: () => big(n) })
        yield* tracker.flush
        assert.strictEqual(sent.flatMap((b) => b.spanIds).length, 30)
        assert.isAbove(sent.length, 5)
        for (const batch of sent) assert.isAtMost(batch.bytes, 4096)
      })
    )
  })

  it.effect("request ids come from request_logs by span id: requestIdFor, the stream and the callback", () => {
    const { layer } = fakeClient()
    const called: Array<number> = []
    return withTracker(layer, {}, (tracker) =>
      Effect.gen(function* () {
        tracker.offerSpan({ build: () => span(1) })
        tracker.offerSpan({
          runId: "model-run",
          parentRunId: "chain-run",
          build: () => logged(2),
          onDelivered: (log) => called.push(log.requestId)
        })
        yield* tracker.flush
        assert.strictEqual(yield* tracker.requestIdFor("model-run"), 100)
        assert.deepStrictEqual(called, [100])
      })
    )
  })

  it.effect("a span whose build throws or which is invalid fails alone; the others are delivered", () => {
    const { sent, layer } = fakeClient()
    return withTracker(layer, {}, (tracker) =>
      Effect.gen(function* () {
        tracker.offerSpan({ build: () => span(1) })
        tracker.offerSpan({
          runId: "broken",
          build: () => {
            throw new Error("no span today")
          }
        })
        tracker.offerSpan({ runId: "invalid", build: () => span(3, { kind: "INTERNAL" as never }) })
        tracker.offerSpan({ build: () => span(4) })
        yield* tracker.flush
        const stats = yield* tracker.stats
        assert.strictEqual(stats.failed, 2)
        assert.strictEqual(stats.delivered, 2)
        assert.deepStrictEqual(sent[0]?.spanIds.length, 2)
        const broken = yield* Effect.flip(tracker.requestIdFor("broken"))
        assert.include(broken.detail ?? "", "no span today")
        const invalid = yield* Effect.flip(tracker.requestIdFor("invalid"))
        assert.include(invalid.detail ?? "", "kind")
      })
    )
  })

  it.effect(
    "regression: a span that cannot be encoded as JSON (a bigint attribute) fails alone; the pipeline goes on",
    () => {
      const { sent, layer } = fakeClient()
      return withTracker(layer, {}, (tracker) =>
        Effect.gen(function* () {
          tracker.offerSpan({ runId: "bigint", build: () => span(1, { attributes: { big: 10n } }) })
          tracker.offerSpan({ build: () => span(2) })
          yield* tracker.flush
          tracker.offerSpan({ build: () => span(3) })
          yield* tracker.flush
          const stats = yield* tracker.stats
          assert.strictEqual(stats.failed, 1)
          assert.strictEqual(stats.delivered, 2)
          assert.deepStrictEqual(
            sent.flatMap((b) => b.spanIds),
            [span(2).context.span_id, span(3).context.span_id]
          )
          const failure = yield* Effect.flip(tracker.requestIdFor("bigint"))
          assert.include(failure.detail ?? "", "JSON")
        })
      )
    }
  )

  // Live clock: without the fix `flush` never resolves, and the timeout must end the test.
  it.live(
    "regression: a defect in the client's send (a bug, a throwing HttpClient) fails that batch's spans; flush resolves and the pipeline goes on",
    () => {
      const { sent, layer: working } = fakeClient()
      let calls = 0
      const layer = Layer.effect(
        PromptLayerClient.PromptLayerClient,
        Effect.map(PromptLayerClient.PromptLayerClient, (client) => ({
          ...client,
          spans: {
            ...client.spans,
            bulkEncoded: (spans: ReadonlyArray<PromptLayerClient.EncodedSpan>) =>
              calls++ === 0 ? Effect.die(new TypeError("the client broke")) : client.spans.bulkEncoded(spans)
          }
        }))
      ).pipe(Layer.provide(working))
      return withTracker(layer, { shutdownTimeout: "1 second" }, (tracker) =>
        Effect.gen(function* () {
          tracker.offerSpan({ runId: "first", build: () => span(1) })
          yield* tracker.flush
          tracker.offerSpan({ runId: "second", build: () => span(2) })
          yield* tracker.flush
          const stats = yield* tracker.stats
          assert.strictEqual(stats.failed, 1)
          assert.strictEqual(stats.delivered, 1)
          assert.strictEqual(stats.inFlight, 0)
          assert.deepStrictEqual(
            sent.flatMap((b) => b.spanIds),
            [span(2).context.span_id]
          )
          const failure = yield* Effect.flip(tracker.requestIdFor("first"))
          assert.include(failure.detail ?? "", "the client broke")
        })
      ).pipe(Effect.timeout("20 seconds"), Effect.orDie)
    }
  )

  it.effect("memory is bounded: beyond maxQueued waiting spans, new ones are dropped and counted", () => {
    const gate = Deferred.makeUnsafe<void>()
    const { sent, layer } = fakeClient(gate)
    return withTracker(layer, { maxQueued: 20, maxBatchSpans: 5, concurrency: 1 }, (tracker) =>
      Effect.gen(function* () {
        const accepted = Array.from({ length: 60 }, (_, n) => tracker.offerSpan({ build: () => span(n + 1) }))
        yield* settle(tracker)
        const stats = yield* tracker.stats
        assert.isAtMost(stats.queued, 20)
        assert.strictEqual(stats.dropped, accepted.filter((a) => !a).length)
        assert.isAbove(stats.dropped, 0)
        yield* Deferred.succeed(gate, undefined)
        yield* tracker.flush
        const after = yield* tracker.stats
        assert.strictEqual(after.delivered + after.dropped, 60)
        assert.strictEqual(sent.flatMap((b) => b.spanIds).length, after.delivered)
      })
    )
  })

  it.effect("shutdown: a span in flight fails, spans still waiting are dropped; nothing hangs", () => {
    const gate = Deferred.makeUnsafe<void>()
    const { layer } = fakeClient(gate)
    return withTracker(layer, { maxBatchSpans: 1, concurrency: 1, shutdownTimeout: "1 second" }, (tracker) =>
      Effect.gen(function* () {
        for (let n = 1; n <= 3; n++) tracker.offerSpan({ runId: `run-${n}`, build: () => span(n) })
        yield* settle(tracker)
        const shutdown = yield* Effect.forkChild(tracker.shutdown)
        yield* settle(tracker)
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(shutdown)
        const stats = yield* tracker.stats
        assert.strictEqual(stats.failed, 1)
        assert.strictEqual(stats.dropped, 2)
        assert.strictEqual(stats.queued + stats.inFlight, 0)
        assert.isFalse(tracker.offerSpan({ build: () => span(9) }), "refused after shutdown")
      })
    )
  })

  it.effect("the batch limits come from the environment with layerConfig; invalid ones fail with a ConfigError", () =>
    Effect.gen(function* () {
      const env = (map: Record<string, string>) =>
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord(map))
      const options = yield* env({
        PROMPTLAYER_TRACKER_MAX_BATCH_SPANS: "7",
        PROMPTLAYER_TRACKER_MAX_BATCH_BYTES: "65536",
        PROMPTLAYER_TRACKER_BATCH_DELAY_MS: "40"
      })(PromptLayerTracker.config)
      assert.strictEqual(options.maxBatchSpans, 7)
      assert.strictEqual(options.maxBatchBytes, 65_536)
      assert.deepStrictEqual(options.batchDelay, Duration.millis(40))
      const defaults = yield* env({})(PromptLayerTracker.config)
      assert.strictEqual(defaults.maxBatchSpans, 100)
      assert.strictEqual(defaults.maxBatchBytes, 1024 * 1024)
      const bad = yield* Effect.flip(env({ PROMPTLAYER_TRACKER_MAX_BATCH_SPANS: "0" })(PromptLayerTracker.config))
      assert.include(String(bad), "PROMPTLAYER_TRACKER_MAX_BATCH_SPANS")
    })
  )
})

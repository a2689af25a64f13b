import * as V8 from "node:v8"
import * as Vm from "node:vm"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Ref from "effect/Ref"
import * as References from "effect/References"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as PromptLayerClient from "../src/PromptLayerClient.js"
import { InvalidRequestError, type PromptLayerError, TransportError } from "../src/PromptLayerError.js"
import type * as S from "../src/PromptLayerSchema.js"
import * as PromptLayerTracker from "../src/PromptLayerTracker.js"
import { mockHttp } from "./support/mockHttpClient.js"

type LogRequest = (body: S.LogRequestInput) => Effect.Effect<S.LogRequestResponse, PromptLayerError>

/** A PromptLayerClient whose only working operation is `logRequest`. */
const fakeClient = (logRequest: LogRequest) =>
  Layer.succeed(PromptLayerClient.PromptLayerClient, {
    logRequest,
    trackRequest: () => Effect.die("unused")
  } as unknown as PromptLayerClient.Service)

/** Numbers requests from 1 and records the bodies. */
const countingClient = () => {
  const bodies: Array<S.LogRequestInput> = []
  const layer = fakeClient((body) =>
    Effect.sync(() => {
      bodies.push(body)
      return { id: bodies.length }
    })
  )
  return { bodies, layer }
}

const body = (n: number, extra: Partial<S.LogRequestInput> = {}): S.LogRequestInput => ({
  provider: "openai",
  model: "gpt-4o-mini",
  input: { type: "completion", content: [{ type: "text", text: `prompt ${n}` }] },
  output: { type: "completion", content: [{ type: "text", text: `answer ${n}` }] },
  request_start_time: 1_700_000_000_000,
  request_end_time: 1_700_000_000_500,
  tags: [`t${n}`],
  ...extra
})

const event = (n: number, extra: Partial<PromptLayerTracker.TrackEvent> = {}): PromptLayerTracker.TrackEvent => ({
  runId: `run-${n}`,
  build: () => body(n),
  ...extra
})

const withTracker = <A, E>(
  clientLayer: Layer.Layer<PromptLayerClient.PromptLayerClient>,
  options: PromptLayerTracker.Options,
  use: (tracker: PromptLayerTracker.Service) => Effect.Effect<A, E, Scope.Scope>,
  /** Run before the scope closes (e.g. open a gate), so a failed assertion cannot hang the flush. */
  release: Effect.Effect<unknown> = Effect.void
) =>
  Effect.gen(function* () {
    const tracker = yield* PromptLayerTracker.make(options)
    return yield* use(tracker).pipe(Effect.ensuring(release))
  }).pipe(Effect.scoped, Effect.provide(clientLayer))

/** Yields until `condition` holds (the delivery fibers run between yields); fails after 1000 yields. */
const eventually = (condition: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1000; i++) {
      if (condition()) return
      yield* Effect.yieldNow
    }
    assert.fail("condition never held")
  })

/** Captures log lines (level and message) instead of printing them. */
const captureLogs = () => {
  const lines: Array<{ level: string; message: string }> = []
  const logger = Logger.make(({ logLevel, message }) => {
    lines.push({ level: logLevel, message: String(Array.isArray(message) ? message[0] : message) })
  })
  const layer = Layer.merge(Logger.layer([logger]), Layer.succeed(References.MinimumLogLevel, "All"))
  return { lines, layer }
}

describe("PromptLayerTracker", () => {
  it.effect("delivers every event, counts it, and publishes it with its run id and tags", () => {
    const { bodies, layer } = countingClient()
    return withTracker(layer, {}, (tracker) =>
      Effect.gen(function* () {
        for (let n = 1; n <= 5; n++) assert.isTrue(tracker.offer(event(n, { parentRunId: "parent" })))
        yield* tracker.flush
        const stats = yield* tracker.stats
        assert.deepStrictEqual(stats, {
          accepted: 5,
          queued: 0,
          inFlight: 0,
          delivered: 5,
          retried: 0,
          failed: 0,
          dropped: 0,
          callbackErrors: 0,
          rejected: 0,
          batches: 0
        })
        assert.deepStrictEqual(bodies.map((b) => b.tags).sort(), [["t1"], ["t2"], ["t3"], ["t4"], ["t5"]])
        const id3 = yield* tracker.requestIdFor("run-3")
        assert.strictEqual(bodies[id3 - 1]?.tags?.[0], "t3")
      })
    )
  })

  it.effect("offer returns at once and builds the body in the background, not in offer", () => {
    const { layer } = countingClient()
    return withTracker(layer, {}, (tracker) =>
      Effect.gen(function* () {
        // The delivery fibers park waiting for events, as they do long before a handler's first callback.
        yield* Effect.yieldNow
        let built = 0
        const accepted = tracker.offer({
          runId: "lazy",
          build: () => {
            built++
            return body(1)
          }
        })
        assert.isTrue(accepted)
        assert.strictEqual(built, 0)
        yield* tracker.flush
        assert.strictEqual(built, 1)
        assert.strictEqual(yield* tracker.requestIdFor("lazy"), 1)
      })
    )
  })

  it.effect("requestIds delivers every log to two subscribers", () => {
    const { layer } = countingClient()
    return withTracker(layer, {}, (tracker) =>
      Effect.gen(function* () {
        const a = yield* Effect.forkChild(Stream.runCollect(Stream.take(tracker.requestIds, 20)))
        const b = yield* Effect.forkChild(Stream.runCollect(Stream.take(tracker.requestIds, 20)))
        yield* Effect.yieldNow
        for (let n = 1; n <= 20; n++) tracker.offer(event(n, { parentRunId: `p${n}` }))
        yield* tracker.flush
        const [logsA, logsB] = [yield* Fiber.join(a), yield* Fiber.join(b)]
        const ids = (logs: ReadonlyArray<PromptLayerTracker.DeliveredLog>) => logs.map((l) => l.requestId).sort()
        assert.deepStrictEqual(ids(logsA), Array.from({ length: 20 }, (_, i) => i + 1).sort())
        assert.deepStrictEqual(ids(logsA), ids(logsB))
        const first = logsA.find((l) => l.runId === "run-7")
        assert.strictEqual(first?.parentRunId, "p7")
        assert.deepStrictEqual(first?.tags, ["t7"])
        assert.strictEqual(first?.model, "gpt-4o-mini")
        assert.strictEqual(first?.status, "SUCCESS")
      })
    )
  })

  it.effect("subscribe: a subscription made before delivery misses nothing, even before its first pull", () => {
    const { layer } = countingClient()
    return withTracker(layer, {}, (tracker) =>
      Effect.scoped(
        Effect.gen(function* () {
          const stream = yield* tracker.subscribe
          for (let n = 1; n <= 5; n++) tracker.offer(event(n))
          yield* tracker.flush
          const logs = yield* Stream.runCollect(Stream.take(stream, 5))
          assert.deepStrictEqual(
            logs.map((l) => l.runId),
            ["run-1", "run-2", "run-3", "run-4", "run-5"]
          )
        })
      )
    )
  })

  it.effect("keeps at most `concurrency` deliveries in flight and flush waits for all of them", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const active = yield* Ref.make(0)
      const peak = yield* Ref.make(0)
      let ids = 0
      const layer = fakeClient(() =>
        Effect.gen(function* () {
          const now = yield* Ref.updateAndGet(active, (n) => n + 1)
          yield* Ref.update(peak, (p) => Math.max(p, now))
          yield* Deferred.await(gate)
          yield* Ref.update(active, (n) => n - 1)
          return { id: ++ids }
        })
      )
      yield* withTracker(
        layer,
        { concurrency: 3 },
        (tracker) =>
          Effect.gen(function* () {
            for (let n = 1; n <= 10; n++) tracker.offer(event(n))
            yield* eventually(() => tracker.statsUnsafe().inFlight === 3)
            yield* Effect.repeat(Effect.yieldNow, { times: 20 })
            const during = tracker.statsUnsafe()
            assert.strictEqual(during.inFlight, 3)
            assert.strictEqual(during.queued, 7)
            const flushing = yield* Effect.forkChild(tracker.flush)
            yield* Effect.yieldNow
            assert.isUndefined(flushing.pollUnsafe())
            yield* Deferred.succeed(gate, undefined)
            yield* Fiber.join(flushing)
            assert.strictEqual(tracker.statsUnsafe().delivered, 10)
            assert.strictEqual(yield* Ref.get(peak), 3)
          }),
        Deferred.succeed(gate, undefined)
      )
    })
  )

  it.effect("flush only waits for events accepted before it was called", () =>
    Effect.gen(function* () {
      const gates = new Map<string, Deferred.Deferred<void>>()
      let ids = 0
      const layer = fakeClient((b) =>
        Effect.flatMap(
          Effect.sync(() => gates.get(String(b.tags?.[0]))),
          (gate) => (gate ? Deferred.await(gate) : Effect.void)
        ).pipe(Effect.map(() => ({ id: ++ids })))
      )
      const late = yield* Deferred.make<void>()
      gates.set("t2", late)
      yield* withTracker(
        layer,
        { concurrency: 2 },
        (tracker) =>
          Effect.gen(function* () {
            tracker.offer(event(1))
            yield* tracker.flush
            tracker.offer(event(2))
            assert.strictEqual(tracker.statsUnsafe().delivered, 1)
            const second = yield* Effect.forkChild(tracker.flush)
            yield* Effect.yieldNow
            assert.isUndefined(second.pollUnsafe())
            yield* Deferred.succeed(late, undefined)
            yield* Fiber.join(second)
            assert.strictEqual(tracker.statsUnsafe().delivered, 2)
          }),
        Deferred.succeed(late, undefined)
      )
    })
  )

  it.effect("a full queue drops the newest event, counts it and warns once", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      let ids = 0
      const layer = fakeClient(() => Deferred.await(gate).pipe(Effect.map(() => ({ id: ++ids }))))
      const logs = captureLogs()
      yield* withTracker(
        layer,
        { concurrency: 1, maxQueued: 5 },
        (tracker) =>
          Effect.gen(function* () {
            tracker.offer(event(0))
            yield* eventually(() => tracker.statsUnsafe().inFlight === 1)
            const accepted = Array.from({ length: 10 }, (_, i) => tracker.offer(event(i + 1)))
            assert.deepStrictEqual(accepted, [true, true, true, true, true, false, false, false, false, false])
            const stats = tracker.statsUnsafe()
            assert.strictEqual(stats.queued, 5)
            assert.strictEqual(stats.dropped, 5)
            const dropped = yield* Effect.flip(tracker.requestIdFor("run-8"))
            assert.strictEqual(dropped.reason, "dropped")
            yield* Deferred.succeed(gate, undefined)
            yield* tracker.flush
            assert.strictEqual(tracker.statsUnsafe().delivered, 6)
          }),
        Deferred.succeed(gate, undefined)
      ).pipe(Effect.provide(logs.layer))
      const warnings = logs.lines.filter((l) => l.level === "Warn")
      assert.strictEqual(warnings.length, 1)
      assert.match(warnings[0]!.message, /dropped a log: the queue is full/)
    })
  )

  it.effect("the oldest policy drops the oldest waiting event instead", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const { bodies, layer: counting } = countingClient()
      const layer = fakeClient((b) =>
        Deferred.await(gate).pipe(
          Effect.andThen(Effect.provide(Effect.service(PromptLayerClient.PromptLayerClient), counting)),
          Effect.flatMap((c) => c.logRequest(b))
        )
      )
      yield* withTracker(
        layer,
        { concurrency: 1, maxQueued: 3, dropPolicy: "oldest" },
        (tracker) =>
          Effect.gen(function* () {
            tracker.offer(event(0))
            yield* eventually(() => tracker.statsUnsafe().inFlight === 1)
            for (let n = 1; n <= 5; n++) assert.isTrue(tracker.offer(event(n)))
            assert.strictEqual(tracker.statsUnsafe().dropped, 2)
            yield* Deferred.succeed(gate, undefined)
            yield* tracker.flush
            assert.deepStrictEqual(bodies.map((b) => b.tags?.[0]).sort(), ["t0", "t3", "t4", "t5"])
            assert.strictEqual((yield* Effect.flip(tracker.requestIdFor("run-1"))).reason, "dropped")
          }),
        Deferred.succeed(gate, undefined)
      )
    })
  )

  it.effect("counts retries made by the client's retry policy (TestClock) and delivers", () =>
    Effect.gen(function* () {
      const http = mockHttp((_, i) =>
        i < 2 ? { status: 503, json: { success: false } } : { status: 201, json: { id: 77 } }
      )
      const clientLayer = PromptLayerClient.layerWith({
        apiKey: "pl_test",
        baseUrl: "http://127.0.0.1:1",
        retry: { initialDelay: "1 second", jitter: false }
      }).pipe(Layer.provide(http.layer))
      yield* withTracker(clientLayer, {}, (tracker) =>
        Effect.gen(function* () {
          tracker.offer(event(1))
          const flushing = yield* Effect.forkChild(tracker.flush)
          yield* TestClock.adjust("1 second")
          assert.strictEqual(http.requests.length, 2)
          yield* TestClock.adjust("2 seconds")
          yield* Fiber.join(flushing)
          assert.strictEqual(http.requests.length, 3)
          const stats = tracker.statsUnsafe()
          assert.strictEqual(stats.retried, 2)
          assert.strictEqual(stats.delivered, 1)
          assert.strictEqual(yield* tracker.requestIdFor("run-1"), 77)
        })
      )
    })
  )

  it.effect("a final failure is counted, reported once as a warning, and never thrown", () =>
    Effect.gen(function* () {
      const layer = fakeClient(() =>
        Effect.fail(new InvalidRequestError({ endpoint: "POST /log-request", status: 400, serverMessage: "bad" }))
      )
      const logs = captureLogs()
      yield* withTracker(layer, {}, (tracker) =>
        Effect.gen(function* () {
          for (let n = 1; n <= 4; n++) tracker.offer(event(n))
          tracker.offer({
            runId: "build-throws",
            build: () => {
              throw new Error("cannot build")
            }
          })
          yield* tracker.flush
          const stats = tracker.statsUnsafe()
          assert.strictEqual(stats.failed, 5)
          assert.strictEqual(stats.delivered, 0)
          const failure = yield* Effect.flip(tracker.requestIdFor("run-2"))
          assert.strictEqual(failure.reason, "failed")
          assert.match(failure.detail ?? "", /request rejected \(400\)/)
          assert.strictEqual((yield* Effect.flip(tracker.requestIdFor("build-throws"))).reason, "failed")
        })
      ).pipe(Effect.provide(logs.layer))
      const warnings = logs.lines.filter((l) => l.level === "Warn")
      assert.strictEqual(warnings.length, 1)
      assert.strictEqual(warnings[0]!.message, "PromptLayer log delivery failed")
      assert.strictEqual(logs.lines.filter((l) => l.message === "PromptLayer log delivery failed").length, 5)
    })
  )

  it.effect("an onDelivered callback that throws or rejects is counted and delivery continues", () => {
    const { layer } = countingClient()
    return withTracker(layer, {}, (tracker) =>
      Effect.gen(function* () {
        const seen: Array<number> = []
        tracker.offer(
          event(1, {
            onDelivered: () => {
              throw new Error("sync boom")
            }
          })
        )
        tracker.offer(event(2, { onDelivered: async () => Promise.reject(new Error("async boom")) }))
        tracker.offer(event(3, { onDelivered: async (log) => void seen.push(log.requestId) }))
        yield* tracker.flush
        const stats = tracker.statsUnsafe()
        assert.strictEqual(stats.delivered, 3)
        assert.strictEqual(stats.callbackErrors, 2)
        assert.strictEqual(seen.length, 1)
      })
    )
  })

  it.effect("requestIdFor waits for a run that is not delivered yet", () => {
    const { layer } = countingClient()
    return withTracker(layer, {}, (tracker) =>
      Effect.gen(function* () {
        const waiting = yield* Effect.forkChild(tracker.requestIdFor("later"))
        yield* Effect.yieldNow
        assert.isUndefined(waiting.pollUnsafe())
        tracker.offer(event(1))
        tracker.offer({ runId: "later", build: () => body(2) })
        assert.strictEqual(yield* Fiber.join(waiting), 2)
      })
    )
  })

  it.effect("shutdown flushes, is idempotent, ends the stream, and later offers are dropped", () => {
    const { bodies, layer } = countingClient()
    return withTracker(layer, {}, (tracker) =>
      Effect.gen(function* () {
        const subscriber = yield* Effect.forkChild(Stream.runCollect(tracker.requestIds))
        yield* Effect.yieldNow
        for (let n = 1; n <= 3; n++) tracker.offer(event(n))
        const pending = yield* Effect.forkChild(tracker.requestIdFor("never"))
        yield* Effect.yieldNow
        yield* Effect.all([tracker.shutdown, tracker.shutdown], { concurrency: "unbounded" })
        yield* tracker.shutdown
        assert.strictEqual(bodies.length, 3)
        assert.strictEqual((yield* Fiber.join(subscriber)).length, 3)
        assert.isTrue(tracker.isShutdown())
        assert.isFalse(tracker.offer(event(4)))
        assert.strictEqual(tracker.statsUnsafe().dropped, 1)
        assert.strictEqual((yield* Effect.flip(Fiber.join(pending))).reason, "shutdown")
        yield* tracker.flush
      })
    )
  })

  it.effect("closing the scope flushes what was accepted", () =>
    Effect.gen(function* () {
      const { bodies, layer } = countingClient()
      const gate = yield* Deferred.make<void>()
      const slow = fakeClient((b) =>
        Deferred.await(gate).pipe(
          Effect.andThen(Effect.provide(Effect.service(PromptLayerClient.PromptLayerClient), layer)),
          Effect.flatMap((c) => c.logRequest(b))
        )
      )
      const scope = yield* Scope.make()
      const tracker = yield* PromptLayerTracker.make({}).pipe(Scope.provide(scope), Effect.provide(slow))
      for (let n = 1; n <= 4; n++) tracker.offer(event(n))
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* Effect.yieldNow
      assert.strictEqual(bodies.length, 0)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(closing)
      assert.strictEqual(bodies.length, 4)
      assert.isTrue(tracker.isShutdown())
    })
  )

  it.effect("a shutdown that times out drops what is still waiting, counted", () =>
    Effect.gen(function* () {
      const layer = fakeClient(() => Effect.never)
      yield* withTracker(layer, { concurrency: 1, shutdownTimeout: "5 seconds" }, (tracker) =>
        Effect.gen(function* () {
          for (let n = 1; n <= 3; n++) tracker.offer(event(n))
          const stopping = yield* Effect.forkChild(tracker.shutdown)
          yield* TestClock.adjust("5 seconds")
          yield* Fiber.join(stopping)
          const stats = tracker.statsUnsafe()
          assert.strictEqual(stats.failed, 1)
          assert.strictEqual(stats.dropped, 2)
          assert.strictEqual(stats.inFlight, 0)
          assert.strictEqual(stats.queued, 0)
          yield* tracker.flush
        })
      )
    })
  )

  it.effect("remembered failures are compact: heap per remembered failed run stays far below an error object", () =>
    Effect.gen(function* () {
      // An error object (with its captured stack) per remembered run made 10 000 of them ~47 MB.
      V8.setFlagsFromString("--expose-gc")
      const gc = Vm.runInNewContext("gc") as () => void
      const runs = 10_000
      const layer = fakeClient(() =>
        Effect.fail(
          new TransportError({ endpoint: "POST /log-request", description: "connect ECONNREFUSED 127.0.0.1:9" })
        )
      )
      yield* withTracker(layer, { rememberRuns: runs, maxQueued: runs }, (tracker) =>
        Effect.gen(function* () {
          gc()
          const before = process.memoryUsage().heapUsed
          for (let n = 0; n < runs; n++) tracker.offer({ runId: `down-${n}`, build: () => body(n) })
          yield* tracker.flush
          gc()
          const perRun = (process.memoryUsage().heapUsed - before) / runs
          assert.strictEqual(tracker.statsUnsafe().failed, runs)
          assert.isBelow(perRun, 1024, `${Math.round(perRun)} bytes per remembered failed run`)
          const oldest = yield* Effect.flip(tracker.requestIdFor("down-0"))
          assert.strictEqual(oldest.reason, "failed")
          assert.strictEqual(oldest.runId, "down-0")
          assert.strictEqual(
            oldest.detail,
            "TransportError: POST /log-request: transport failure: connect ECONNREFUSED 127.0.0.1:9"
          )
          assert.instanceOf(oldest, PromptLayerTracker.RequestIdUnavailable)
        })
      ).pipe(Effect.provideService(References.MinimumLogLevel, "None"))
    })
  )

  it.effect("layerConfig reads the tracker options from the environment", () =>
    Effect.gen(function* () {
      const options = yield* PromptLayerTracker.config
      assert.strictEqual(options.concurrency, 16)
      assert.strictEqual(options.dropPolicy, "newest")
    })
  )
})

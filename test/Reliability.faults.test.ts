/**
 * Fault matrix: the tracker (the handler's delivery path: tracker → client → HTTP) against the
 * emulator's fault injection over real HTTP on loopback. For each fault: logs generated vs stored,
 * retries counted, duplicates counted and explained.
 *
 * Duplicates: a log is stored twice only when the server stored it but the client never saw the
 * answer (per-attempt timeout, connection lost after the write) and retried. Faults that answer
 * before storing (429, 5xx, a dropped connection, a closed port) never duplicate. The emulator
 * aborts a slow request when the client gives up on it, so its `latencyMs` fault does not store
 * either; the "stored, then answered too late" case is reproduced with a loopback proxy that
 * forwards to the emulator and holds the answer back.
 *
 * Nothing depends on the machine's speed: the timeout cases run under a TestClock moved only once
 * every other log is delivered, other cases have attempt timeouts far above a loopback round trip
 * on a loaded machine (a spurious timeout would add a retry, or a duplicate), and the server-down
 * case starts the server once the tracker has counted the refused attempts.
 */
import * as Http from "node:http"
import type * as Net from "node:net"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import { TestClock } from "effect/testing"
import * as PromptLayerClient from "../src/PromptLayerClient.js"
import * as PromptLayerTracker from "../src/PromptLayerTracker.js"
import { startEmulator } from "promptlayer-effect/emulator"
import type { FaultRule, StartedEmulator } from "../src/PromptLayerEmulator.js"
import type * as PromptLayerRetryPolicy from "../src/PromptLayerRetryPolicy.js"
import { freePort } from "./support/ports.js"

const message = (role: string, text: string) => ({ role, content: [{ type: "text" as const, text }] })

const body = (seq: number) => {
  const t = Date.now()
  return {
    provider: "openai",
    model: "gpt-4o-mini",
    input: { type: "chat" as const, messages: [message("user", `question ${seq}`)] },
    output: { type: "chat" as const, messages: [message("assistant", `answer ${seq}`)] },
    request_start_time: t,
    request_end_time: t + 3,
    tags: ["faults"],
    metadata: { seq: String(seq) }
  }
}

interface Outcome {
  readonly generated: number
  readonly stored: number
  readonly unique: number
  readonly duplicates: number
  readonly missing: ReadonlyArray<number>
  readonly stats: PromptLayerTracker.Stats
  readonly elapsedMs: number
}

/** Offers `n` logs to a fresh tracker pointed at `baseUrl`, runs `during`, flushes, and compares with `emulator`. */
const run = (options: {
  readonly baseUrl: string
  readonly apiKey: string
  readonly n: number
  readonly retry: PromptLayerRetryPolicy.Options
  readonly emulator: () => StartedEmulator
  readonly during?: (tracker: PromptLayerTracker.Service) => Effect.Effect<void>
  /** Run the tracker and its retry policy under a TestClock (`during` moves it). */
  readonly testClock?: boolean
}): Promise<Outcome> =>
  Effect.gen(function* () {
    const started = Date.now()
    const tracker = yield* PromptLayerTracker.make({ concurrency: 8 })
    for (let seq = 0; seq < options.n; seq++) tracker.offer({ runId: `run-${seq}`, build: () => body(seq) })
    if (options.during !== undefined) yield* options.during(tracker)
    yield* tracker.flush
    const elapsedMs = Date.now() - started
    const stats = tracker.statsUnsafe()
    const seqs = options
      .emulator()
      .store.requests()
      .map((r) => Number(r.metadata.seq))
    const unique = new Set(seqs)
    return {
      generated: options.n,
      stored: seqs.length,
      unique: unique.size,
      duplicates: seqs.length - unique.size,
      missing: Array.from({ length: options.n }, (_, i) => i).filter((i) => !unique.has(i)),
      stats,
      elapsedMs
    }
  }).pipe(
    Effect.scoped,
    Effect.provide(
      PromptLayerClient.layerWith({ apiKey: options.apiKey, baseUrl: options.baseUrl, retry: options.retry }).pipe(
        Layer.provide(FetchHttpClient.layer)
      )
    ),
    options.testClock ? Effect.provide(TestClock.layer()) : identity,
    Effect.provideService(References.MinimumLogLevel, "Error"),
    Effect.runPromise
  )

const withEmulator = async <A>(faults: ReadonlyArray<FaultRule>, f: (emulator: StartedEmulator) => Promise<A>) => {
  const emulator = await startEmulator({ port: 0, faults, seed: 7 })
  try {
    return await f(emulator)
  } finally {
    await emulator.close()
  }
}

/** Every generated log is stored; the tracker accounts for each one. */
const assertNothingLost = (outcome: Outcome) => {
  assert.deepStrictEqual(outcome.missing, [], "every generated log is stored")
  assert.strictEqual(outcome.unique, outcome.generated)
  assert.strictEqual(outcome.stats.delivered, outcome.generated)
  assert.strictEqual(outcome.stats.failed, 0)
  assert.strictEqual(outcome.stats.dropped, 0)
  assert.strictEqual(outcome.stats.accepted, outcome.generated)
}

const fast = { initialDelay: "20 millis", maxDelay: "500 millis", jitter: false, attemptTimeout: "30 seconds" } as const

/** Resolves once `condition` holds (checked every 10 ms of real time); the test's own timeout bounds it. */
const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10))
}

/**
 * The timeout cases run under a TestClock: once every other log is delivered (so no normal call is
 * in flight), the clock moves past the attempt timeout, and only the held attempts time out, however
 * slow the machine; then past the backoff, and the retries go.
 */
const timeOutHeld = (tracker: PromptLayerTracker.Service, held: number, ready: () => boolean = () => true) =>
  Effect.gen(function* () {
    const others = tracker.statsUnsafe().accepted - held
    yield* Effect.promise(() => until(() => tracker.statsUnsafe().delivered === others && ready()))
    yield* TestClock.adjust(TIMEOUT)
    yield* Effect.promise(() => until(() => tracker.statsUnsafe().retried === held))
    yield* TestClock.adjust(fast.initialDelay)
  })

/** The attempt timeout of the timeout cases (on the TestClock). */
const TIMEOUT = "1 second"

describe.concurrent("Reliability: fault matrix (tracker → client → emulator)", () => {
  it("429 with Retry-After: every log stored once; each 429 costs one retry, after the server's delay", () =>
    withEmulator([{ route: "/log-request", status: 429, times: 12, retryAfterSeconds: 0.25 }], async (emulator) => {
      const outcome = await run({
        baseUrl: emulator.url,
        apiKey: emulator.apiKey,
        n: 40,
        retry: { ...fast, maxAttempts: 5 },
        emulator: () => emulator
      })
      assertNothingLost(outcome)
      assert.strictEqual(outcome.duplicates, 0, "a 429 is answered before anything is stored")
      assert.strictEqual(emulator.stats().faultsInjected, 12)
      assert.strictEqual(outcome.stats.retried, 12)
      // 12 rejections over 8 workers: some log waited Retry-After (250 ms) twice, not initialDelay (20 ms).
      assert.isAtLeast(outcome.elapsedMs, 500)
    }))

  it("500/502/503 bursts then a 15% 502 rate: every log stored once, one retry per injected failure", () =>
    withEmulator(
      [
        { route: "/log-request", status: 500, times: 6 },
        { route: "/log-request", status: 502, times: 6 },
        { route: "/log-request", status: 503, times: 6 },
        { route: "/log-request", status: 502, rate: 0.15 }
      ],
      async (emulator) => {
        const outcome = await run({
          baseUrl: emulator.url,
          apiKey: emulator.apiKey,
          n: 120,
          retry: { ...fast, maxAttempts: 10 },
          emulator: () => emulator
        })
        assertNothingLost(outcome)
        assert.strictEqual(outcome.duplicates, 0, "a 5xx is answered before anything is stored")
        assert.isAbove(emulator.stats().faultsInjected, 18)
        assert.strictEqual(outcome.stats.retried, emulator.stats().faultsInjected)
        assert.strictEqual(emulator.stats().statuses["500"], 6)
        assert.strictEqual(emulator.stats().statuses["503"], 6)
      }
    ))

  it("latency beyond the per-attempt timeout: the attempt times out, is retried, and the log is stored once", () =>
    // The first 5 calls would answer after 10 minutes; the clock moves once the other 25 are delivered.
    withEmulator([{ route: "/log-request", latencyMs: 600_000, times: 5 }], async (emulator) => {
      const outcome = await run({
        baseUrl: emulator.url,
        apiKey: emulator.apiKey,
        n: 30,
        retry: { ...fast, maxAttempts: 4, attemptTimeout: TIMEOUT },
        emulator: () => emulator,
        testClock: true,
        during: (tracker) => timeOutHeld(tracker, 5)
      })
      assertNothingLost(outcome)
      assert.strictEqual(outcome.stats.retried, 5, "each slow attempt timed out once and was retried")
      // The client aborts the slow request; the emulator interrupts its handler, so nothing was stored twice.
      assert.strictEqual(outcome.duplicates, 0)
    }))

  it("answered too late after storing (a proxy holds the emulator's answer back): retried, and stored twice — counted", async () => {
    await withEmulator([], async (emulator) => {
      const K = 4
      let delayed = 0
      const proxy = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", async () => {
          const upstream = await fetch(`${emulator.url}${req.url}`, {
            method: req.method ?? "POST",
            headers: { "content-type": "application/json", "x-api-key": String(req.headers["x-api-key"]) },
            body: Buffer.concat(chunks)
          })
          const text = await upstream.text()
          // The write is stored; the answer of the first K calls is held until the client gives up.
          if (delayed < K) {
            delayed++
            if (!res.destroyed) await new Promise((r) => res.once("close", r))
          }
          if (res.destroyed) return
          res.writeHead(upstream.status, { "content-type": "application/json" })
          res.end(text)
        })
      })
      await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve))
      try {
        const { port } = proxy.address() as Net.AddressInfo
        const outcome = await run({
          baseUrl: `http://127.0.0.1:${port}`,
          apiKey: emulator.apiKey,
          n: 30,
          retry: { ...fast, maxAttempts: 4, attemptTimeout: TIMEOUT },
          emulator: () => emulator,
          testClock: true,
          // Once the proxy holds K answers whose writes are stored, and the other logs are delivered.
          during: (tracker) => timeOutHeld(tracker, K, () => delayed === K)
        })
        assertNothingLost(outcome)
        assert.strictEqual(outcome.stats.retried, K)
        assert.strictEqual(outcome.duplicates, K, "each write whose answer came too late is stored twice")
        assert.strictEqual(outcome.stored, 30 + K)
      } finally {
        proxy.closeAllConnections()
        await new Promise((r) => proxy.close(r))
      }
    })
  })

  it("dropped connections (30%): every log stored once, one retry per dropped connection", () =>
    withEmulator([{ route: "/log-request", drop: true, rate: 0.3 }], async (emulator) => {
      const outcome = await run({
        baseUrl: emulator.url,
        apiKey: emulator.apiKey,
        n: 100,
        retry: { ...fast, maxAttempts: 10 },
        emulator: () => emulator
      })
      assertNothingLost(outcome)
      assert.strictEqual(outcome.duplicates, 0, "the connection is dropped before the body is stored")
      assert.isAbove(emulator.stats().faultsInjected, 10)
      assert.strictEqual(outcome.stats.retried, emulator.stats().faultsInjected)
    }))

  it("server down, then up on the same port: logs wait in retry backoff and are all stored once", async () => {
    const port = await freePort()
    let emulator: StartedEmulator | undefined
    try {
      const outcome = await run({
        baseUrl: `http://127.0.0.1:${port}`,
        apiKey: "pl_emulator_local_key",
        n: 40,
        // Attempts never run out however long the server takes to come up.
        retry: { ...fast, initialDelay: "100 millis", maxDelay: "400 millis", maxAttempts: 1000 },
        emulator: () => emulator!,
        during: (tracker) =>
          Effect.promise(async () => {
            // Up once every worker's first attempt was refused.
            await until(() => tracker.statsUnsafe().retried >= 8)
            emulator = await startEmulator({ port })
          })
      })
      assertNothingLost(outcome)
      assert.strictEqual(outcome.duplicates, 0, "a refused connection stores nothing")
      assert.isAtLeast(outcome.stats.retried, 8, "the first attempts were refused and retried")
    } finally {
      await emulator?.close()
    }
  })

  it("beyond the retry budget (503 on every call, 2 attempts): nothing stored, every log counted as failed", () =>
    withEmulator([{ route: "/log-request", status: 503 }], async (emulator) => {
      const outcome = await run({
        baseUrl: emulator.url,
        apiKey: emulator.apiKey,
        n: 20,
        retry: { ...fast, maxAttempts: 2 },
        emulator: () => emulator
      })
      assert.strictEqual(outcome.stored, 0)
      assert.strictEqual(outcome.stats.failed, 20)
      assert.strictEqual(outcome.stats.delivered, 0)
      assert.strictEqual(outcome.stats.retried, 20)
      assert.strictEqual(emulator.stats().faultsInjected, 40)
    }))
})

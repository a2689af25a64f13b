/**
 * The attempt timeout that counts running time (src/internal/awakeTimeout.ts): on a `TestClock` it
 * is a plain timeout; with a clock whose timers the test fires by hand, a "freeze" (the clock jumps
 * far past a tick before its timer runs) costs the timeout two ticks, not the whole gap.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Result from "effect/Result"
import * as TestClock from "effect/testing/TestClock"
import { awakeSleep, TICKS, timeoutAwake } from "../src/internal/awakeTimeout.js"

/** A clock whose time the test sets and whose timers the test fires, one at a time, in order. */
const manualClock = () => {
  let now = 0
  const timers: Array<{ readonly ms: number; readonly fire: () => void }> = []
  const nanos = () => BigInt(Math.round(now * 1e6))
  const clock: Clock.Clock = {
    currentTimeMillisUnsafe: () => now,
    currentTimeMillis: Effect.sync(() => now),
    currentTimeNanosUnsafe: nanos,
    currentTimeNanos: Effect.sync(nanos),
    monotonicTimeNanosUnsafe: nanos,
    monotonicTimeNanos: Effect.sync(nanos),
    sleep: (duration) =>
      Effect.callback<void>((resume) => {
        timers.push({ ms: Duration.toMillis(duration), fire: () => resume(Effect.void) })
      })
  }
  /** Lets `ms` pass, then fires the oldest timer; returns the delay it had asked for. */
  const fireAfter = (ms: number): number => {
    const timer = timers.shift()
    assert.isDefined(timer, "a timer is waiting")
    now += ms
    timer!.fire()
    return timer!.ms
  }
  return { clock, fireAfter, pending: () => timers.length }
}

describe("awakeSleep", () => {
  it.effect("on a TestClock, ends after exactly its duration", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(awakeSleep(1000))
      yield* TestClock.adjust(999)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust(1)
      assert.isTrue(Exit.isSuccess(yield* Fiber.await(fiber)))
    })
  )

  it.effect(
    "a freeze (the clock jumps ten times its duration before a timer runs) costs it two ticks, not the gap",
    () =>
      Effect.gen(function* () {
        const { clock, fireAfter, pending } = manualClock()
        const tick = 800 / TICKS
        const fiber = yield* Effect.forkChild(awakeSleep(800).pipe(Effect.provideService(Clock.Clock, clock)))
        yield* Effect.yieldNow
        assert.strictEqual(fireAfter(tick), tick)
        yield* Effect.yieldNow
        // Frozen: the next timer runs 8 s late; it counts as two ticks.
        fireAfter(8000)
        yield* Effect.yieldNow
        assert.isUndefined(fiber.pollUnsafe(), "not over: 3 of 8 ticks counted")
        for (let i = 0; i < TICKS - 4; i++) {
          fireAfter(tick)
          yield* Effect.yieldNow
        }
        assert.isUndefined(fiber.pollUnsafe(), "7 of 8 ticks counted")
        assert.strictEqual(pending(), 1)
        fireAfter(tick)
        yield* Effect.yieldNow
        assert.isTrue(Exit.isSuccess(yield* Fiber.await(fiber)))
      })
  )

  it.effect("a late timer (a busy event loop) counts its real time up to twice a tick", () =>
    Effect.gen(function* () {
      const { clock, fireAfter } = manualClock()
      const fiber = yield* Effect.forkChild(awakeSleep(800).pipe(Effect.provideService(Clock.Clock, clock)))
      yield* Effect.yieldNow
      // 150 + 150 + 150 + 200 (400, capped at two ticks) = 650, then 150 more: 800.
      for (const ms of [150, 150, 150, 400]) {
        fireAfter(ms)
        yield* Effect.yieldNow
      }
      assert.isUndefined(fiber.pollUnsafe())
      fireAfter(150)
      yield* Effect.yieldNow
      assert.isTrue(Exit.isSuccess(yield* Fiber.await(fiber)))
    })
  )
})

describe("timeoutAwake", () => {
  it.effect("gives the effect's result when it ends first", () =>
    Effect.gen(function* () {
      const result = yield* timeoutAwake(Effect.succeed(42), 1000, () => Effect.fail("timeout" as const))
      assert.strictEqual(result, 42)
    })
  )

  it.effect("fails with orElse after its duration and interrupts the effect", () =>
    Effect.gen(function* () {
      let interrupted = false
      const never = Effect.never.pipe(
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            interrupted = true
          })
        )
      )
      const fiber = yield* Effect.forkChild(
        Effect.result(timeoutAwake(never, 1000, () => Effect.fail("timeout" as const)))
      )
      yield* TestClock.adjust(1000)
      const result = yield* Fiber.join(fiber)
      assert.deepStrictEqual(result, Result.fail("timeout"))
      assert.isTrue(interrupted)
    })
  )
})

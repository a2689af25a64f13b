/**
 * Attempt timeouts that count only the time the process could run. A serverless platform freezes
 * a process once its response is sent (Lambda, Vercel, Cloud Run: no timer runs meanwhile), and on
 * resume every timer is overdue at once. An attempt whose answer arrived during the freeze would
 * then time out before that answer is read, and its retry would store the batch twice: the server
 * does not de-duplicate span ids or logs.
 *
 * So the wait is cut into {@link TICKS} ticks on the clock; a tick that took far longer than asked
 * (the process was stopped, or its event loop blocked) counts as twice its length at most. After a
 * freeze the attempt keeps most of its time, and the answer already waiting in the socket is read
 * before the timeout can fire. An attempt that ends before the first tick (nearly all of them)
 * costs one timer, as a plain timeout does.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/** Ticks per timeout: a freeze (of any length) costs the timeout at most two ticks, a quarter of it. */
export const TICKS = 8

const monotonicMillis = (clock: Clock.Clock): number => Number(clock.monotonicTimeNanosUnsafe()) / 1e6

/**
 * Sleeps until `millis` of the process's running time have passed: each tick counts the time it
 * took on the clock, at least its own length and at most twice it.
 *
 * @example
 * ```ts
 * // 30 s of running time: a 10-minute freeze in the middle adds 10 minutes of wall time, not a timeout.
 * yield* awakeSleep(30_000)
 * ```
 */
export const awakeSleep = (millis: number): Effect.Effect<void> =>
  Clock.clockWith((clock) => {
    const tick = millis / TICKS
    const loop = (remaining: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (remaining <= 0) return Effect.void
        const step = Math.min(tick, remaining)
        const before = monotonicMillis(clock)
        return Effect.flatMap(clock.sleep(Duration.millis(step)), () => {
          const took = monotonicMillis(clock) - before
          return loop(remaining - Math.min(Math.max(took, step), 2 * step))
        })
      })
    return loop(millis)
  })

/**
 * `self`, or `orElse()` once `millis` of running time ({@link awakeSleep}) passed first (`self` is
 * then interrupted): `Effect.timeoutOrElse` that a frozen process does not trip on resume.
 *
 * @example
 * ```ts
 * const sent = timeoutAwake(client.spans.bulkEncoded(spans), 30_000, () => Effect.fail(new TimeoutError({ ... })))
 * ```
 */
export const timeoutAwake = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  millis: number,
  orElse: () => Effect.Effect<never, E2>
): Effect.Effect<A, E | E2, R> => Effect.raceFirst(self, Effect.flatMap(awakeSleep(millis), orElse))

/**
 * The timers of the tracker's background fibers, in one place: the live clock with unref'd sleeps
 * (pending backoff must not keep a process alive), the ref'd timer that holds the process open
 * while a flush is awaited, and how a background fiber is woken from a caller's stack.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Scheduler from "effect/Scheduler"

/** The longest delay `setTimeout` takes; beyond, Node fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

const liveClockConstructor = Clock.Clock.defaultValue().constructor

/** Whether `clock` is Effect's live clock (not a `TestClock` or a clock of the app's own). */
export const isLiveClock = (clock: Clock.Clock): boolean => clock.constructor === liveClockConstructor

/** Sleeps `millis` on an unref'd timer (chained past the longest `setTimeout` delay). */
const unrefSleep = (millis: number): Effect.Effect<void> => {
  if (millis <= 0) return Effect.yieldNow
  if (!Number.isFinite(millis)) return Effect.never
  return Effect.callback<void>((resume) => {
    const rest = millis > MAX_TIMER_MS ? unrefSleep(millis - MAX_TIMER_MS) : Effect.void
    const handle = setTimeout(() => resume(rest), Math.min(millis, MAX_TIMER_MS))
    ;(handle as { unref?: () => void }).unref?.()
    return Effect.sync(() => clearTimeout(handle))
  })
}

/** The live clock with unref'd sleeps, so pending backoff timers do not keep a process alive. */
export const unrefClock = (base: Clock.Clock): Clock.Clock => ({
  currentTimeMillisUnsafe: () => base.currentTimeMillisUnsafe(),
  currentTimeMillis: base.currentTimeMillis,
  currentTimeNanosUnsafe: () => base.currentTimeNanosUnsafe(),
  currentTimeNanos: base.currentTimeNanos,
  monotonicTimeNanosUnsafe: () => base.monotonicTimeNanosUnsafe(),
  monotonicTimeNanos: base.monotonicTimeNanos,
  sleep: (duration) => unrefSleep(Duration.toMillis(duration))
})

/** `clock` for background fibers: unref'd if it is the live clock, as is otherwise (a `TestClock`). */
export const backgroundClock = (clock: Clock.Clock): Clock.Clock => (isLiveClock(clock) ? unrefClock(clock) : clock)

/**
 * The scheduler of the tracker's background fibers: the macrotask queue (`setImmediate`), whatever
 * scheduler the tracker was built under. `Effect.runSync` (and so `ManagedRuntime.runSync`, which the
 * handler's plain construction uses) runs on a scheduler that resumes fibers as microtasks, and in
 * Effect 4 every fiber forked under it keeps it for life: the delivery fibers would then run between
 * the awaits of the LLM call that offered the span.
 */
export const backgroundScheduler: Scheduler.Scheduler = new Scheduler.MixedScheduler("async")

/**
 * Holds the process open for at most `millis` (a ref'd timer) until the returned function is
 * called; does nothing for `millis <= 0`.
 */
export const holdOpen = (millis: number): (() => void) => {
  if (millis <= 0) return () => {}
  const handle = setTimeout(() => {}, Math.min(millis, MAX_TIMER_MS))
  return () => clearTimeout(handle)
}

/**
 * Resumes a fiber suspended in `Effect.callback` on a later macrotask, not in the caller's stack.
 * Effect 4 runs a resumed fiber synchronously inside `resume`; a background fiber woken from a
 * LangChain callback (an `offer`) or from another fiber's step would then do its work on that
 * caller's path. `Effect.yieldNow` hands it to the scheduler (a `setImmediate` turn) first, so it
 * runs after the caller's current chain of promises, not between its awaits.
 */
export const resumeLater =
  <A, E>(resume: (effect: Effect.Effect<A, E>) => void) =>
  (effect: Effect.Effect<A, E>): void =>
    resume(Effect.andThen(Effect.yieldNow, effect))

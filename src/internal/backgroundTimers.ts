/**
 * The timers of the tracker's background fibers, in one place: the live clock with unref'd sleeps
 * (pending backoff must not keep a process alive), the ref'd timer that holds the process open
 * while a flush is awaited, and the macrotask scheduler of the span assembler.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Scheduler from "effect/Scheduler"

/** The longest delay `setTimeout` takes; beyond, Node fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

const liveClockConstructor = Clock.make().constructor

/** Whether `clock` is Effect's live clock (not a `TestClock` or a clock of the app's own). */
export const isLiveClock = (clock: Clock.Clock): boolean => clock.constructor === liveClockConstructor

/** The live clock with unref'd sleeps, so pending backoff timers do not keep a process alive. */
export const unrefClock = (base: Clock.Clock): Clock.Clock => ({
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis(),
  unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos(),
  currentTimeMillis: base.currentTimeMillis,
  currentTimeNanos: base.currentTimeNanos,
  sleep: (duration) =>
    Effect.async<void>((resume) => {
      const millis = Duration.toMillis(duration)
      if (millis > MAX_TIMER_MS) return
      const handle = setTimeout(() => resume(Effect.void), millis)
      ;(handle as { unref?: () => void }).unref?.()
      return Effect.sync(() => clearTimeout(handle))
    })
})

/** `clock` for background fibers: unref'd if it is the live clock, as is otherwise (a `TestClock`). */
export const backgroundClock = (clock: Clock.Clock): Clock.Clock => (isLiveClock(clock) ? unrefClock(clock) : clock)

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
 * Runs fibers on the macrotask queue (`setImmediate`), many per turn. A fiber woken from a
 * LangChain callback then runs after the caller's current chain of promises, not between its
 * awaits (Effect's default scheduler resumes fibers as microtasks).
 */
export const macrotaskScheduler: Scheduler.Scheduler = Scheduler.makeBatched((run) => {
  if (typeof setImmediate === "function") setImmediate(run)
  else setTimeout(run, 0)
})

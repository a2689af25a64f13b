/**
 * What the tracker remembers of each run for `requestIdFor`: its request id, or why there is none,
 * for the last `capacity` runs (oldest forgotten first), and the callers waiting for a run it has
 * not settled yet.
 *
 * @internal
 */
import { RecentMap } from "./recentMap.js"

/** Why a run has no request id. Kept small (no error object, no stack): thousands live as long as the tracker. */
export interface Unavailable {
  readonly reason: "failed" | "dropped" | "shutdown" | "rejected"
  readonly detail: string | undefined
}

/** A request id, or why there is none. */
export type Outcome = number | Unavailable

/** The outcomes of the last `capacity` runs, and their waiters. */
export class RunOutcomes {
  private readonly outcomes: RecentMap<string, Outcome>
  private readonly waiters = new Map<string, Array<(outcome: Outcome) => void>>()

  constructor(capacity: number) {
    this.outcomes = new RecentMap(capacity)
  }

  /** Records a run's outcome (the latest wins) and wakes its waiters. */
  remember(runId: string | undefined, outcome: Outcome): void {
    if (runId === undefined) return
    this.outcomes.set(runId, outcome)
    const waiting = this.waiters.get(runId)
    if (waiting !== undefined) {
      this.waiters.delete(runId)
      for (const resume of waiting) resume(outcome)
    }
  }

  get(runId: string): Outcome | undefined {
    return this.outcomes.get(runId)
  }

  /** Waits for a run's outcome; returns the function that stops waiting. */
  wait(runId: string, resume: (outcome: Outcome) => void): () => void {
    const waiting = this.waiters.get(runId) ?? []
    waiting.push(resume)
    this.waiters.set(runId, waiting)
    return () => {
      const current = this.waiters.get(runId)
      if (current === undefined) return
      const rest = current.filter((w) => w !== resume)
      if (rest.length === 0) this.waiters.delete(runId)
      else this.waiters.set(runId, rest)
    }
  }

  /** Wakes every waiter with `outcome` (shutdown). */
  releaseAll(outcome: Outcome): void {
    for (const [runId, waiting] of this.waiters) {
      this.waiters.delete(runId)
      for (const resume of waiting) resume(outcome)
    }
  }
}

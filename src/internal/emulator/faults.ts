/**
 * Fault injection rules of the emulator: per route, fail the next N calls or a seeded fraction of
 * them with a status, add latency, or drop the connection.
 */

/** One fault rule. */
export interface FaultRule {
  /**
   * The path it applies to: exact (`"/log-request"`), a prefix ending in `*` (`"/library-*"`,
   * `"/prompt-templates/*"`), or `"*"` for every API route.
   */
  readonly route: string
  /** Only this method (`"GET"`, `"POST"`); any when absent. */
  readonly method?: string | undefined
  /** Answer with this status (429, 500, 502, 503, ...). */
  readonly status?: number | undefined
  /** Destroy the socket mid-request instead of answering; the call has no effect. */
  readonly drop?: boolean | undefined
  /**
   * Process the call (the write happens and is persisted), then destroy the socket instead of
   * answering: the client sees a dropped connection although the server acted, as when a
   * response is lost in transit. A retrying client then logs twice.
   */
  readonly dropResponse?: boolean | undefined
  /** Wait this long first, in milliseconds (alone: a slow but successful call). */
  readonly latencyMs?: number | undefined
  /** Apply to the next N matching calls only. */
  readonly times?: number | undefined
  /** Apply to this fraction (0–1) of matching calls, drawn from the seeded generator. */
  readonly rate?: number | undefined
  /** `Retry-After` in seconds on 429 and 503 (default 1 for 429, none for 503). */
  readonly retryAfterSeconds?: number | undefined
}

/** A rule with its live state, as the control endpoint lists it. */
export interface ActiveFault extends FaultRule {
  readonly id: number
  /** Calls still to fail when `times` was given. */
  readonly remaining: number | null
  /** How many calls it has affected. */
  readonly applied: number
}

/** What to do with one call. */
export interface FaultDecision {
  readonly rule: ActiveFault
  readonly latencyMs: number
  readonly status: number | undefined
  readonly drop: boolean
  readonly dropResponse: boolean
  readonly retryAfterSeconds: number | undefined
}

/** mulberry32: a small deterministic PRNG. */
const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const isNumber = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)

/** Checks a rule from untrusted JSON; returns an error message or the rule. */
export const parseRule = (u: unknown): FaultRule | string => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return "a fault rule must be an object"
  const r = u as Record<string, unknown>
  if (typeof r.route !== "string" || r.route === "") return "route: expected a path, a prefix ending in * or *"
  if (r.method !== undefined && typeof r.method !== "string") return "method: expected a string"
  if (
    r.status !== undefined &&
    !(isNumber(r.status) && Number.isInteger(r.status) && r.status >= 400 && r.status < 600)
  )
    return "status: expected an HTTP error status (400–599)"
  if (r.drop !== undefined && typeof r.drop !== "boolean") return "drop: expected a boolean"
  if (r.dropResponse !== undefined && typeof r.dropResponse !== "boolean") return "dropResponse: expected a boolean"
  if (r.latencyMs !== undefined && !(isNumber(r.latencyMs) && r.latencyMs >= 0))
    return "latencyMs: expected a non-negative number"
  if (r.times !== undefined && !(isNumber(r.times) && Number.isInteger(r.times) && r.times >= 0))
    return "times: expected a non-negative integer"
  if (r.rate !== undefined && !(isNumber(r.rate) && r.rate >= 0 && r.rate <= 1)) return "rate: expected a number 0–1"
  if (r.retryAfterSeconds !== undefined && !(isNumber(r.retryAfterSeconds) && r.retryAfterSeconds >= 0))
    return "retryAfterSeconds: expected a non-negative number"
  if (r.status === undefined && r.drop !== true && r.dropResponse !== true && r.latencyMs === undefined)
    return "a fault rule needs status, drop, dropResponse or latencyMs"
  return {
    route: r.route,
    method: r.method as string | undefined,
    status: r.status as number | undefined,
    drop: r.drop as boolean | undefined,
    dropResponse: r.dropResponse as boolean | undefined,
    latencyMs: r.latencyMs as number | undefined,
    times: r.times as number | undefined,
    rate: r.rate as number | undefined,
    retryAfterSeconds: r.retryAfterSeconds as number | undefined
  }
}

const matches = (pattern: string, path: string) =>
  pattern === "*" || (pattern.endsWith("*") ? path.startsWith(pattern.slice(0, -1)) : pattern === path)

interface Live {
  id: number
  rule: FaultRule
  remaining: number | null
  applied: number
  random: () => number
}

/** The fault rules of one emulator. Deterministic for a given seed and call sequence. */
export class Faults {
  private rules: Array<Live> = []
  private nextId = 1
  /** Calls affected by any rule so far. */
  injected = 0

  constructor(private readonly seed: number = 1) {}

  /** Adds rules (checked with {@link parseRule}); returns them as active. */
  add(rules: ReadonlyArray<FaultRule>): Array<ActiveFault> {
    const added = rules.map((rule) => {
      const id = this.nextId++
      // Each rule draws from its own stream so other routes' traffic does not change its decisions.
      const live: Live = { id, rule, remaining: rule.times ?? null, applied: 0, random: prng(this.seed * 7919 + id) }
      this.rules.push(live)
      return live
    })
    return added.map(view)
  }

  /** Removes every rule. */
  clear(): void {
    this.rules = []
  }

  /** The active rules. */
  list(): Array<ActiveFault> {
    return this.rules.map(view)
  }

  /** The fault to apply to a call, if any (consumes `times` and draws for `rate`). */
  decide(method: string, path: string): FaultDecision | undefined {
    for (const live of this.rules) {
      const { rule } = live
      if (!matches(rule.route, path)) continue
      if (rule.method !== undefined && rule.method.toUpperCase() !== method.toUpperCase()) continue
      if (live.remaining !== null && live.remaining <= 0) continue
      if (rule.rate !== undefined && !(live.random() < rule.rate)) continue
      if (live.remaining !== null) live.remaining--
      live.applied++
      this.injected++
      return {
        rule: view(live),
        latencyMs: rule.latencyMs ?? 0,
        status: rule.status,
        drop: rule.drop === true,
        dropResponse: rule.dropResponse === true,
        retryAfterSeconds: rule.retryAfterSeconds ?? (rule.status === 429 ? 1 : undefined)
      }
    }
    return undefined
  }
}

const view = (live: Live): ActiveFault => ({
  ...Object.fromEntries(Object.entries(live.rule).filter(([, v]) => v !== undefined)),
  route: live.rule.route,
  id: live.id,
  remaining: live.remaining,
  applied: live.applied
})

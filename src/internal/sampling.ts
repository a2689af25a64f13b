/**
 * The sampling decision: whether a trace is kept, from its trace id and the sample rate alone.
 *
 * The trace id (32 hex digits: the root run's UUID without dashes) is hashed to a 53-bit integer
 * `h`, and the trace is kept iff `h < rate × 2^53`. The same id and rate give the same answer in
 * every process and on every call, so every span of a trace is kept or dropped together and two
 * services that see the same trace agree; rate 0 keeps nothing and rate 1 keeps everything,
 * exactly (`h` is at most 2^53 − 1).
 *
 * How it compares: LangSmith's `tracingSamplingRate` also decides once per trace at its root and
 * lets the children follow, but draws `Math.random()`, so two processes do not agree. OTel's
 * `TraceIdRatioBased` sampler is deterministic too, but reads the trace id's own low bits (56 in
 * the current spec; the JS SDK accumulates its 32-bit words), which assumes random trace ids. Here
 * the trace id is a run id the caller may choose (`config.runId`: sequential or time-ordered UUIDs,
 * a v7's leading bits are a timestamp), so its bytes are hashed first: a rate holds for any ids.
 * Langfuse's v3 SDK does the same (a hash of the trace id).
 *
 * @internal
 */
import { fmix, traceIdOf } from "./runTree.js"

const TWO_POW_21 = 2 ** 21
const TWO_POW_53 = 2 ** 53

/**
 * A trace id's 53-bit hash, uniform over `[0, 2^53)`: two seeded FNV-1a passes over its characters
 * (ASCII: its bytes), each finished with MurmurHash3's mixer, 32 + 21 bits joined.
 *
 * @example
 * ```ts
 * traceHash("0b0d5e4c9e1b4c1f8d3b6a2e5f7c9d10") // the same integer in every process
 * ```
 */
export const traceHash = (traceId: string): number => {
  let a = (0x811c9dc5 ^ 0x5bd1e995) >>> 0
  let b = (0x811c9dc5 ^ 0x1b873593) >>> 0
  for (let i = 0; i < traceId.length; i++) {
    const c = traceId.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x01000193)
  }
  return fmix(a) * TWO_POW_21 + (fmix(b) >>> 11)
}

/**
 * Whether the trace `traceId` is kept at sample rate `rate` (0–1): deterministic, 0 keeps none,
 * 1 keeps all, and over many ids the kept share is `rate`.
 *
 * @example
 * ```ts
 * isSampled("0b0d5e4c9e1b4c1f8d3b6a2e5f7c9d10", 0.1) // true for about one trace id in ten, always the same ones
 * ```
 */
export const isSampled = (traceId: string, rate: number): boolean => {
  if (rate >= 1) return true
  if (rate <= 0) return false
  return traceHash(traceId) < rate * TWO_POW_53
}

/**
 * {@link isSampled} for the trace whose root run is `runId` (its trace id is `traceIdOf(runId)`),
 * without making the trace id: for a UUID, the hash runs over its hex digits, lower-cased, skipping
 * the dashes, which is what `traceIdOf` gives. The decision at a root is on the LLM call's path.
 *
 * @example
 * ```ts
 * isRootSampled("0B0D5E4C-9E1B-4C1F-8D3B-6A2E5F7C9D10", 0.1) === isSampled("0b0d5e4c9e1b4c1f8d3b6a2e5f7c9d10", 0.1)
 * ```
 */
export const isRootSampled = (runId: string, rate: number): boolean => {
  if (rate >= 1) return true
  if (rate <= 0) return false
  let a = (0x811c9dc5 ^ 0x5bd1e995) >>> 0
  let b = (0x811c9dc5 ^ 0x1b873593) >>> 0
  let digits = 0
  let nonZero = false
  for (let i = 0; i < runId.length; i++) {
    let c = runId.charCodeAt(i)
    if (c === 45) continue // "-"
    if (c >= 65 && c <= 70) c += 32 // "A"-"F" → "a"-"f"
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return isSampled(traceIdOf(runId), rate)
    if (c !== 48) nonZero = true
    digits++
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x01000193)
  }
  if (digits !== 32 || !nonZero) return isSampled(traceIdOf(runId), rate)
  return fmix(a) * TWO_POW_21 + (fmix(b) >>> 11) < rate * TWO_POW_53
}

/**
 * The `sampleRate` option, checked: a number from 0 to 1 (default 1). Anything else throws, naming
 * the option.
 */
export const sampleRateOption = (value: unknown): number => {
  if (value === undefined) return 1
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new Error(`PromptLayerCallbackHandler: sampleRate must be a number from 0 to 1, got ${String(value)}`)
  }
  return value
}

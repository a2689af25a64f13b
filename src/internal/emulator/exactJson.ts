/**
 * JSON text ⇄ values without losing integers beyond 2^53. PromptLayer span times are nanoseconds
 * since the epoch (~1.8e18): `JSON.parse` rounds such a number to the nearest double, and Node 20
 * has no source-text reviver (`JSON.parse` context / `JSON.rawJSON`). So:
 *
 * - {@link scanJson} walks the text once (strings skipped with `indexOf`, not character by
 *   character), measuring the nesting depth and finding the integer tokens a double cannot hold;
 * - {@link parseExact} lets the native `JSON.parse` do the work, then puts the exact values back:
 *   in text order when the parsed tree allows it (a walk), else by parsing again with those tokens
 *   quoted behind a per-process random marker and turning the marked strings into `bigint`s;
 * - {@link stringifyExact} is `JSON.stringify`, writing a `bigint` as its digits (a JSON integer).
 *
 * Hand-written rather than `lossless-json`: that library parses the whole text in JavaScript (every
 * number becomes a `LosslessNumber` object unless a custom parser is given), several times slower than
 * the native parser on a 300 KB `/spans-bulk` body, while here the native parser still does the work
 * and only the integers that need it are special.
 */
import * as Crypto from "node:crypto"

/** What {@link scanJson} found. */
export interface JsonScan {
  /** True when the text nests deeper than the limit (scanning stopped there). */
  readonly tooDeep: boolean
  /** Deepest nesting seen (up to the limit + 1 when too deep). */
  readonly depth: number
  /** Start and end offsets (pairs) of integer tokens beyond ±(2^53 − 1), in text order. */
  readonly unsafeIntegers: ReadonlyArray<number>
}

/** The last full scan: the guard and the route scan the same body. */
let last: { readonly text: string; readonly scan: JsonScan } | undefined

/** Digits of `Number.MAX_SAFE_INTEGER`, to compare 16-digit tokens with. */
const MAX_SAFE_DIGITS = String(Number.MAX_SAFE_INTEGER)

const isDigit = (c: number) => c >= 48 && c <= 57

/** True when `text[from, to)` (decimal digits, no sign) is above `Number.MAX_SAFE_INTEGER`. */
const beyondSafe = (text: string, from: number, to: number) =>
  to - from > MAX_SAFE_DIGITS.length || (to - from === MAX_SAFE_DIGITS.length && text.slice(from, to) > MAX_SAFE_DIGITS)

/** Index of the quote closing the string opened at `open`, or -1 when it is not closed. */
const closingQuote = (text: string, open: number): number => {
  let close = text.indexOf('"', open + 1)
  while (close !== -1) {
    let backslashes = 0
    for (let k = close - 1; text.charCodeAt(k) === 92; k--) backslashes++
    if (backslashes % 2 === 0) return close
    close = text.indexOf('"', close + 1)
  }
  return -1
}

/**
 * One linear pass over JSON text (no recursion): nesting depth, stopping once past `maxDepth`, and
 * the integer tokens a double cannot hold exactly. Malformed text is scanned as far as it goes;
 * `JSON.parse` reports the error.
 */
export const scanJson = (text: string, maxDepth: number = Number.POSITIVE_INFINITY): JsonScan => {
  const known = last
  if (known !== undefined && known.text === text) {
    return known.scan.depth > maxDepth ? { ...known.scan, tooDeep: true } : known.scan
  }
  const scan = scanText(text, maxDepth)
  if (!scan.tooDeep) last = { text, scan }
  return scan
}

const scanText = (text: string, maxDepth: number): JsonScan => {
  const unsafeIntegers: Array<number> = []
  const n = text.length
  let depth = 0
  let deepest = 0
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 34) {
      const close = closingQuote(text, i)
      if (close === -1) break
      i = close
    } else if (c === 123 || c === 91) {
      if (++depth > deepest) deepest = depth
      if (depth > maxDepth) return { tooDeep: true, depth: deepest, unsafeIntegers }
    } else if (c === 125 || c === 93) depth--
    else if (c === 45 || isDigit(c)) {
      const digits = c === 45 ? i + 1 : i
      let end = digits
      while (end < n && isDigit(text.charCodeAt(end))) end++
      const next = text.charCodeAt(end)
      const integer = next !== 46 && next !== 101 && next !== 69 // no fraction, no exponent
      // A leading zero (`0123…`) is not JSON: left for JSON.parse to refuse.
      if (integer && end - digits > 15 && text.charCodeAt(digits) !== 48 && beyondSafe(text, digits, end)) {
        unsafeIntegers.push(i, end)
      }
      while (end < n && !isDelimiter(text.charCodeAt(end))) end++
      i = end - 1
    }
  }
  return { tooDeep: false, depth: deepest, unsafeIntegers }
}

/** Characters that end a number token: whitespace, `,`, `]`, `}`, or a quote (malformed text). */
const isDelimiter = (c: number) =>
  c === 44 || c === 93 || c === 125 || c === 32 || c === 10 || c === 13 || c === 9 || c === 34

/** Marks an unsafe integer in rewritten text; random per process, so no client string can equal it. */
const MARK = `~bigint~${Crypto.randomBytes(12).toString("hex")}~`

const MARKED = new RegExp(`"${MARK}(-?\\d+)"`, "g")

/** The `bigint` of a marked string, else undefined. */
const unmark = (value: unknown): bigint | undefined =>
  typeof value === "string" && value.startsWith(MARK) ? BigInt(value.slice(MARK.length)) : undefined

/**
 * Replaces, in place, every marked string under the container `value` by its `bigint` (as a data
 * property: a `__proto__` key stays a key); stops once `remaining` are found.
 */
const revive = (value: object, remaining: { count: number }): void => {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && remaining.count > 0; i++) {
      const item: unknown = value[i]
      if (typeof item === "object" && item !== null) revive(item, remaining)
      else {
        const big = unmark(item)
        if (big !== undefined) {
          value[i] = big
          remaining.count--
        }
      }
    }
    return
  }
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (remaining.count === 0) return
    const item = record[key]
    if (typeof item === "object" && item !== null) revive(item, remaining)
    else {
      const big = unmark(item)
      if (big !== undefined) {
        Object.defineProperty(record, key, { value: big, writable: true, enumerable: true, configurable: true })
        remaining.count--
      }
    }
  }
}

/**
 * Puts the exact integers back into `parsed` (the `JSON.parse` of the scanned text), in place: the
 * tree's unsafe integers, in order, must be the scanned tokens (each rounding to the value found).
 * False when they cannot be matched with certainty — an object key starting with a digit (V8 lists
 * integer keys first, not in text order), a repeated key, or a number written with an exponent —
 * and the caller then takes the rewriting path.
 */
const restoreInOrder = (parsed: unknown, text: string, marks: ReadonlyArray<number>): boolean => {
  let next = 0
  const exact = (value: number): bigint | undefined => {
    if (next >= marks.length) return undefined
    const digits = text.slice(marks[next], marks[next + 1])
    next += 2
    return Number(digits) === value ? BigInt(digits) : undefined
  }
  const unsafe = (u: unknown): u is number => typeof u === "number" && !Number.isSafeInteger(u) && Number.isInteger(u)
  const visit = (value: object): boolean => {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i]
        if (typeof item === "object" && item !== null) {
          if (!visit(item)) return false
        } else if (unsafe(item)) {
          const big = exact(item)
          if (big === undefined) return false
          value[i] = big
        }
      }
      return true
    }
    const record = value as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const first = key.charCodeAt(0)
      if (first >= 48 && first <= 57) return false
      const item = record[key]
      if (typeof item === "object" && item !== null) {
        if (!visit(item)) return false
      } else if (unsafe(item)) {
        const big = exact(item)
        if (big === undefined) return false
        Object.defineProperty(record, key, { value: big, writable: true, enumerable: true, configurable: true })
      }
    }
    return true
  }
  if (typeof parsed !== "object" || parsed === null) return false
  return visit(parsed) && next === marks.length
}

/**
 * `JSON.parse`, except that integers beyond ±(2^53 − 1) become `bigint`s with every digit. Give the
 * {@link JsonScan} of `text` when already made. Throws the `SyntaxError` of `JSON.parse`.
 *
 * @example
 * ```ts
 * parseExact('{"start_time":1800000000123456789}') // { start_time: 1800000000123456789n }
 * ```
 */
export const parseExact = (text: string, scan: JsonScan = scanJson(text)): unknown => {
  const marks = scan.unsafeIntegers
  const parsed: unknown = JSON.parse(text)
  if (marks.length === 0 || restoreInOrder(parsed, text, marks)) return parsed
  const parts: Array<string> = []
  let from = 0
  for (let m = 0; m < marks.length; m += 2) {
    parts.push(text.slice(from, marks[m]), `"${MARK}`, text.slice(marks[m], marks[m + 1]), '"')
    from = marks[m + 1]!
  }
  parts.push(text.slice(from))
  // Object keys are strings, so a marked token is always a value: `revive` finds every one.
  const marked: unknown = JSON.parse(parts.join(""))
  if (typeof marked !== "object" || marked === null) return unmark(marked) ?? marked
  revive(marked, { count: marks.length / 2 })
  return marked
}

const markBigInt = (_key: string, value: unknown) => (typeof value === "bigint" ? `${MARK}${value}` : value)

/**
 * `JSON.stringify`, writing a `bigint` as a JSON integer with all its digits (where
 * `JSON.stringify` throws). Values without a `bigint` take the native path only.
 *
 * @example
 * ```ts
 * stringifyExact({ start_time: 1800000000123456789n }) // '{"start_time":1800000000123456789}'
 * ```
 */
export const stringifyExact = (value: unknown, space?: number): string => {
  try {
    return JSON.stringify(value, null, space)
  } catch (error) {
    if (!(error instanceof TypeError) || !/BigInt/i.test(error.message)) throw error
  }
  return JSON.stringify(value, markBigInt, space).replace(MARKED, "$1")
}

/** A copy of `value` with every `bigint` replaced by the nearest number (as `JSON.parse` would have read it). */
export const withoutBigInts = (value: unknown): unknown => {
  if (typeof value === "bigint") return Number(value)
  if (typeof value !== "object" || value === null) return value
  if (Array.isArray(value)) return value.map(withoutBigInts)
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    Object.defineProperty(out, key, {
      value: withoutBigInts(item),
      writable: true,
      enumerable: true,
      configurable: true
    })
  }
  return out
}

/** True when a `bigint` is found under `value`. */
export const hasBigInt = (value: unknown): boolean => {
  if (typeof value === "bigint") return true
  if (typeof value !== "object" || value === null) return false
  if (Array.isArray(value)) return value.some(hasBigInt)
  for (const key in value) if (hasBigInt((value as Record<string, unknown>)[key])) return true
  return false
}

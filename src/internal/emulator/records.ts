/**
 * Small helpers of the emulator's store for wire values: copies, plain-object checks, and own-key
 * access safe for client-chosen keys.
 */

/** A deep copy (the store never hands out its own objects). */
export const clone = <A>(a: A): A => structuredClone(a)

// Keys such as `__proto__`, `constructor` or `toString` come from clients (labels, metadata,
// variables): look them up as own properties only, and write them as data properties.

/** `record[key]` if it is the record's own property. */
export const own = <V>(record: Readonly<Record<string, V>>, key: string): V | undefined =>
  Object.hasOwn(record, key) ? record[key] : undefined

/** Sets `record[key]` as a data property, even for `__proto__`. */
export const setOwn = <V>(record: Record<string, V>, key: string, value: V): void => {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true })
}

/** A prototype-less copy of the own entries of `source` (the raw wire value, whose keys decoding may drop). */
export const dict = <V>(source: unknown): Record<string, V> => {
  const out = Object.create(null) as Record<string, V>
  if (isRecord(source)) for (const [k, v] of Object.entries(source)) setOwn(out, k, v as V)
  return out
}

/** The raw field `name` of a wire body, for maps whose keys must be kept as sent. */
export const rawField = (input: unknown, name: string): unknown => (isRecord(input) ? own(input, name) : undefined)

/** A plain JSON object (not null, not an array). */
export const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** A finite number, else 0 (token counts of a wire body). */
export const num = (u: unknown): number => (typeof u === "number" && Number.isFinite(u) ? u : 0)

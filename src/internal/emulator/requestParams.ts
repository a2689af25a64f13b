/**
 * Reading the emulator's path and query parameters the way the real server reads them.
 */

/**
 * A path parameter, URI-decoded; the raw text when it is not valid percent-encoding.
 *
 * @example
 * ```ts
 * pathParam({ identifier: "my%20prompt" }, "identifier") // "my prompt"
 * ```
 */
export const pathParam = (params: Readonly<Record<string, string | undefined>>, name: string): string => {
  const raw = params[name] ?? ""
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

/**
 * A query value as a number when it is all digits, else the text itself (for the store to refuse),
 * `undefined` when absent.
 *
 * @example
 * ```ts
 * numeric("3") // 3
 * numeric("x") // "x"
 * ```
 */
export const numeric = (value: string | null): number | string | undefined =>
  value !== null && /^\d+$/.test(value) ? Number(value) : (value ?? undefined)

/**
 * A query value as a boolean (`true`/`1`, `false`/`0`), else the text itself (for the store to
 * refuse), `undefined` when absent.
 *
 * @example
 * ```ts
 * bool("1") // true
 * ```
 */
export const bool = (value: string | null): boolean | string | undefined =>
  value === null
    ? undefined
    : value === "true" || value === "1"
      ? true
      : value === "false" || value === "0"
        ? false
        : value

/**
 * The record without its `undefined` values and empty arrays (absent query parameters).
 *
 * @example
 * ```ts
 * defined({ page: 1, label: undefined, tags: [] }) // { page: 1 }
 * ```
 */
export const defined = (record: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)))

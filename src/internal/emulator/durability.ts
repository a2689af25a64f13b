/**
 * The emulator's persistence wiring: the data file (`--data`, `Options.dataFile`) opened into the
 * store and closed with the scope, and the `persist` step every state-changing route waits on.
 */
import * as Path from "node:path"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { Persist } from "./apiRoute.js"
import { EmulatorError } from "./emulatorError.js"
import { DataFile } from "./persistence.js"
import type { Store } from "./store.js"

/** The store's durability: without a data file both steps do nothing. */
export interface Durability {
  /** Makes what was loaded and seeded at start durable; fails with `EmulatorError` (DataFile). */
  readonly settle: Effect.Effect<void, EmulatorError>
  /** Waits until every change so far is durable; on failure they are undone. */
  readonly persist: Persist
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))

/**
 * Loads `dataFile` (when given) into the store and journals the store's changes until the scope
 * closes.
 *
 * @example
 * ```ts
 * const { settle, persist } = yield* makeDurability(store, options.dataFile)
 * ```
 */
export const makeDurability = (
  store: Store,
  dataFile: string | undefined
): Effect.Effect<Durability, EmulatorError, Scope.Scope> => {
  if (dataFile === undefined) return Effect.succeed({ settle: Effect.void, persist: Effect.void })
  const file = Path.resolve(dataFile)
  return Effect.map(
    Effect.acquireRelease(
      Effect.try({
        try: () => DataFile.open(file, store),
        catch: (error) => new EmulatorError({ reason: "DataFile", message: `cannot load ${file}: ${message(error)}` })
      }),
      (opened) => Effect.promise(() => opened.close())
    ),
    (opened): Durability => ({
      settle: Effect.tryPromise({
        try: () => opened.settle(),
        catch: (error) => new EmulatorError({ reason: "DataFile", message: `cannot write ${file}: ${message(error)}` })
      }),
      persist: Effect.tryPromise(() => opened.durable())
    })
  )
}

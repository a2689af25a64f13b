/**
 * The error of an emulator that cannot start, re-exported by `PromptLayerEmulator`.
 */
import * as Schema from "effect/Schema"

/**
 * The emulator could not start: the port is taken, or the data file cannot be read.
 *
 * @example
 * ```ts
 * new EmulatorError({ reason: "Options", message: "apiKey must not be empty" })
 * ```
 */
export class EmulatorError extends Schema.TaggedError<EmulatorError>()("EmulatorError", {
  reason: Schema.Literals(["Listen", "DataFile", "Options"]),
  message: Schema.String
}) {}

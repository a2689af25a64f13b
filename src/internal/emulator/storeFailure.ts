/**
 * The store's failures: the HTTP status and JSON body the real server answers with, thrown by the
 * store's methods and mapped the same way by HTTP and in-memory callers.
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** One entry of a FastAPI-style 422 `detail` list. */
export interface ValidationDetail {
  readonly loc: ReadonlyArray<string | number>
  readonly msg: string
  readonly type: string
}

/** A failure as the server answers it: an HTTP status and a JSON body. */
export class StoreFailure extends Error {
  readonly _tag = "StoreFailure"
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>
  ) {
    super(typeof body.message === "string" ? body.message : `PromptLayer emulator: ${status}`)
  }
}

/** True for a {@link StoreFailure}. */
export const isStoreFailure = (u: unknown): u is StoreFailure => u instanceof StoreFailure

/** `{ success: false, message }` with a status. */
export const failure = (status: number, message: string): StoreFailure =>
  new StoreFailure(status, { success: false, message })

/** 422 `{ detail: [...] }`. */
export const unprocessable = (detail: ReadonlyArray<ValidationDetail>): StoreFailure =>
  new StoreFailure(422, { detail })

/** Runs a store operation, returning `{ ok: true, value }` or `{ ok: false, failure }` instead of throwing. */
export const attempt = <A>(
  f: () => A
): { readonly ok: true; readonly value: A } | { readonly ok: false; readonly failure: StoreFailure } => {
  try {
    return { ok: true, value: f() }
  } catch (error) {
    if (isStoreFailure(error)) return { ok: false, failure: error }
    throw error
  }
}

/**
 * Decodes a wire body (or query, with `root: "query"`) with `schema`, or throws the 422 the server
 * answers, one `detail` entry per problem.
 */
export const decode = <A, I>(schema: Schema.Schema<A, I>, input: unknown, root: string = "body"): A => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw unprocessable([{ loc: [root], msg: "Input should be a valid dictionary", type: "dict_type" }])
  }
  const result = Schema.decodeUnknownEither(schema, { errors: "all" })(input)
  if (Either.isRight(result)) return result.right
  const issues = ParseResult.ArrayFormatter.formatErrorSync(result.left)
  throw unprocessable(
    issues.map((issue) => ({
      loc: [root, ...issue.path.map((p) => (typeof p === "number" ? p : String(p)))],
      msg: issue.message,
      type: issue._tag === "Missing" ? "missing" : issue._tag === "Unexpected" ? "extra_forbidden" : "value_error"
    }))
  )
}

/**
 * The store's failures: the HTTP status and JSON body the real server answers with, thrown by the
 * store's methods and mapped the same way by HTTP and in-memory callers.
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"

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

/** One problem of a failed decoding: where, which kind of issue, and its message. */
export interface FlatIssue {
  readonly path: ReadonlyArray<PropertyKey>
  /** The leaf's kind: `MissingKey`, `UnexpectedKey`, `InvalidType`, `InvalidValue`, ... */
  readonly tag: SchemaIssue.Issue["_tag"]
  readonly message: string
}

const standard = SchemaIssue.makeFormatterStandardSchemaV1()

const messageOf = (issue: SchemaIssue.Issue): string => standard(issue).issues[0]?.message ?? issue._tag

/**
 * The problems of a Schema issue tree, one per leaf, with the paths and messages of the Standard
 * Schema formatter (a check's own message replaces its leaves', as there) plus each leaf's kind,
 * which that formatter drops and a FastAPI-style `detail` needs (`missing`, `extra_forbidden`).
 *
 * @example
 * ```ts
 * const result = Schema.decodeUnknownResult(schema, { errors: "all" })(input)
 * if (Result.isFailure(result)) flattenIssue(result.failure.issue) // [{ path: ["name"], tag: "MissingKey", message: "Missing key" }]
 * ```
 */
export const flattenIssue = (
  issue: SchemaIssue.Issue,
  path: ReadonlyArray<PropertyKey> = [],
  override?: string
): Array<FlatIssue> => {
  switch (issue._tag) {
    case "Filter": {
      const own =
        SchemaIssue.defaultCheckHook(issue) ?? (issue.issue._tag === "InvalidValue" ? messageOf(issue) : undefined)
      return flattenIssue(issue.issue, path, override ?? own)
    }
    case "Encoding":
      return flattenIssue(issue.issue, path, override)
    case "Pointer":
      return flattenIssue(issue.issue, [...path, ...issue.path], override)
    case "Composite":
    case "AnyOf":
      if (issue._tag === "Composite" || issue.issues.length > 0) {
        return issue.issues.flatMap((inner) => flattenIssue(inner, path, override))
      }
      return [{ path, tag: issue._tag, message: override ?? messageOf(issue) }]
    default:
      return [{ path, tag: issue._tag, message: override ?? messageOf(issue) }]
  }
}

/**
 * A `detail` entry's `loc`: the root (`body`, `query`) and the path, numbers kept.
 *
 * @example
 * ```ts
 * locOf("body", ["spans", 0, "kind"]) // ["body", "spans", 0, "kind"]
 * ```
 */
export const locOf = (root: string, path: ReadonlyArray<PropertyKey>): Array<string | number> => [
  root,
  ...path.map((p) => (typeof p === "number" ? p : String(p)))
]

/**
 * Decodes a wire body (or query, with `root: "query"`) with `schema`, or throws the 422 the server
 * answers, one `detail` entry per problem.
 */
export const decode = <S extends Schema.ConstraintDecoder<unknown>>(
  schema: S,
  input: unknown,
  root: string = "body"
): S["Type"] => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw unprocessable([{ loc: [root], msg: "Input should be a valid dictionary", type: "dict_type" }])
  }
  const result = Schema.decodeUnknownResult(schema, { errors: "all" })(input)
  if (Result.isSuccess(result)) return result.success
  throw unprocessable(
    flattenIssue(result.failure.issue).map((issue) => ({
      loc: locOf(root, issue.path),
      msg: issue.message,
      type: issue.tag === "MissingKey" ? "missing" : issue.tag === "UnexpectedKey" ? "extra_forbidden" : "value_error"
    }))
  )
}

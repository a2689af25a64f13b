/**
 * The typed errors of every PromptLayer operation.
 *
 * Every operation of {@link PromptLayerClient} fails with {@link PromptLayerError}, a union of
 * `Schema.TaggedError` classes that you can match on with `Effect.catchTag` / `Match.tag`:
 *
 * | `_tag`                 | when                                                            | retried by default |
 * | ---------------------- | --------------------------------------------------------------- | ------------------ |
 * | `AuthenticationError`  | 401 / 403: missing, wrong or revoked API key                     | no                 |
 * | `NotFoundError`        | 404: unknown template, request id, ...                           | no                 |
 * | `RateLimitError`       | 429, with the server's `Retry-After` delay when it sent one      | yes                |
 * | `InvalidRequestError`  | 400 / 409 / 422 and other 4xx, with the server's message         | no                 |
 * | `ServerError`          | 5xx (503 may carry `Retry-After`)                                | yes                |
 * | `TransportError`       | DNS, refused or dropped connection, unreadable body              | yes                |
 * | `TimeoutError`         | an attempt, the overall deadline, or a 408 from the server       | yes (not deadline) |
 * | `DecodeError`          | the response did not have the documented shape                  | no                 |
 * | `RedirectError`        | a 3xx: redirects are never followed, the key stays at the base URL | no               |
 * | `ResponseTooLargeError`| the body went past `maxResponseBytes` (default 32 MiB)          | no                 |
 * | `ValidationError`      | the input was rejected before any network call                   | no                 |
 *
 * No error ever carries the API key: not in `message`, `toString()`, `toJSON()` or a log line.
 * Server text is scrubbed of the key before it is stored.
 *
 * **Matching an error.** Each error's `_tag` is its class name, and so is its `name` (what
 * `String(error)` and stack traces start with): `error.name === error._tag`. The schema identifier
 * is namespaced (`"promptlayer-effect/NotFoundError"`) so that it never collides with another
 * library's class; match on the `_tag`, never on the identifier. In Effect 4, as in Effect 3:
 * `Effect.catchTag("NotFoundError", f)`, `Effect.catchTags({ RateLimitError: f, ServerError: g })`,
 * `Match.tag("NotFoundError", f)`, or `error instanceof NotFoundError`; outside Effect,
 * {@link isPromptLayerError} and `switch (error._tag)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PromptLayerClient } from "promptlayer-effect"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* PromptLayerClient.PromptLayerClient
 *   return yield* client.track.score({ request_id: 1, score: 100 })
 * }).pipe(
 *   Effect.catchTag("NotFoundError", () => Effect.void),
 *   Effect.catchTags({ RateLimitError: (e) => Effect.logWarning(e.message) })
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

const Endpoint = Schema.String.annotate({ description: "Method and path, e.g. `POST /log-request`" })

/**
 * 401 or 403: the API key is missing, wrong or not allowed to do this.
 *
 * @since 0.1.0
 * @category Errors
 */
export class AuthenticationError extends Schema.TaggedError<AuthenticationError>(
  "promptlayer-effect/AuthenticationError"
)("AuthenticationError", {
  endpoint: Endpoint,
  status: Schema.Number,
  serverMessage: Schema.optional(Schema.String)
}) {
  /** `"AuthenticationError"`, the `_tag` (see the module docs). */
  override get name(): string {
    return "AuthenticationError"
  }

  override get message(): string {
    return `${this.endpoint}: authentication failed (${this.status})${suffix(this.serverMessage)}. Check PROMPTLAYER_API_KEY.`
  }
}

/**
 * 404: the template, request or group does not exist.
 *
 * @since 0.1.0
 * @category Errors
 */
export class NotFoundError extends Schema.TaggedError<NotFoundError>("promptlayer-effect/NotFoundError")(
  "NotFoundError",
  {
    endpoint: Endpoint,
    status: Schema.Number,
    serverMessage: Schema.optional(Schema.String)
  }
) {
  /** `"NotFoundError"`, the `_tag` (see the module docs). */
  override get name(): string {
    return "NotFoundError"
  }

  override get message(): string {
    return `${this.endpoint}: not found (${this.status})${suffix(this.serverMessage)}`
  }
}

/**
 * 429: PromptLayer asks us to slow down. `retryAfterMs` is the server's `Retry-After`, when sent.
 *
 * @since 0.1.0
 * @category Errors
 */
export class RateLimitError extends Schema.TaggedError<RateLimitError>("promptlayer-effect/RateLimitError")(
  "RateLimitError",
  {
    endpoint: Endpoint,
    status: Schema.Number,
    retryAfterMs: Schema.optional(Schema.Number),
    serverMessage: Schema.optional(Schema.String)
  }
) {
  /** `"RateLimitError"`, the `_tag` (see the module docs). */
  override get name(): string {
    return "RateLimitError"
  }

  override get message(): string {
    const after = this.retryAfterMs === undefined ? "" : `, retry after ${this.retryAfterMs} ms`
    return `${this.endpoint}: rate limited (${this.status})${after}${suffix(this.serverMessage)}`
  }
}

/**
 * 400, 409, 422 or another 4xx: the server rejected the request. `serverMessage` is its
 * `message`, `error` or `detail` text.
 *
 * @since 0.1.0
 * @category Errors
 */
export class InvalidRequestError extends Schema.TaggedError<InvalidRequestError>(
  "promptlayer-effect/InvalidRequestError"
)("InvalidRequestError", {
  endpoint: Endpoint,
  status: Schema.Number,
  serverMessage: Schema.optional(Schema.String)
}) {
  /** `"InvalidRequestError"`, the `_tag` (see the module docs). */
  override get name(): string {
    return "InvalidRequestError"
  }

  override get message(): string {
    return `${this.endpoint}: request rejected (${this.status})${suffix(this.serverMessage)}`
  }
}

/**
 * 5xx: the server failed. A 503 may carry `retryAfterMs`.
 *
 * @since 0.1.0
 * @category Errors
 */
export class ServerError extends Schema.TaggedError<ServerError>("promptlayer-effect/ServerError")("ServerError", {
  endpoint: Endpoint,
  status: Schema.Number,
  retryAfterMs: Schema.optional(Schema.Number),
  serverMessage: Schema.optional(Schema.String)
}) {
  /** `"ServerError"`, the `_tag` (see the module docs). */
  override get name(): string {
    return "ServerError"
  }

  override get message(): string {
    return `${this.endpoint}: server error (${this.status})${suffix(this.serverMessage)}`
  }
}

/**
 * The request never got a complete answer: connection refused or reset, DNS failure, body cut.
 *
 * @since 0.1.0
 * @category Errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("promptlayer-effect/TransportError")(
  "TransportError",
  {
    endpoint: Endpoint,
    description: Schema.String
  }
) {
  /** `"TransportError"`, the `_tag` (see the module docs). */
  override get name(): string {
    return "TransportError"
  }

  override get message(): string {
    return `${this.endpoint}: transport failure: ${this.description}`
  }
}

/**
 * An attempt exceeded the per-attempt timeout (`reason: "attempt"`), all attempts together
 * exceeded the deadline (`reason: "deadline"`), or the server answered 408 (`reason: "server"`).
 *
 * @since 0.1.0
 * @category Errors
 */
export class TimeoutError extends Schema.TaggedError<TimeoutError>("promptlayer-effect/TimeoutError")("TimeoutError", {
  endpoint: Endpoint,
  reason: Schema.Literals(["attempt", "deadline", "server"]),
  timeoutMs: Schema.optional(Schema.Number)
}) {
  /** `"TimeoutError"`, the `_tag` (see the module docs). */
  override get name(): string {
    return "TimeoutError"
  }

  override get message(): string {
    const after = this.timeoutMs === undefined ? "" : ` after ${this.timeoutMs} ms`
    return `${this.endpoint}: timed out (${this.reason})${after}`
  }
}

/**
 * The server answered, but not with the documented shape. Holds the status, the parse issue and
 * a short excerpt of the body.
 *
 * @since 0.1.0
 * @category Errors
 */
export class DecodeError extends Schema.TaggedError<DecodeError>("promptlayer-effect/DecodeError")("DecodeError", {
  endpoint: Endpoint,
  status: Schema.Number,
  issue: Schema.String,
  excerpt: Schema.String
}) {
  /** `"DecodeError"`, the `_tag` (see the module docs). */
  override get name(): string {
    return "DecodeError"
  }

  override get message(): string {
    return `${this.endpoint}: unexpected response (${this.status}): ${this.issue}; body: ${this.excerpt}`
  }
}

/**
 * The server answered with a redirect (3xx). The client never follows one: the request carries the
 * API key, which must not leave the configured base URL's origin, and a 302/303 would turn the POST
 * into a GET that stores nothing. `location` is the `Location` header (scrubbed of the key), when
 * the runtime shows it (a browser's `fetch` hides it: `status` is then 0). Point
 * `PROMPTLAYER_BASE_URL` at the address the API answers at.
 *
 * @since 0.1.0
 * @category Errors
 */
export class RedirectError extends Schema.TaggedError<RedirectError>("promptlayer-effect/RedirectError")(
  "RedirectError",
  {
    endpoint: Endpoint,
    status: Schema.Number,
    location: Schema.optional(Schema.String)
  }
) {
  /** `"RedirectError"`, the `_tag` (see the module docs). */
  override get name(): string {
    return "RedirectError"
  }

  override get message(): string {
    const to = this.location === undefined ? "" : ` to ${this.location}`
    return `${this.endpoint}: redirected (${this.status})${to}; redirects are not followed, so that the API key stays with the configured base URL: point PROMPTLAYER_BASE_URL (or baseUrl) at the address the API answers at`
  }
}

/**
 * The response body went past `maxResponseBytes` (`PromptLayerConfig`, default 32 MiB), or its
 * `Content-Length` declared more: reading stopped there and the connection was closed, so a huge or
 * endless answer costs neither memory nor time. `declaredBytes` is the `Content-Length`, when sent.
 *
 * @since 0.1.0
 * @category Errors
 */
export class ResponseTooLargeError extends Schema.TaggedError<ResponseTooLargeError>(
  "promptlayer-effect/ResponseTooLargeError"
)("ResponseTooLargeError", {
  endpoint: Endpoint,
  status: Schema.Number,
  maxResponseBytes: Schema.Number,
  declaredBytes: Schema.optional(Schema.Number)
}) {
  /** `"ResponseTooLargeError"`, the `_tag` (see the module docs). */
  override get name(): string {
    return "ResponseTooLargeError"
  }

  override get message(): string {
    const declared = this.declaredBytes === undefined ? "" : ` (Content-Length: ${this.declaredBytes} bytes)`
    return `${this.endpoint}: the response (${this.status}) is larger than maxResponseBytes, ${this.maxResponseBytes} bytes${declared}; reading stopped (raise PROMPTLAYER_MAX_RESPONSE_BYTES if this answer is expected)`
  }
}

/**
 * The input was rejected before any network call (a score out of range, a non-string metadata
 * value, an empty template name, ...).
 *
 * @since 0.1.0
 * @category Errors
 */
export class ValidationError extends Schema.TaggedError<ValidationError>("promptlayer-effect/ValidationError")(
  "ValidationError",
  {
    operation: Schema.String,
    issue: Schema.String
  }
) {
  /** `"ValidationError"`, the `_tag` (see the module docs). */
  override get name(): string {
    return "ValidationError"
  }

  override get message(): string {
    return `${this.operation}: invalid input: ${this.issue}`
  }
}

/**
 * Every error an operation of the client can fail with.
 *
 * @since 0.1.0
 * @category Errors
 */
export type PromptLayerError =
  | AuthenticationError
  | NotFoundError
  | RateLimitError
  | InvalidRequestError
  | ServerError
  | TransportError
  | TimeoutError
  | DecodeError
  | RedirectError
  | ResponseTooLargeError
  | ValidationError

/**
 * The schema of {@link PromptLayerError}, e.g. to send errors across a worker boundary.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const PromptLayerError: Schema.Union<
  readonly [
    typeof AuthenticationError,
    typeof NotFoundError,
    typeof RateLimitError,
    typeof InvalidRequestError,
    typeof ServerError,
    typeof TransportError,
    typeof TimeoutError,
    typeof DecodeError,
    typeof RedirectError,
    typeof ResponseTooLargeError,
    typeof ValidationError
  ]
> = Schema.Union([
  AuthenticationError,
  NotFoundError,
  RateLimitError,
  InvalidRequestError,
  ServerError,
  TransportError,
  TimeoutError,
  DecodeError,
  RedirectError,
  ResponseTooLargeError,
  ValidationError
])

const tags: ReadonlySet<string> = new Set([
  "AuthenticationError",
  "NotFoundError",
  "RateLimitError",
  "InvalidRequestError",
  "ServerError",
  "TransportError",
  "TimeoutError",
  "DecodeError",
  "RedirectError",
  "ResponseTooLargeError",
  "ValidationError"
])

/**
 * True for any {@link PromptLayerError}.
 *
 * @since 0.1.0
 * @category Guards
 */
export const isPromptLayerError = (u: unknown): u is PromptLayerError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag) && u instanceof Error

/**
 * True for the errors that the default retry policy retries: 408, 429, 5xx, transport failures
 * and per-attempt timeouts.
 *
 * @since 0.1.0
 * @category Guards
 */
export const isRetryable = (error: PromptLayerError): boolean => {
  switch (error._tag) {
    case "RateLimitError":
    case "ServerError":
    case "TransportError":
      return true
    case "TimeoutError":
      return error.reason !== "deadline"
    default:
      return false
  }
}

const suffix = (serverMessage: string | undefined): string => (serverMessage ? `: ${serverMessage}` : "")

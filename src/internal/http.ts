import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import type * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as SchemaIssue from "effect/SchemaIssue"
import * as Stream from "effect/Stream"
import {
  AuthenticationError,
  DecodeError,
  InvalidRequestError,
  NotFoundError,
  type PromptLayerError,
  RateLimitError,
  RedirectError,
  ResponseTooLargeError,
  ServerError,
  TimeoutError,
  TransportError,
  ValidationError
} from "../PromptLayerError.js"
import { DEFAULT_MAX_RESPONSE_BYTES, declaredLength, MaxResponseBytes, ResponseTooLarge } from "./responseLimit.js"

/** Removes every occurrence of the API key from a text. */
export type Scrub = (text: string) => string

export const scrubber = (apiKey: Redacted.Redacted<string>): Scrub => {
  const key = Redacted.value(apiKey)
  return (text) => (key.length > 0 && text.includes(key) ? text.split(key).join("<redacted>") : text)
}

export const truncate = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`

/** Scrubs, then truncates: cutting first could leave a piece of the key that no longer matches. */
export const excerpt = (text: string, max: number, scrub: Scrub): string => truncate(scrub(text), max)

export interface RawResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
}

/** JSON text of a body, failing (not throwing) on cycles, BigInts and the like. */
export const stringify = (operation: string, body: unknown): Effect.Effect<string, ValidationError> =>
  Effect.try({
    try: () => JSON.stringify(body),
    catch: (error) =>
      new ValidationError({
        operation,
        issue: `the body cannot be sent as JSON: ${error instanceof Error ? error.message : String(error)}`
      })
  })

const scopedClients = new WeakMap<
  HttpClient.HttpClient,
  HttpClient.HttpClient.With<HttpClientError.HttpClientError, Scope.Scope>
>()

/**
 * The client whose requests belong to the enclosing scope: closing it aborts the request, which
 * releases a body that was not read to the end (as the Effect 3 client did). Made once per client.
 */
const scoped = (client: HttpClient.HttpClient) => {
  let result = scopedClients.get(client)
  if (result === undefined) {
    result = HttpClient.withScope(client)
    scopedClients.set(client, result)
  }
  return result
}

export const send = (
  client: HttpClient.HttpClient,
  spec: {
    readonly method: "GET" | "POST"
    readonly path: string
    readonly endpoint: string
    readonly body: unknown
    readonly query: ReadonlyArray<readonly [string, string]>
    readonly scrub: Scrub
    /** The largest body read; the node:http transport gets it through {@link MaxResponseBytes}. */
    readonly maxResponseBytes: number
  }
): Effect.Effect<RawResponse, PromptLayerError> =>
  Effect.gen(function* () {
    let request = spec.method === "GET" ? HttpClientRequest.get(spec.path) : HttpClientRequest.post(spec.path)
    if (spec.query.length > 0) request = HttpClientRequest.setUrlParams(request, spec.query)
    if (spec.body !== undefined) {
      const text = yield* stringify(spec.endpoint, spec.body)
      request = HttpClientRequest.bodyText(request, text, "application/json")
    }
    const limit = spec.maxResponseBytes
    return yield* scoped(client)
      .execute(request)
      .pipe(
        Effect.flatMap((response) =>
          Effect.map(
            readText(response, limit, spec.endpoint),
            (text): RawResponse => ({ status: response.status, headers: response.headers, text })
          )
        ),
        Effect.scoped,
        // The node:http transport reads the limit from the context; its default needs no provide.
        (effect) =>
          limit === DEFAULT_MAX_RESPONSE_BYTES ? effect : Effect.provideService(effect, MaxResponseBytes, limit),
        Effect.catchTag("HttpClientError", (error) =>
          Effect.fail(transportError(error.reason, spec.endpoint, spec.scrub))
        )
      )
  })

const transportError = (
  reason: HttpClientError.HttpClientErrorReason,
  endpoint: string,
  scrub: Scrub
): PromptLayerError =>
  reason.cause instanceof ResponseTooLarge
    ? tooLargeError(endpoint, reason.cause.status, reason.cause.limit, reason.cause.declared)
    : new TransportError({ endpoint, description: describe(reason, scrub) })

const tooLargeError = (endpoint: string, status: number, limit: number, declared: number | undefined) =>
  new ResponseTooLargeError(
    declared === undefined
      ? { endpoint, status, maxResponseBytes: limit }
      : { endpoint, status, maxResponseBytes: limit, declaredBytes: declared }
  )

const utf8 = new TextDecoder()

/**
 * The body as text, never more than `limit` bytes of it. A `Content-Length` within the limit on an
 * unencoded body bounds what `text` reads (the usual case, one read); otherwise — no length, or a
 * compressed body that `fetch` inflates — the body is streamed, and the stream dropped (which
 * closes the connection) as soon as it goes past the limit. A `Content-Length` over the limit fails
 * at the first chunk: ending the stream is what releases a `fetch` body that is not read.
 */
const readText = (
  response: HttpClientResponse.HttpClientResponse,
  limit: number,
  endpoint: string
): Effect.Effect<string, HttpClientError.HttpClientError | ResponseTooLargeError> => {
  const declared = declaredLength(response.headers["content-length"])
  const over = declared !== undefined && declared > limit
  const encoding = response.headers["content-encoding"]
  if (!over && declared !== undefined && (encoding === undefined || encoding === "identity")) return response.text
  return Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let received = 0
    return Stream.runForEachArray(response.stream, (chunk) => {
      for (const bytes of chunk) {
        received += bytes.length
        if (over || received > limit) return Effect.fail(tooLargeError(endpoint, response.status, limit, declared))
        chunks.push(bytes)
      }
      return Effect.void
    }).pipe(
      Effect.map(() => {
        const body = new Uint8Array(received)
        let offset = 0
        for (const bytes of chunks) {
          body.set(bytes, offset)
          offset += bytes.length
        }
        return utf8.decode(body)
      }),
      // A response without a body (204, HEAD) has nothing to stream.
      Effect.catchIf(
        (error): error is HttpClientError.HttpClientError =>
          error._tag === "HttpClientError" && error.reason._tag === "EmptyBodyError",
        () => (over ? Effect.fail(tooLargeError(endpoint, response.status, limit, declared)) : Effect.succeed(""))
      )
    )
  })
}

/** `Transport: <description>: <cause> (<code>): ...`, as the reason was worded before Effect 4. */
const describe = (reason: HttpClientError.HttpClientErrorReason, scrub: Scrub) => {
  const parts: Array<string> = [reason._tag.endsWith("Error") ? reason._tag.slice(0, -5) : reason._tag]
  if (reason.description) parts.push(reason.description)
  let cause = reason.cause
  for (let depth = 0; cause !== undefined && depth < 3; depth++) {
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code
      parts.push(typeof code === "string" ? `${cause.message} (${code})` : cause.message)
      cause = (cause as { cause?: unknown }).cause
    } else {
      parts.push(String(cause))
      break
    }
  }
  return excerpt(parts.join(": "), 500, scrub)
}

/** The delay of a `Retry-After` header (seconds or an HTTP date), in milliseconds. */
export const retryAfterMs = (headers: Readonly<Record<string, string>>, now = Date.now()): number | undefined => {
  const value = headers["retry-after"]
  if (value === undefined || value.trim() === "") return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** The server's explanation in an error body: `message`, `error` or `detail`. */
export const serverMessage = (text: string, scrub: Scrub): string | undefined => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return text.trim() === "" ? undefined : excerpt(text.trim(), 300, scrub)
  }
  if (typeof parsed !== "object" || parsed === null) return excerpt(String(parsed), 300, scrub)
  const body = parsed as Record<string, unknown>
  const pick = body.message ?? body.error ?? body.detail
  if (pick === undefined || pick === null) return undefined
  if (typeof pick === "string") return excerpt(pick, 500, scrub)
  if (Array.isArray(pick)) {
    const lines = pick.map((item) =>
      typeof item === "object" && item !== null && "msg" in item
        ? `${Array.isArray((item as { loc?: unknown }).loc) ? `${(item as { loc: Array<unknown> }).loc.join(".")}: ` : ""}${String((item as { msg: unknown }).msg)}`
        : JSON.stringify(item)
    )
    return excerpt(lines.join("; "), 500, scrub)
  }
  return excerpt(JSON.stringify(pick), 500, scrub)
}

/** Maps a non-2xx status to its typed error; `now` (epoch ms) resolves an HTTP-date `Retry-After`. */
export const errorForStatus = (
  response: RawResponse,
  endpoint: string,
  scrub: Scrub,
  now: number = Date.now()
): PromptLayerError => {
  const status = response.status
  // 0: a browser's fetch hides a redirect (`redirect: "manual"`) behind an opaque response.
  if ((status >= 300 && status < 400) || status === 0) {
    const location = response.headers.location
    return new RedirectError(
      location === undefined ? { endpoint, status } : { endpoint, status, location: excerpt(location, 500, scrub) }
    )
  }
  const message = serverMessage(response.text, scrub)
  const fields = message === undefined ? { endpoint, status } : { endpoint, status, serverMessage: message }
  if (status === 401 || status === 403) return new AuthenticationError(fields)
  if (status === 404) return new NotFoundError(fields)
  if (status === 408) return new TimeoutError({ endpoint, reason: "server" })
  const after = retryAfterMs(response.headers, now)
  if (status === 429) return new RateLimitError(after === undefined ? fields : { ...fields, retryAfterMs: after })
  if (status >= 500) return new ServerError(after === undefined ? fields : { ...fields, retryAfterMs: after })
  if (status >= 400) return new InvalidRequestError(fields)
  return new DecodeError({
    endpoint,
    status,
    issue: "unexpected status",
    excerpt: excerpt(response.text, 200, scrub)
  })
}

/** Decodes a response: a typed error for a non-2xx status, a DecodeError for an unexpected body. */
export const decode = <A>(
  response: RawResponse,
  endpoint: string,
  schema: Schema.ConstraintDecoder<A>,
  scrub: Scrub
): Effect.Effect<A, PromptLayerError> => {
  if (response.status < 200 || response.status >= 300) {
    // The Effect clock, not Date.now(): an HTTP-date Retry-After must agree with the clock the retry sleeps on.
    return Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fail(errorForStatus(response, endpoint, scrub, now)))
  }
  let json: unknown
  try {
    json = JSON.parse(response.text)
  } catch {
    return Effect.fail(
      new DecodeError({
        endpoint,
        status: response.status,
        issue: "the body is not JSON",
        excerpt: excerpt(response.text, 200, scrub)
      })
    )
  }
  if (typeof json === "object" && json !== null && (json as { success?: unknown }).success === false) {
    const message = serverMessage(response.text, scrub)
    return Effect.fail(
      new InvalidRequestError(
        message === undefined
          ? { endpoint, status: response.status }
          : { endpoint, status: response.status, serverMessage: message }
      )
    )
  }
  // Decoded synchronously: no Effect pipeline per response (the schemas are synchronous).
  const decoded = Schema.decodeUnknownResult(schema)(json)
  if (Result.isSuccess(decoded)) return Effect.succeed(decoded.success)
  return Effect.fail(
    new DecodeError({
      endpoint,
      status: response.status,
      issue: excerpt(decoded.failure.message, 500, scrub),
      excerpt: excerpt(response.text, 200, scrub)
    })
  )
}

const standardIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/** One issue of the Standard Schema formatter: its message and where it is. */
interface FlatIssue {
  readonly path: ReadonlyArray<string>
  readonly message: string
}

const flatIssues = (issue: SchemaIssue.Issue): ReadonlyArray<FlatIssue> =>
  standardIssues(issue).issues.map((item) => ({
    path: (item.path ?? []).map((segment) => String(typeof segment === "object" ? segment.key : segment)),
    message: item.message
  }))

/**
 * One line per issue, `path: message`. An optional field reports its failure twice (the value's
 * issue, and "Expected undefined, actual ..." for the other member of `T | undefined`): the second
 * says nothing to the user and is dropped, as are exact repeats.
 */
const readableIssues = (issues: ReadonlyArray<FlatIssue>): string => {
  const line = (issue: FlatIssue) =>
    issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message
  const samePath = (a: FlatIssue, b: FlatIssue) =>
    a.path.length === b.path.length && a.path.every((key, i) => key === b.path[i])
  const kept = issues.filter(
    (issue) =>
      !(
        issue.message.startsWith("Expected undefined,") &&
        issues.some((other) => other !== issue && samePath(other, issue))
      )
  )
  return [...new Set(kept.map(line))].join("; ")
}

/** Validates input before any network call; `scrub` removes the key from the issue text. */
export const validate = <A>(
  operation: string,
  schema: Schema.ConstraintDecoder<A>,
  input: unknown,
  scrub: Scrub = (text) => text
): Effect.Effect<A, ValidationError> => {
  // Valid input (the usual case) is decoded synchronously, stopping at the first issue; only
  // input that fails is decoded again with `errors: "all"`, to report every issue.
  const fast = Schema.decodeUnknownResult(schema)(input)
  if (Result.isSuccess(fast)) return Effect.succeed(fast.success)
  const all = Schema.decodeUnknownResult(schema, { errors: "all" })(input)
  if (Result.isSuccess(all)) return Effect.succeed(all.success)
  return Effect.fail(
    new ValidationError({
      operation,
      issue: excerpt(readableIssues(flatIssues(all.failure.issue)), 1000, scrub)
    })
  )
}

/** URL query pairs of an object: arrays repeat their key, undefined is left out. */
export const queryOf = (params: Readonly<Record<string, unknown>>): Array<[string, string]> => {
  const pairs: Array<[string, string]> = []
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue
    if (Array.isArray(value)) for (const item of value) pairs.push([key, String(item)])
    else pairs.push([key, String(value)])
  }
  return pairs
}

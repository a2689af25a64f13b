/**
 * Acceptance 6 of issue 2: the API key never appears in any error the client produces — not in
 * `message`, `toString()`, `JSON.stringify`, `Inspectable` / `util.inspect` output, `Cause.pretty`,
 * nor in log lines written by Effect's loggers — for every kind of error, including a server that
 * echoes the key back, transport errors, decode errors and validation errors. Also: messages are
 * readable (endpoint, status, the server's explanation).
 */
import * as util from "node:util"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Formatter from "effect/Formatter"
import * as Inspectable from "effect/Inspectable"
import * as Logger from "effect/Logger"
import * as Schema from "effect/Schema"
import { TestClock } from "effect/testing"
import { type PromptLayerClient, PromptLayerError, type PromptLayerRetryPolicy } from "promptlayer-effect"
import { clientOver, mockHttp, type Reply } from "./support/mockHttpClient.js"

const API_KEY = "pl_sk_4f1c9a7e2b6d8f03a5c7e9b1d3f5a7c9e1b3d5f7"
/** Every 12-character piece of the key: a key cut in half by a truncation is still a leak. */
const FRAGMENTS = Array.from({ length: API_KEY.length - 11 }, (_, i) => API_KEY.slice(i, i + 12))

/**
 * The key over and over, shifted by `offset` characters: wherever a message is cut, with offsets 0
 * and 23 (half the key) at least one of the two texts has 12 or more characters of a key at the cut.
 */
const keys = (offset: number) => `${"r".repeat(offset)}${Array.from({ length: 120 }, () => API_KEY).join(" ")}`

const echo = { success: false, message: `invalid api key ${API_KEY}`, api_key: API_KEY }

type Operation = (client: PromptLayerClient.Service) => Effect.Effect<unknown, PromptLayerError.PromptLayerError>

const score: Operation = (client) => client.track.score({ request_id: 1, score: 50 })

interface Scenario {
  readonly name: string
  readonly tag: PromptLayerError.PromptLayerError["_tag"]
  readonly reply?: Reply
  readonly operation?: Operation
  readonly retry?: PromptLayerRetryPolicy.Options
  /** Fragments of the message that a reader needs. */
  readonly readable: ReadonlyArray<string>
}

const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "401 echoing the key",
    tag: "AuthenticationError",
    reply: { status: 401, json: echo },
    readable: ["POST /library-track-score", "401", "invalid api key <redacted>", "PROMPTLAYER_API_KEY"]
  },
  {
    name: "403 echoing the key as `error`",
    tag: "AuthenticationError",
    reply: { status: 403, json: { error: `key ${API_KEY} may not do this` } },
    readable: ["403", "may not do this"]
  },
  {
    name: "404 for a template whose name is the key itself",
    tag: "NotFoundError",
    reply: { status: 404, json: echo },
    operation: (client) => client.templates.get(API_KEY),
    readable: ["POST /prompt-templates/<redacted>", "not found"]
  },
  {
    name: "404 echoing the key",
    tag: "NotFoundError",
    reply: { status: 404, json: echo },
    readable: ["not found", "404"]
  },
  {
    name: "429 echoing the key",
    tag: "RateLimitError",
    reply: { status: 429, json: echo, headers: { "retry-after": "1" } },
    readable: ["rate limited", "429"]
  },
  {
    name: "400 echoing the key",
    tag: "InvalidRequestError",
    reply: { status: 400, json: echo },
    readable: ["request rejected", "400", "invalid api key"]
  },
  {
    name: "422 FastAPI detail echoing the key",
    tag: "InvalidRequestError",
    reply: {
      status: 422,
      json: { detail: [{ loc: ["body", "api_key"], msg: `bad key ${API_KEY}`, type: "value_error" }] }
    },
    readable: ["422", "body.api_key: bad key"]
  },
  {
    name: "200 with success:false echoing the key",
    tag: "InvalidRequestError",
    reply: { status: 200, json: echo },
    readable: ["request rejected", "200"]
  },
  {
    name: "500 echoing the key",
    tag: "ServerError",
    reply: { status: 500, json: echo },
    readable: ["server error", "500"]
  },
  {
    name: "502 with an HTML body echoing the key",
    tag: "ServerError",
    reply: { status: 502, text: `<html>bad gateway for ${API_KEY}</html>`, headers: { "content-type": "text/html" } },
    readable: ["server error", "502", "bad gateway"]
  },
  {
    name: "a transport failure whose description holds the key",
    tag: "TransportError",
    reply: { transportError: `proxy refused https://api.promptlayer.com/?k=${API_KEY}: ECONNREFUSED` },
    readable: ["transport failure", "ECONNREFUSED"]
  },
  {
    name: "a per-attempt timeout",
    tag: "TimeoutError",
    reply: { hang: true },
    retry: { attemptTimeout: "1 second" },
    readable: ["timed out (attempt)", "1000 ms"]
  },
  {
    name: "the overall deadline",
    tag: "TimeoutError",
    reply: { hang: true },
    retry: { attemptTimeout: "10 seconds", deadline: "2 seconds" },
    readable: ["timed out (deadline)", "2000 ms"]
  },
  {
    name: "a 408 from the server",
    tag: "TimeoutError",
    reply: { status: 408, json: echo },
    readable: ["timed out (server)"]
  },
  {
    name: "a 2xx body of the wrong shape echoing the key",
    tag: "DecodeError",
    reply: { status: 200, json: { success: "yes", api_key: API_KEY } },
    readable: ["unexpected response (200)", "success"]
  },
  {
    name: "a 2xx non-JSON body echoing the key",
    tag: "DecodeError",
    reply: { status: 200, text: `ok ${API_KEY}`, headers: { "content-type": "text/plain" } },
    readable: ["not JSON", "200"]
  },
  {
    name: "a 302 whose Location holds the key (never followed)",
    tag: "RedirectError",
    reply: {
      status: 302,
      text: `moved to ${API_KEY}`,
      headers: { location: `https://elsewhere.example/log?api_key=${API_KEY}` }
    },
    readable: ["redirected (302)", "https://elsewhere.example/log?api_key=<redacted>", "not followed"]
  },
  {
    name: "a Content-Length beyond maxResponseBytes (default 32 MiB)",
    tag: "ResponseTooLargeError",
    reply: { status: 200, text: `{"echo":"${API_KEY}"}`, headers: { "content-length": "68719476736" } },
    readable: ["larger than maxResponseBytes", "33554432 bytes", "68719476736", "PROMPTLAYER_MAX_RESPONSE_BYTES"]
  },
  {
    name: "a validation error on input holding the key",
    tag: "ValidationError",
    operation: (client) => client.track.metadata({ request_id: 1, metadata: { key: API_KEY, n: 5 as any } }),
    readable: ["track.metadata", "invalid input", "metadata"]
  },
  {
    name: "a validation error on a template name that is the key with spaces",
    tag: "ValidationError",
    operation: (client) => client.templates.get(`  ${API_KEY}  `),
    readable: ["templates.get", "surrounding spaces"]
  },
  ...[0, 23].flatMap(
    (offset): ReadonlyArray<Scenario> => [
      {
        name: `a long JSON message, the key across the cut (offset ${offset})`,
        tag: "ServerError",
        reply: { status: 500, json: { message: keys(offset) } },
        readable: ["server error", "500", "more characters"]
      },
      {
        name: `a long non-JSON body, the key across the cut (offset ${offset})`,
        tag: "ServerError",
        reply: { status: 503, text: keys(offset), headers: { "content-type": "text/plain" } },
        readable: ["server error", "503", "more characters"]
      },
      {
        name: `a long 2xx body of the wrong shape, the key across the excerpt and issue cuts (offset ${offset})`,
        tag: "DecodeError",
        operation: (client) => client.group.create(),
        reply: { status: 200, json: { success: keys(offset), id: 1 } },
        readable: ["POST /create-group", "unexpected response (200)", "more characters"]
      },
      {
        name: `a long invalid input, the key across the issue cut (offset ${offset})`,
        tag: "ValidationError",
        // Effect 4's issues do not echo the value (v3 wrote `Expected string, actual {"k":"<key>..."}`): the
        // key is also in a metadata_filters key, so that it is in the issue's path, past the cut.
        operation: (client) =>
          client.templates.get("t", {
            provider: { k: keys(offset) } as any,
            metadata_filters: { [keys(offset)]: 5 } as any
          }),
        readable: ["templates.get", "invalid input", "provider", "more characters"]
      }
    ]
  )
]

/** Every rendering of an error and of its cause that could end up in a terminal, a log or a file. */
const renderings = (error: PromptLayerError.PromptLayerError, cause: Cause.Cause<unknown>) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const capture = (format: (options: Logger.Options<unknown>) => unknown) =>
      Logger.make((options) => {
        const out = format(options)
        lines.push(typeof out === "string" ? out : JSON.stringify(out))
      })
    const loggers = [
      capture((o) => Logger.formatLogFmt.log(o)),
      capture((o) => Logger.formatJson.log(o)),
      capture((o) => Logger.formatSimple.log(o)),
      capture((o) => Logger.formatStructured.log(o))
    ]
    for (const logger of loggers) {
      yield* Effect.gen(function* () {
        yield* Effect.logError(error)
        yield* Effect.logError("PromptLayer call failed", error)
        yield* Effect.logError(cause)
        yield* Effect.logWarning(error.message)
        yield* Effect.fail(error).pipe(Effect.tapCause(Effect.logError), Effect.ignore)
      }).pipe(Effect.provide(Logger.layer([logger])))
    }
    return {
      message: error.message,
      String: String(error),
      toString: error.toString(),
      "JSON.stringify": JSON.stringify(error),
      toJSON: JSON.stringify(error.toJSON()),
      "Formatter.format": Formatter.format(error),
      "Formatter.formatJson": Formatter.formatJson(error, { space: 2 }),
      "Inspectable.toStringUnknown": Inspectable.toStringUnknown(error),
      "util.inspect": util.inspect(error, { depth: 10 }),
      stack: String(error.stack),
      "Cause.pretty": Cause.pretty(cause),
      // v3's Cause.pretty(cause, { renderErrorCause: true }): the errors of the cause with their causes in the stack
      "Cause.prettyErrors(includeCauseInStack)": Cause.prettyErrors(cause, { includeCauseInStack: true })
        .map((e) => `${e.name}: ${e.message}\n${String(e.stack)}`)
        .join("\n"),
      "Schema encode": JSON.stringify(Schema.encodeSync(PromptLayerError.PromptLayerError)(error)),
      "log lines": lines.join("\n")
    }
  })

const makeClient = (reply: Reply | undefined, retry: Scenario["retry"]) => {
  const mock = mockHttp(() => reply ?? { status: 500, text: "unexpected request" })
  return { mock, client: clientOver(mock, API_KEY, retry) }
}

describe("PromptLayerError: the API key never leaks", () => {
  for (const scenario of scenarios) {
    it.effect(`${scenario.tag}: ${scenario.name}`, () =>
      Effect.gen(function* () {
        const { mock, client: getClient } = makeClient(scenario.reply, scenario.retry)
        const client = yield* getClient
        const fiber = yield* Effect.forkChild(Effect.exit((scenario.operation ?? score)(client)))
        yield* TestClock.adjust("1 minute")
        const exit = yield* Fiber.join(fiber)
        if (!Exit.isFailure(exit)) return assert.fail("expected the call to fail")
        const failure = Cause.findErrorOption(exit.cause)
        if (failure._tag === "None") return assert.fail(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
        const error = failure.value
        assert.strictEqual(error._tag, scenario.tag)
        assert.isTrue(PromptLayerError.isPromptLayerError(error))
        if (scenario.tag === "ValidationError") assert.strictEqual(mock.requests.length, 0)

        const rendered = yield* renderings(error, exit.cause)
        for (const [where, text] of Object.entries(rendered)) {
          for (const fragment of FRAGMENTS) {
            assert.notInclude(text, fragment, `${where} contains (part of) the API key`)
          }
        }
        for (const part of scenario.readable) assert.include(error.message, part)
        assert.isBelow(error.message.length, 2000, "messages stay short")
        assert.include(rendered["log lines"], scenario.tag === "ValidationError" ? "invalid input" : "POST /")
      })
    )
  }

  it("every error kind of the union is covered above", () => {
    const covered = new Set(scenarios.map((scenario) => scenario.tag))
    const all = PromptLayerError.PromptLayerError.members.map((member) => member.fields._tag.schema.literal)
    assert.deepStrictEqual([...covered].sort(), [...all].sort())
  })
})

describe("PromptLayerError: readable messages", () => {
  it("each error's message says what happened and where", () => {
    const cases: ReadonlyArray<[PromptLayerError.PromptLayerError, string]> = [
      [
        new PromptLayerError.AuthenticationError({ endpoint: "POST /log-request", status: 401 }),
        "POST /log-request: authentication failed (401). Check PROMPTLAYER_API_KEY."
      ],
      [
        new PromptLayerError.NotFoundError({
          endpoint: "POST /prompt-templates/x",
          status: 404,
          serverMessage: "Prompt not found"
        }),
        "POST /prompt-templates/x: not found (404): Prompt not found"
      ],
      [
        new PromptLayerError.RateLimitError({ endpoint: "POST /track-request", status: 429, retryAfterMs: 2000 }),
        "POST /track-request: rate limited (429), retry after 2000 ms"
      ],
      [
        new PromptLayerError.ServerError({ endpoint: "GET /prompt-templates", status: 503 }),
        "GET /prompt-templates: server error (503)"
      ],
      [
        new PromptLayerError.TransportError({ endpoint: "POST /create-group", description: "ECONNREFUSED" }),
        "POST /create-group: transport failure: ECONNREFUSED"
      ],
      [
        new PromptLayerError.TimeoutError({ endpoint: "POST /create-group", reason: "deadline", timeoutMs: 120000 }),
        "POST /create-group: timed out (deadline) after 120000 ms"
      ],
      [
        new PromptLayerError.DecodeError({
          endpoint: "POST /log-request",
          status: 201,
          issue: "id is missing",
          excerpt: "{}"
        }),
        "POST /log-request: unexpected response (201): id is missing; body: {}"
      ],
      [
        new PromptLayerError.RedirectError({
          endpoint: "POST /log-request",
          status: 301,
          location: "https://x.example/"
        }),
        "POST /log-request: redirected (301) to https://x.example/; redirects are not followed, so that the API key stays with the configured base URL: point PROMPTLAYER_BASE_URL (or baseUrl) at the address the API answers at"
      ],
      [
        new PromptLayerError.ResponseTooLargeError({
          endpoint: "GET /prompt-templates",
          status: 200,
          maxResponseBytes: 1024
        }),
        "GET /prompt-templates: the response (200) is larger than maxResponseBytes, 1024 bytes; reading stopped (raise PROMPTLAYER_MAX_RESPONSE_BYTES if this answer is expected)"
      ],
      [
        new PromptLayerError.ValidationError({ operation: "track.score", issue: "score: expected 0–100" }),
        "track.score: invalid input: score: expected 0–100"
      ]
    ]
    for (const [error, message] of cases) {
      assert.strictEqual(error.message, message)
      assert.include(String(error), message)
      // the name is the tag (Effect 4 would otherwise use the namespaced schema identifier)
      assert.strictEqual(error.name, error._tag)
      assert.isTrue(String(error).startsWith(`${error._tag}: `))
    }
  })

  it("the PromptLayerError schema round-trips every kind (e.g. across a worker boundary)", () => {
    const endpoint = "POST /x"
    const errors: ReadonlyArray<PromptLayerError.PromptLayerError> = [
      new PromptLayerError.AuthenticationError({ endpoint, status: 401, serverMessage: "bad key" }),
      new PromptLayerError.NotFoundError({ endpoint, status: 404 }),
      new PromptLayerError.RateLimitError({ endpoint, status: 429, retryAfterMs: 1000 }),
      new PromptLayerError.InvalidRequestError({ endpoint, status: 422, serverMessage: "score: too big" }),
      new PromptLayerError.ServerError({ endpoint, status: 503, retryAfterMs: 2000 }),
      new PromptLayerError.TransportError({ endpoint, description: "ECONNRESET" }),
      new PromptLayerError.TimeoutError({ endpoint, reason: "attempt", timeoutMs: 30000 }),
      new PromptLayerError.DecodeError({ endpoint, status: 200, issue: "id is missing", excerpt: "{}" }),
      new PromptLayerError.RedirectError({ endpoint, status: 308, location: "https://x.example/" }),
      new PromptLayerError.RedirectError({ endpoint, status: 0 }),
      new PromptLayerError.ResponseTooLargeError({ endpoint, status: 200, maxResponseBytes: 10, declaredBytes: 11 }),
      new PromptLayerError.ValidationError({ operation: "track.score", issue: "score: out of range" })
    ]
    for (const error of errors) {
      const wire = JSON.parse(JSON.stringify(Schema.encodeSync(PromptLayerError.PromptLayerError)(error)))
      const back = Schema.decodeUnknownSync(PromptLayerError.PromptLayerError)(wire)
      assert.strictEqual(back._tag, error._tag)
      assert.strictEqual(back.message, error.message)
      assert.isTrue(PromptLayerError.isPromptLayerError(back))
    }
  })

  it("isRetryable: 429, 5xx, transport and attempt/server timeouts only (not redirects nor oversized answers)", () => {
    const endpoint = "POST /x"
    assert.isTrue(PromptLayerError.isRetryable(new PromptLayerError.RateLimitError({ endpoint, status: 429 })))
    assert.isTrue(PromptLayerError.isRetryable(new PromptLayerError.ServerError({ endpoint, status: 500 })))
    assert.isTrue(PromptLayerError.isRetryable(new PromptLayerError.TransportError({ endpoint, description: "x" })))
    assert.isTrue(PromptLayerError.isRetryable(new PromptLayerError.TimeoutError({ endpoint, reason: "attempt" })))
    assert.isTrue(PromptLayerError.isRetryable(new PromptLayerError.TimeoutError({ endpoint, reason: "server" })))
    assert.isFalse(PromptLayerError.isRetryable(new PromptLayerError.TimeoutError({ endpoint, reason: "deadline" })))
    assert.isFalse(PromptLayerError.isRetryable(new PromptLayerError.AuthenticationError({ endpoint, status: 401 })))
    assert.isFalse(PromptLayerError.isRetryable(new PromptLayerError.NotFoundError({ endpoint, status: 404 })))
    assert.isFalse(PromptLayerError.isRetryable(new PromptLayerError.InvalidRequestError({ endpoint, status: 422 })))
    assert.isFalse(
      PromptLayerError.isRetryable(new PromptLayerError.DecodeError({ endpoint, status: 200, issue: "", excerpt: "" }))
    )
    assert.isFalse(PromptLayerError.isRetryable(new PromptLayerError.RedirectError({ endpoint, status: 302 })))
    assert.isFalse(
      PromptLayerError.isRetryable(
        new PromptLayerError.ResponseTooLargeError({ endpoint, status: 200, maxResponseBytes: 1 })
      )
    )
    assert.isFalse(PromptLayerError.isRetryable(new PromptLayerError.ValidationError({ operation: "x", issue: "" })))
  })

  it("isPromptLayerError recognises the union and nothing else", () => {
    assert.isTrue(PromptLayerError.isPromptLayerError(new PromptLayerError.ServerError({ endpoint: "x", status: 500 })))
    assert.isFalse(PromptLayerError.isPromptLayerError({ _tag: "ServerError" }))
    assert.isFalse(PromptLayerError.isPromptLayerError(new Error("ServerError")))
  })
})

/**
 * Acceptance 3 of issue 2: the bodies the client sends validate against the request schemas of
 * PromptLayer's published OpenAPI document (test/fixtures/promptlayer-openapi.json), for every
 * path the document describes. Bodies are captured from the client itself (through a mock
 * `HttpClient`), for hand-written inputs and for the inputs of the recorded SDK exchanges.
 *
 * The document is OpenAPI 3.1, so its schemas are JSON Schema 2020-12: validated with `Ajv2020`
 * (+ ajv-formats for `date-time`), `$ref`s resolved into `components` of the same document
 * (test/support/openApiSchemas.ts).
 *
 * Where the real server (and so the client) differs from the document, the difference is named in
 * `DIFFERENCES` below and checked by a test of its own.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type { PromptLayerClient } from "promptlayer-effect"
import { clientOver, mockHttp, type SeenRequest } from "./support/mockHttpClient.js"
import { ajv, normalise, openApiDoc as doc, requestValidator } from "./support/openApiSchemas.js"
import { loadReferenceJson } from "./support/reference.js"

const API_KEY = "pl_test_openapi_0123456789"

// =============================================================================
// The document
// =============================================================================

/**
 * Differences between the document and the real server (promptlayer-api.md §1.2, §1.5, §12),
 * which the client follows because the real server is what must accept us.
 */
const DIFFERENCES = {
  legacyTrackPaths:
    "The SDKs (and this client) call POST /library-track-score, /library-track-metadata, /library-track-prompt and " +
    "/track-group with `api_key` in the body; the document only describes /rest/track-* with the X-API-KEY " +
    "header. The bodies are the same, so ours are validated against the /rest/track-* schemas.",
  undocumentedPaths:
    "POST /track-request (removed from the document in May 2025) and POST /create-group (never documented) " +
    "have no schema to validate against.",
  publishStatus:
    "POST /rest/prompt-templates: the document says 200, the real server answers 201; the client takes both.",
  timestamps:
    "/log-request times are `date-time` strings in the document; the Python SDK sends epoch seconds, which the " +
    "server accepts. The client always sends ISO-8601 strings, so its bodies validate.",
  nullable:
    "The document is OpenAPI 3.1 but still uses the 3.0 keyword `nullable: true` (e.g. TrackPromptRequest.label); " +
    "it is normalised to a JSON Schema union with null before validating.",
  providerEnum:
    "GetPromptTemplate.provider is documented as only `openai` | `anthropic`; the SDKs send other providers and " +
    "the server accepts them, so the client does not restrict it.",
  bodyApiKey:
    "Where the SDKs send `api_key` in the body, the document does not list it; its schemas allow additional " +
    "properties, so the extra field validates."
} as const

const check = (method: string, path: string, body: unknown) => {
  const validate = requestValidator(method, path)
  const valid = validate(body)
  if (!valid) {
    assert.fail(
      `the body sent does not validate against ${method} ${path}: ${ajv.errorsText(validate.errors, { separator: "\n" })}\n` +
        JSON.stringify(body, null, 1).slice(0, 3000)
    )
  }
}

// =============================================================================
// Capturing what the client sends
// =============================================================================

const capture = <A>(
  operation: (client: PromptLayerClient.Service) => Effect.Effect<A, unknown>,
  reply: { readonly status: number; readonly json: unknown } = { status: 200, json: { success: true } }
): Effect.Effect<SeenRequest> =>
  Effect.gen(function* () {
    const mock = mockHttp(() => reply)
    const client = yield* clientOver(mock, API_KEY)
    yield* Effect.ignore(operation(client))
    assert.strictEqual(mock.requests.length, 1, "the operation sent one request")
    return mock.requests[0]!
  })

const chat = (text: string) => ({
  type: "chat" as const,
  messages: [
    { role: "system", content: [{ type: "text", text: "You are terse." }] },
    { role: "user", content: [{ type: "text", text }] }
  ]
})

const answer = {
  type: "chat" as const,
  messages: [
    {
      role: "assistant",
      content: [],
      tool_calls: [{ id: "call_1", type: "function" as const, function: { name: "lookup", arguments: '{"q":"x"}' } }]
    },
    { role: "tool", tool_call_id: "call_1", content: [{ type: "text", text: "42" }] },
    { role: "assistant", content: [{ type: "text", text: "It is 42." }] }
  ]
}

// =============================================================================
// Tests
// =============================================================================

describe("OpenAPI document", () => {
  it("is OpenAPI 3.1 (JSON Schema 2020-12), so Ajv2020 is the right validator", () => {
    assert.match(doc.openapi, /^3\.1\./)
  })

  it(`documented differences: ${DIFFERENCES.undocumentedPaths}`, () => {
    for (const path of ["/track-request", "/rest/track-request", "/create-group"]) {
      assert.isUndefined(doc.paths[path], `${path} is now documented: validate the client's body against it`)
    }
  })

  it(`documented differences: ${DIFFERENCES.legacyTrackPaths}`, () => {
    for (const legacy of ["/library-track-score", "/library-track-metadata", "/library-track-prompt", "/track-group"]) {
      assert.isUndefined(doc.paths[legacy])
    }
    for (const documented of ["/rest/track-score", "/rest/track-metadata", "/rest/track-prompt", "/rest/track-group"]) {
      assert.isDefined(doc.paths[documented]?.post?.requestBody)
    }
  })

  it.effect(`documented differences: ${DIFFERENCES.publishStatus}`, () =>
    Effect.gen(function* () {
      const responses = doc.paths["/rest/prompt-templates"]!.post.responses as Record<string, unknown>
      assert.isDefined(responses["200"])
      assert.isUndefined(responses["201"])
      const published = { id: 9, prompt_name: "greeting", prompt_template: chat("Hi") }
      for (const status of [200, 201]) {
        const sent = yield* capture(
          (client) =>
            client.templates
              .publish({ prompt_name: "greeting", prompt_template: chat("Hi") })
              .pipe(Effect.tap((response) => Effect.sync(() => assert.strictEqual(response.id, 9)))),
          { status, json: published }
        )
        assert.strictEqual(sent.url.pathname, "/rest/prompt-templates")
      }
    })
  )

  it(`documented differences: ${DIFFERENCES.timestamps}`, () => {
    const validate = requestValidator("POST", "/log-request")
    const base = {
      provider: "openai",
      model: "gpt-4o",
      input: chat("Hi"),
      output: chat("Hello"),
      request_start_time: 1744626112.76,
      request_end_time: 1744626113.01
    }
    assert.isFalse(validate(base), "epoch seconds (as the Python SDK sends) are not a documented date-time")
    assert.isTrue(
      validate({
        ...base,
        request_start_time: "2025-04-14T10:21:52.760Z",
        request_end_time: "2025-04-14T10:21:53.010Z"
      })
    )
    assert.isFalse(
      validate({ ...base, request_start_time: "yesterday", request_end_time: "2025-04-14T10:21:53.010Z" }),
      "ajv-formats checks date-time"
    )
  })

  it(`documented differences: ${DIFFERENCES.nullable}`, () => {
    const raw = doc.components.schemas.TrackPromptRequest as { properties: { label: Record<string, unknown> } }
    assert.strictEqual(raw.properties.label.nullable, true)
    const validate = requestValidator("POST", "/rest/track-prompt")
    assert.isTrue(validate({ request_id: 1, prompt_name: "p", prompt_input_variables: {}, label: null }))
  })

  it(`documented differences: ${DIFFERENCES.providerEnum}`, () => {
    const validate = requestValidator("POST", "/prompt-templates/{identifier}")
    assert.isTrue(validate({ provider: "anthropic" }))
    assert.isFalse(validate({ provider: "google" }))
  })

  it(`documented differences: ${DIFFERENCES.bodyApiKey}`, () => {
    assert.isTrue(requestValidator("POST", "/rest/track-score")({ request_id: 1, score: 5, api_key: "k" }))
  })

  it("the validators do reject wrong bodies (the test can fail)", () => {
    assert.isFalse(requestValidator("POST", "/rest/track-score")({ request_id: 1, score: 101 }))
    assert.isFalse(requestValidator("POST", "/rest/track-score")({ request_id: "1", score: 5 }))
    assert.isFalse(requestValidator("POST", "/rest/track-group")({ request_id: 1 }))
    assert.isFalse(requestValidator("POST", "/rest/prompt-templates")({ prompt_template: { prompt_name: "x" } }))
    assert.isFalse(
      requestValidator(
        "POST",
        "/log-request"
      )({
        provider: "openai",
        model: "m",
        input: { type: "chat", messages: [{ role: "user", content: "a plain string" }] },
        output: chat("x"),
        request_start_time: "2025-01-01T00:00:00Z",
        request_end_time: "2025-01-01T00:00:01Z"
      }),
      "message content must be an array of blocks"
    )
  })
})

describe("the client's request bodies validate against the document", () => {
  it.effect("logRequest, minimal, Date timestamps → POST /log-request", () =>
    Effect.gen(function* () {
      const sent = yield* capture(
        (client) =>
          client.logRequest({
            provider: "openai",
            model: "gpt-4o-mini",
            input: chat("Hi"),
            output: { type: "chat", messages: [{ role: "assistant", content: [{ type: "text", text: "Hello!" }] }] },
            request_start_time: new Date("2025-04-14T10:21:52.760Z"),
            request_end_time: new Date("2025-04-14T10:21:53.100Z")
          }),
        { status: 201, json: { id: 1 } }
      )
      check("POST", "/log-request", sent.body)
    })
  )

  it.effect("logRequest, every documented field, epoch ms timestamps, tool calls, an error status", () =>
    Effect.gen(function* () {
      const sent = yield* capture(
        (client) =>
          client.logRequest({
            provider: "openai",
            model: "gpt-4o",
            input: chat("What is 6 × 7?"),
            output: answer,
            request_start_time: 1744626112760,
            request_end_time: 1744626113100,
            parameters: { temperature: 0.2, max_tokens: 64 },
            tags: ["prod", "math"],
            metadata: { session_id: "abc123", user: "u1" },
            prompt_name: "calculator",
            prompt_id: 12,
            prompt_version_number: 3,
            prompt_input_variables: { question: "6 × 7" },
            input_tokens: 20,
            output_tokens: 5,
            price: 0.00012,
            function_name: "openai.chat.completions.create",
            score: 80,
            api_type: "chat-completions",
            status: "WARNING",
            error_type: "PROVIDER_PARTIAL_RESPONSE",
            error_message: "stream cut short"
          }),
        { status: 201, json: { id: 2 } }
      )
      check("POST", "/log-request", sent.body)
    })
  )

  it.effect("logRequest, a completion prompt and ISO-string timestamps without zone", () =>
    Effect.gen(function* () {
      const sent = yield* capture(
        (client) =>
          client.logRequest({
            provider: "anthropic",
            model: "claude-3-haiku",
            input: { type: "completion", content: [{ type: "text", text: "Once upon a time" }] },
            output: { type: "completion", content: [{ type: "text", text: " there was a test." }] },
            request_start_time: "2025-04-14T10:21:52.760164",
            request_end_time: "2025-04-14T10:21:53"
          }),
        { status: 201, json: { id: 3 } }
      )
      check("POST", "/log-request", sent.body)
    })
  )

  it.effect("track.score (with and without a name) → /rest/track-score", () =>
    Effect.gen(function* () {
      check("POST", "/rest/track-score", (yield* capture((c) => c.track.score({ request_id: 5, score: 0 }))).body)
      check(
        "POST",
        "/rest/track-score",
        (yield* capture((c) => c.track.score({ request_id: 5, score: 100, name: "accuracy" }))).body
      )
    })
  )

  it.effect("track.metadata → /rest/track-metadata", () =>
    Effect.gen(function* () {
      const sent = yield* capture((c) => c.track.metadata({ request_id: 5, metadata: { user: "u1", tier: "gold" } }))
      check("POST", "/rest/track-metadata", sent.body)
    })
  )

  it.effect("track.prompt (version, label, null label) → /rest/track-prompt", () =>
    Effect.gen(function* () {
      for (const extra of [{}, { version: 2 }, { label: "prod" }, { version: null, label: null }]) {
        const sent = yield* capture((c) =>
          c.track.prompt({ request_id: 5, prompt_name: "support", prompt_input_variables: { q: "hi" }, ...extra })
        )
        check("POST", "/rest/track-prompt", sent.body)
      }
    })
  )

  it.effect("track.group → /rest/track-group", () =>
    Effect.gen(function* () {
      check("POST", "/rest/track-group", (yield* capture((c) => c.track.group({ request_id: 5, group_id: 9 }))).body)
    })
  )

  it.effect("templates.get with no params, and with every param → POST /prompt-templates/{identifier}", () =>
    Effect.gen(function* () {
      const reply = { status: 200, json: { id: 1, prompt_name: "a b", prompt_template: chat("x") } }
      for (const params of [
        undefined,
        { version: 3 },
        {
          label: "prod",
          provider: "openai",
          model: "gpt-4o",
          input_variables: { topic: "tea" },
          metadata_filters: { cohort: "b" },
          model_parameter_overrides: { temperature: 0 },
          workspace_id: 4
        }
      ]) {
        const sent = yield* capture((c) => c.templates.get("a b", params), reply)
        assert.strictEqual(sent.url.pathname, "/prompt-templates/a%20b")
        check("POST", "/prompt-templates/{identifier}", sent.body)
      }
    })
  )

  it.effect("templates.publish → POST /rest/prompt-templates", () =>
    Effect.gen(function* () {
      const sent = yield* capture(
        (c) =>
          c.templates.publish({
            prompt_name: "calculator",
            prompt_template: { ...answer, input_variables: [] },
            tags: ["math"],
            commit_message: "first",
            metadata: { model: { provider: "openai", name: "gpt-4o", parameters: { temperature: 0 } } },
            release_labels: ["prod", "staging"]
          }),
        { status: 201, json: { id: 1, prompt_name: "calculator", prompt_template: answer } }
      )
      check("POST", "/rest/prompt-templates", sent.body)
    })
  )

  it.effect("templates.all query parameters are documented parameters of GET /prompt-templates", () =>
    Effect.gen(function* () {
      const parameters = doc.paths["/prompt-templates"]!.get.parameters as Array<{ name: string; schema: unknown }>
      const sent = yield* capture((c) =>
        c.templates.all({ page: 2, per_page: 10, label: "prod", name: "calc", tags: ["a", "b"], status: "all" })
      )
      const names = [...new Set(sent.url.searchParams.keys())]
      assert.deepStrictEqual(names.sort(), ["label", "name", "page", "per_page", "status", "tags"])
      for (const name of names) {
        const parameter = parameters.find((p) => p.name === name)
        if (parameter === undefined) return assert.fail(`query parameter ${name} is not documented`)
        const values = sent.url.searchParams.getAll(name)
        const value = values.length > 1 ? values : /^\d+$/.test(values[0]!) ? Number(values[0]) : values[0]
        const validate = ajv.compile(normalise(parameter.schema) as object)
        assert.isTrue(validate(value), `${name}=${JSON.stringify(value)}: ${ajv.errorsText(validate.errors)}`)
      }
    })
  )
})

describe("the recorded SDK inputs, sent by the client, validate against the document", () => {
  interface Exchange {
    readonly cassette: string
    readonly index: number
    readonly method: string
    readonly path: string
    readonly request: any
    readonly status: number
    readonly response: unknown
  }
  const exchanges = (loadReferenceJson("promptlayer-recorded-exchanges.json") as { exchanges: Array<Exchange> })
    .exchanges
  const strip = ({ api_key: _, ...rest }: Record<string, unknown>) => rest

  const documented: Record<
    string,
    {
      readonly path: string
      readonly run: (c: PromptLayerClient.Service, e: Exchange) => Effect.Effect<unknown, unknown>
    }
  > = {
    "/log-request": { path: "/log-request", run: (c, e) => c.logRequest(e.request) },
    "/library-track-score": { path: "/rest/track-score", run: (c, e) => c.track.score(strip(e.request) as any) },
    "/library-track-metadata": {
      path: "/rest/track-metadata",
      run: (c, e) => c.track.metadata(strip(e.request) as any)
    },
    "/track-group": { path: "/rest/track-group", run: (c, e) => c.track.group(strip(e.request) as any) },
    "/rest/prompt-templates": {
      path: "/rest/prompt-templates",
      run: (c, e) => c.templates.publish(e.request.prompt_template)
    }
  }

  for (const exchange of exchanges) {
    const target = exchange.path.startsWith("/prompt-templates/")
      ? {
          path: "/prompt-templates/{identifier}",
          run: (c: PromptLayerClient.Service, e: Exchange) =>
            c.templates.get(decodeURIComponent(e.path.slice("/prompt-templates/".length)), strip(e.request) as any)
        }
      : documented[exchange.path]
    if (exchange.method !== "POST" || target === undefined) continue
    it.effect(`${exchange.cassette}#${exchange.index}: ${exchange.path} → POST ${target.path}`, () =>
      Effect.gen(function* () {
        const sent = yield* capture((c) => target.run(c, exchange), {
          status: exchange.status,
          json: exchange.response
        })
        check("POST", target.path, sent.body)
      })
    )
  }
})

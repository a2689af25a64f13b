// --- README example: start (a user-style test, only PromptLayerTest.layer, no HTTP) -------------
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { PromptLayerClient, PromptLayerError } from "promptlayer-effect"
import { PromptLayerTest } from "promptlayer-effect/testing"

// Your code: logs an LLM call and scores it.
const logAndScore = (answer: string) =>
  Effect.gen(function* () {
    const client = yield* PromptLayerClient.PromptLayerClient
    const { id } = yield* client.logRequest({
      provider: "openai",
      model: "gpt-4o-mini",
      input: { type: "chat", messages: [{ role: "user", content: [{ type: "text", text: "2+2?" }] }] },
      output: { type: "chat", messages: [{ role: "assistant", content: [{ type: "text", text: answer }] }] },
      request_start_time: new Date(),
      request_end_time: new Date(),
      tags: ["math"]
    })
    yield* client.track.score({ request_id: id, score: answer === "4" ? 100 : 0 })
    return id
  })

describe("logAndScore", () => {
  it.effect("logs the call and scores a right answer 100", () =>
    Effect.gen(function* () {
      const id = yield* logAndScore("4")
      const test = yield* PromptLayerTest.PromptLayerTest
      const [request] = yield* test.requests
      assert.strictEqual(request?.id, id)
      assert.deepStrictEqual(request?.tags, ["math"])
      assert.deepStrictEqual(request?.scores, { default: 100 })
      const calls = yield* test.calls
      assert.deepStrictEqual(
        calls.map((call) => call.operation),
        ["logRequest", "track.score"]
      )
    }).pipe(Effect.provide(PromptLayerTest.layer))
  )

  it.effect("fails with the RateLimitError PromptLayer answers with", () =>
    Effect.gen(function* () {
      const test = yield* PromptLayerTest.PromptLayerTest
      yield* test.failNext(
        1,
        new PromptLayerError.RateLimitError({ endpoint: "POST /log-request", status: 429, retryAfterMs: 1000 })
      )
      const error = yield* Effect.flip(logAndScore("4"))
      assert.strictEqual(error._tag, "RateLimitError")
      assert.lengthOf(yield* test.requests, 0)
    }).pipe(Effect.provide(PromptLayerTest.layer))
  )
})
// --- README example: end -------------------------------------------------------------------------

import { FakeListChatModel } from "@langchain/core/utils/testing"
import { Layer, Result } from "effect"
import { type PromptLayerSchema, PromptLayerTracker } from "promptlayer-effect"
import { PromptLayerCallbackHandler, PromptLayerLangChainPrompt } from "promptlayer-effect/langchain"
import { PromptLayer } from "promptlayer-effect/promise"

const chatPrompt = (text: string) =>
  ({ type: "chat", messages: [{ role: "user", content: [{ type: "text", text }] }] }) as const

const logBody = (text = "hi"): PromptLayerSchema.LogRequestInput => ({
  provider: "openai",
  model: "gpt-4o-mini",
  input: chatPrompt(text),
  output: { type: "chat", messages: [{ role: "assistant", content: [{ type: "text", text: "ok" }] }] },
  request_start_time: 1_700_000_000_000,
  request_end_time: 1_700_000_001_500
})

describe("PromptLayerTest", () => {
  it.effect("returns increasing ids and keeps what each operation tracked", () =>
    Effect.gen(function* () {
      const client = yield* PromptLayerClient.PromptLayerClient
      const test = yield* PromptLayerTest.PromptLayerTest
      const first = yield* client.logRequest(logBody("a"))
      const second = yield* client.trackRequest({
        function_name: "openai.chat.completions.create",
        kwargs: { model: "gpt-4o", messages: [{ role: "user", content: "b" }] },
        request_response: { choices: [{ message: { role: "assistant", content: "B" } }] },
        request_start_time: new Date(0),
        request_end_time: new Date(10)
      })
      assert.deepStrictEqual([first.id, second.request_id], [1, 2])
      const group = yield* client.group.create()
      yield* client.track.metadata({ request_id: 1, metadata: { user: "u1" } })
      yield* client.track.metadata({ request_id: 1, metadata: { user: "u2", plan: "pro" } })
      yield* client.track.score({ request_id: 1, score: 80, name: "accuracy" })
      yield* client.track.group({ request_id: 2, group_id: group })
      const one = yield* test.request(1)
      const two = yield* test.request(2)
      assert.isTrue(one._tag === "Some" && two._tag === "Some")
      if (one._tag !== "Some" || two._tag !== "Some") return
      assert.deepStrictEqual(one.value.metadata, { user: "u2", plan: "pro" })
      assert.deepStrictEqual(one.value.scores, { accuracy: 80 })
      assert.strictEqual(one.value.latency_ms, 1500)
      assert.deepStrictEqual(two.value.group_ids, [group])
      assert.deepStrictEqual(yield* test.groups, [group])
    }).pipe(Effect.provide(PromptLayerTest.layer))
  )

  it.effect("rejects invalid input before the store, like the client, and records it with 0 attempts", () =>
    Effect.gen(function* () {
      const client = yield* PromptLayerClient.PromptLayerClient
      const test = yield* PromptLayerTest.PromptLayerTest
      const error = yield* Effect.flip(client.track.score({ request_id: 1, score: 101 }))
      assert.instanceOf(error, PromptLayerError.ValidationError)
      assert.strictEqual(error._tag, "ValidationError")
      const metadata = yield* Effect.flip(client.track.metadata({ request_id: 1, metadata: { n: 1 as never } }))
      assert.strictEqual(metadata._tag, "ValidationError")
      const calls = yield* test.calls
      assert.deepStrictEqual(
        calls.map((call) => [call.operation, call.attempts, call.error?._tag]),
        [
          ["track.score", 0, "ValidationError"],
          ["track.metadata", 0, "ValidationError"]
        ]
      )
    }).pipe(Effect.provide(PromptLayerTest.layer))
  )

  it.effect("answers like the server: NotFoundError for an unknown request or template", () =>
    Effect.gen(function* () {
      const client = yield* PromptLayerClient.PromptLayerClient
      const score = yield* Effect.flip(client.track.score({ request_id: 99, score: 1 }))
      assert.instanceOf(score, PromptLayerError.NotFoundError)
      assert.strictEqual(score.message.startsWith("POST /library-track-score: not found (404)"), true)
      const template = yield* Effect.flip(client.templates.get("missing"))
      assert.strictEqual(template._tag, "NotFoundError")
    }).pipe(Effect.provide(PromptLayerTest.layer))
  )

  it.effect("failNext: the next N calls of an operation fail, then calls succeed again", () =>
    Effect.gen(function* () {
      const client = yield* PromptLayerClient.PromptLayerClient
      const test = yield* PromptLayerTest.PromptLayerTest
      yield* test.failNext(2, (operation) => new PromptLayerError.ServerError({ endpoint: operation, status: 503 }), {
        operation: "logRequest"
      })
      const group = yield* client.group.create()
      assert.strictEqual(group, 1)
      const results = yield* Effect.forEach([1, 2, 3], () => Effect.result(client.logRequest(logBody())))
      assert.deepStrictEqual(
        results.map((result) => (Result.isFailure(result) ? result.failure._tag : result.success.id)),
        ["ServerError", "ServerError", 1]
      )
      assert.lengthOf(yield* test.requests, 1)
    }).pipe(Effect.provide(PromptLayerTest.layer))
  )

  it.effect("with retry options, scripted failures are retried under the policy", () =>
    Effect.gen(function* () {
      const client = yield* PromptLayerClient.PromptLayerClient
      const test = yield* PromptLayerTest.PromptLayerTest
      yield* test.failNext(2, new PromptLayerError.RateLimitError({ endpoint: "POST /log-request", status: 429 }))
      const { id } = yield* client.logRequest(logBody())
      assert.strictEqual(id, 1)
      const [call] = yield* test.calls
      assert.strictEqual(call?.attempts, 3)
    }).pipe(Effect.provide(PromptLayerTest.layerWith({ retry: { maxAttempts: 4, initialDelay: 0, jitter: false } })))
  )

  it.effect("holds a prompt registry: versions, labels, rendering, listing", () =>
    Effect.gen(function* () {
      const client = yield* PromptLayerClient.PromptLayerClient
      const test = yield* PromptLayerTest.PromptLayerTest
      yield* test.seedTemplate({ prompt_name: "greet", prompt_template: chatPrompt("Hello {name}") })
      yield* client.templates.publish({
        prompt_name: "greet",
        prompt_template: chatPrompt("Hi {name}!"),
        release_labels: ["prod"]
      })
      const v1 = yield* client.templates.get("greet", { version: 1 })
      const prod = yield* client.templates.get("greet", { label: "prod", input_variables: { name: "Ada" } })
      assert.strictEqual(v1.version, 1)
      assert.strictEqual(prod.version, 2)
      const message = prod.prompt_template.type === "chat" ? prod.prompt_template.messages[0] : undefined
      assert.deepStrictEqual(message?.content?.[0], { type: "text", text: "Hi Ada!" })
      const missing = yield* Effect.flip(client.templates.get("greet", { input_variables: {} }))
      assert.strictEqual(missing._tag, "InvalidRequestError")
      const page = yield* client.templates.all({ per_page: 10 })
      assert.deepStrictEqual(
        page.items.map((item) => [item.prompt_name, item.version]),
        [["greet", 2]]
      )
      // seeding is not a call of your code
      assert.deepStrictEqual(
        (yield* test.calls).map((call) => call.operation),
        ["templates.publish", "templates.get", "templates.get", "templates.get", "templates.all"]
      )
    }).pipe(Effect.provide(PromptLayerTest.layer))
  )

  it.effect("each build of PromptLayerTest.layer is a fresh PromptLayer; reset starts over", () =>
    Effect.gen(function* () {
      const once = Effect.gen(function* () {
        const client = yield* PromptLayerClient.PromptLayerClient
        return (yield* client.logRequest(logBody())).id
      })
      assert.strictEqual(yield* Effect.provide(once, PromptLayerTest.layer), 1)
      assert.strictEqual(yield* Effect.provide(once, PromptLayerTest.layer), 1)
      const both = Effect.gen(function* () {
        const test = yield* PromptLayerTest.PromptLayerTest
        const a = yield* once
        yield* test.failNext(5, new PromptLayerError.ServerError({ endpoint: "x", status: 500 }))
        yield* test.reset
        const b = yield* once
        return [a, b, (yield* test.calls).length]
      })
      assert.deepStrictEqual(yield* Effect.provide(both, PromptLayerTest.layer), [1, 1, 1])
    })
  )

  it("make(): one instance shared by the Promise bridge, with synchronous accessors", async () => {
    const pl = PromptLayerTest.make({
      templates: [{ prompt_name: "example", prompt_template: chatPrompt("Tell me about {product}") }]
    })
    const promptlayer = new PromptLayer({ layer: pl.layer })
    try {
      const { id } = await promptlayer.logRequest(logBody())
      assert.strictEqual(await promptlayer.track.score({ request_id: id, score: 100 }), true)
      const template = await promptlayer.templates.get("example", { version: 1 })
      assert.strictEqual(template.prompt_name, "example")
      pl.failNext(1, new PromptLayerError.RateLimitError({ endpoint: "POST /create-group", status: 429 }))
      const error = await promptlayer.group.create().catch((e: unknown) => e)
      assert.instanceOf(error, PromptLayerError.RateLimitError)
      assert.deepStrictEqual(pl.request(id)?.scores, { default: 100 })
      assert.deepStrictEqual(
        pl.calls().map((call) => call.operation),
        ["logRequest", "track.score", "templates.get", "group.create"]
      )
    } finally {
      await promptlayer.close()
    }
  })
})

describe("PromptLayerTest under the LangChain handler", () => {
  it.effect("the handler logs through PromptLayerTest, linked to the registry prompt it ran", () =>
    Effect.gen(function* () {
      const test = yield* PromptLayerTest.PromptLayerTest
      yield* test.seedTemplate({
        prompt_name: "example",
        prompt_template: chatPrompt("Tell me a joke about {product}"),
        release_labels: ["prod"]
      })
      yield* Effect.scoped(
        Effect.gen(function* () {
          const handler = yield* PromptLayerCallbackHandler.make({ plTags: ["test"], mode: "requests" })
          const prompt = yield* PromptLayerLangChainPrompt.get("example", { label: "prod" })
          const model = new FakeListChatModel({ responses: ["Why did the toaster..."] })
          yield* Effect.promise(() => prompt.pipe(model).invoke({ product: "toasters" }, { callbacks: [handler] }))
        })
      ) // the scope closes: the handler flushes
      const [request] = yield* test.requests
      assert.include(request?.tags, "test")
      assert.deepStrictEqual(request?.prompt, {
        name: "example",
        id: 1,
        version: 1,
        label: null,
        input_variables: { product: "toasters" }
      })
      assert.strictEqual(
        request?.output?.type === "chat" && request.output.messages[0]?.content?.[0]?.text,
        "Why did the toaster..."
      )
      const calls = yield* test.calls
      assert.deepStrictEqual(
        calls.map((call) => call.operation),
        ["templates.get", "logRequest"]
      )
    }).pipe(Effect.provide(PromptLayerTracker.layer().pipe(Layer.provideMerge(PromptLayerTest.layer))))
  )

  it("a scripted failure is retried by the tracker and the log is still delivered", async () => {
    const pl = PromptLayerTest.make({ retry: { maxAttempts: 3, initialDelay: 1, jitter: false } })
    pl.failNext(2, new PromptLayerError.ServerError({ endpoint: "POST /log-request", status: 503 }))
    const program = Effect.scoped(
      Effect.gen(function* () {
        const handler = yield* PromptLayerCallbackHandler.make({ mode: "requests" })
        const model = new FakeListChatModel({ responses: ["pong"] })
        yield* Effect.promise(() => model.invoke("ping", { callbacks: [handler] }))
      })
    ).pipe(Effect.provide(PromptLayerTracker.layer().pipe(Layer.provide(pl.layer))))
    await Effect.runPromise(program)
    assert.lengthOf(pl.requests(), 1)
    assert.deepStrictEqual(
      pl.calls().map((call) => [call.operation, call.attempts, call.error?._tag]),
      [["logRequest", 3, undefined]]
    )
  })
})

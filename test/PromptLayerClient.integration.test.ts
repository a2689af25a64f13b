/**
 * The client's integration tests: every operation, success and failure, over real HTTP (loopback)
 * against the emulator.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { PromptLayerEmulator } from "promptlayer-effect/emulator"
import { chat, withClient } from "./support/emulatorClient.js"

const Emulator = PromptLayerEmulator.PromptLayerEmulator

const logBody = (text: string, extra: Record<string, unknown> = {}) => ({
  provider: "openai",
  model: "gpt-4o-mini",
  input: chat("user", text),
  output: chat("assistant", `echo: ${text}`),
  request_start_time: new Date("2026-01-01T00:00:00.000Z"),
  request_end_time: new Date("2026-01-01T00:00:01.250Z"),
  ...extra
})

/** Logs a request through the client and returns its id. */
const logged = (text: string) =>
  Effect.gen(function* () {
    const emulator = yield* Emulator
    return yield* withClient(emulator, (client) => client.logRequest(logBody(text))).pipe(Effect.map((r) => r.id))
  })

const failureTag = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>) =>
  effect.pipe(
    Effect.flip,
    Effect.map((error) => error._tag)
  )

const publish = (name: string, text: string, extra: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const emulator = yield* Emulator
    return yield* withClient(emulator, (client) =>
      client.templates.publish({
        prompt_name: name,
        prompt_template: {
          type: "chat",
          messages: [{ role: "user", content: [{ type: "text", text }] }]
        },
        ...extra
      })
    )
  })

layer(PromptLayerEmulator.layer({ port: 0 }), { excludeTestServices: true })("client against the emulator", (it) => {
  describe("logRequest", () => {
    it.effect("logs a blueprint request: 201 with an id, stored with tags, metadata, tokens and latency", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        const response = yield* withClient(emulator, (client) =>
          client.logRequest(
            logBody("hello", { tags: ["it", "log"], metadata: { user: "u1" }, input_tokens: 3, output_tokens: 4 })
          )
        )
        const stored = emulator.store.request(response.id)
        assert.strictEqual(stored?.kind, "log-request")
        assert.deepStrictEqual(stored?.tags, ["it", "log"])
        assert.deepStrictEqual(stored?.metadata, { user: "u1" })
        assert.strictEqual(stored?.tokens, 7)
        assert.strictEqual(stored?.latency_ms, 1250)
        assert.strictEqual(stored?.model, "gpt-4o-mini")
        assert.deepStrictEqual(stored?.output, chat("assistant", "echo: hello"))
      })
    )

    it.effect("an error_type that does not fit the status is a 422 → InvalidRequestError", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        const error = yield* withClient(emulator, (client) =>
          client.logRequest(logBody("bad", { status: "WARNING", error_type: "PROVIDER_AUTH_ERROR" }))
        ).pipe(Effect.flip)
        assert.strictEqual(error._tag, "InvalidRequestError")
        assert.strictEqual((error as { status?: number }).status, 422)
        assert.include(String((error as { serverMessage?: string }).serverMessage), "error_type")
      })
    )

    it.effect("a wrong API key is an AuthenticationError", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        const tag = yield* failureTag(
          withClient(emulator, (client) => client.logRequest(logBody("x")), { apiKey: "wrong-key" })
        )
        assert.strictEqual(tag, "AuthenticationError")
      })
    )
  })

  describe("trackRequest", () => {
    it.effect("tracks a raw provider call: request_id, tokens from usage, prompt blueprint on request", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        const response = yield* withClient(emulator, (client) =>
          client.trackRequest({
            function_name: "openai.chat.completions.create",
            provider_type: "openai",
            kwargs: { model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] },
            request_response: {
              choices: [{ message: { role: "assistant", content: "Hello!" } }],
              usage: { prompt_tokens: 5, completion_tokens: 2 }
            },
            request_start_time: 1744624827.5,
            request_end_time: 1744624828,
            tags: ["raw"],
            return_prompt_blueprint: true
          })
        )
        assert.isTrue(response.success)
        const stored = emulator.store.request(response.request_id)
        assert.strictEqual(stored?.tokens, 7)
        assert.strictEqual(stored?.latency_ms, 500)
        assert.strictEqual(stored?.provider, "openai")
        const blueprint = response.prompt_blueprint as { prompt_template: { messages: Array<{ role: string }> } }
        assert.deepStrictEqual(
          blueprint.prompt_template.messages.map((m) => m.role),
          ["user", "assistant"]
        )
      })
    )

    it.effect("an unknown group_id is a NotFoundError", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        const tag = yield* failureTag(
          withClient(emulator, (client) =>
            client.trackRequest({
              function_name: "openai.chat.completions.create",
              kwargs: {},
              request_response: {},
              request_start_time: new Date(),
              request_end_time: new Date(),
              group_id: 999_999
            })
          )
        )
        assert.strictEqual(tag, "NotFoundError")
      })
    )
  })

  describe("track.*", () => {
    it.effect("track.score sets named scores; an unknown request is a NotFoundError", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        const id = yield* logged("score me")
        yield* withClient(emulator, (client) =>
          Effect.all([
            client.track.score({ request_id: id, score: 80 }),
            client.track.score({ request_id: id, score: 10, name: "accuracy" })
          ])
        )
        assert.deepStrictEqual(emulator.store.request(id)?.scores, { default: 80, accuracy: 10 })
        const tag = yield* failureTag(
          withClient(emulator, (client) => client.track.score({ request_id: 987_654, score: 1 }))
        )
        assert.strictEqual(tag, "NotFoundError")
      })
    )

    it.effect("track.metadata merges (a key tracked again is replaced); unknown request → NotFoundError", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        const id = yield* logged("meta")
        yield* withClient(emulator, (client) =>
          Effect.zip(
            client.track.metadata({ request_id: id, metadata: { a: "1", b: "2" } }),
            client.track.metadata({ request_id: id, metadata: { b: "3", c: "4" } })
          )
        )
        assert.deepStrictEqual(emulator.store.request(id)?.metadata, { a: "1", b: "3", c: "4" })
        const tag = yield* failureTag(
          withClient(emulator, (client) => client.track.metadata({ request_id: 987_654, metadata: { a: "b" } }))
        )
        assert.strictEqual(tag, "NotFoundError")
      })
    )

    it.effect("track.prompt links a registry template (by label); an unknown template is a NotFoundError", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        yield* publish("it-track-prompt", "Hi {name}", { release_labels: ["prod"] })
        yield* publish("it-track-prompt", "Hello {name}")
        const id = yield* logged("prompted")
        yield* withClient(emulator, (client) =>
          client.track.prompt({
            request_id: id,
            prompt_name: "it-track-prompt",
            prompt_input_variables: { name: "Ada" },
            label: "prod"
          })
        )
        const link = emulator.store.request(id)?.prompt
        assert.strictEqual(link?.name, "it-track-prompt")
        assert.strictEqual(link?.version, 1)
        assert.deepStrictEqual(link?.input_variables, { name: "Ada" })
        const tag = yield* failureTag(
          withClient(emulator, (client) =>
            client.track.prompt({ request_id: id, prompt_name: "no-such-template", prompt_input_variables: {} })
          )
        )
        assert.strictEqual(tag, "NotFoundError")
      })
    )

    it.effect("group.create + track.group; an unknown group is a NotFoundError", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        const id = yield* logged("grouped")
        const [g1, g2] = yield* withClient(emulator, (client) =>
          Effect.zip(client.group.create(), client.group.create())
        )
        assert.isAbove(g2, g1)
        yield* withClient(emulator, (client) => client.track.group({ request_id: id, group_id: g2 }))
        assert.deepStrictEqual(emulator.store.request(id)?.group_ids, [g2])
        const tag = yield* failureTag(
          withClient(emulator, (client) => client.track.group({ request_id: id, group_id: 987_654 }))
        )
        assert.strictEqual(tag, "NotFoundError")
      })
    )

    it.effect("group.create with a wrong key is an AuthenticationError", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        const tag = yield* failureTag(withClient(emulator, (client) => client.group.create(), { apiKey: "nope" }))
        assert.strictEqual(tag, "AuthenticationError")
      })
    )
  })

  describe("templates", () => {
    it.effect("publish makes a new version each time and moves release labels", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        const v1 = yield* publish("it-versions", "one", { release_labels: ["prod"], tags: ["t"] })
        const v2 = yield* publish("it-versions", "two", { release_labels: ["prod"] })
        assert.strictEqual(v1.id, v2.id)
        assert.strictEqual(v1.version_number, 1)
        assert.strictEqual(v2.version_number, 2)
        const byLabel = yield* withClient(emulator, (client) => client.templates.get("it-versions", { label: "prod" }))
        assert.strictEqual(byLabel.version, 2)
        const byVersion = yield* withClient(emulator, (client) => client.templates.get(v1.id, { version: 1 }))
        assert.strictEqual(byVersion.version, 1)
        assert.strictEqual(byVersion.prompt_name, "it-versions")
      })
    )

    it.effect("publish with a wrong key is an AuthenticationError", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        const tag = yield* failureTag(
          withClient(
            emulator,
            (client) => client.templates.publish({ prompt_name: "x", prompt_template: chat("user", "x") }),
            { apiKey: "nope" }
          )
        )
        assert.strictEqual(tag, "AuthenticationError")
      })
    )

    it.effect("get renders f-string and jinja2 input_variables; names with ':' work (URL-encoded)", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        yield* publish("it:render", "Capital of {country}? {{literal}}")
        yield* withClient(emulator, (client) =>
          client.templates.publish({
            prompt_name: "it-jinja",
            prompt_template: {
              type: "chat",
              messages: [
                {
                  role: "user",
                  template_format: "jinja2",
                  content: [{ type: "text", text: "Hi {{ user.name }}, about {{topic}}" }]
                }
              ]
            }
          })
        )
        const f = yield* withClient(emulator, (client) =>
          client.templates.get("it:render", { input_variables: { country: "Japan" } })
        )
        const text = (t: typeof f) =>
          t.prompt_template as unknown as { messages: Array<{ content: Array<{ text: string }> }> }
        assert.strictEqual(text(f).messages[0]!.content[0]!.text, "Capital of Japan? {literal}")
        const j = yield* withClient(emulator, (client) =>
          client.templates.get("it-jinja", { input_variables: { user: { name: "Ada" }, topic: "Effect" } })
        )
        assert.strictEqual(text(j).messages[0]!.content[0]!.text, "Hi Ada, about Effect")
      })
    )

    it.effect("get: a missing variable is a 4xx naming it; unknown template, version or label → NotFoundError", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        yield* publish("it-missing", "Dear {title} {name}")
        const error = yield* withClient(emulator, (client) =>
          client.templates.get("it-missing", { input_variables: { title: "Dr" } })
        ).pipe(Effect.flip)
        assert.strictEqual(error._tag, "InvalidRequestError")
        assert.include(String((error as { serverMessage?: string }).serverMessage), "name")
        for (const attempt of [
          withClient(emulator, (client) => client.templates.get("it-no-such")),
          withClient(emulator, (client) => client.templates.get("it-missing", { version: 7 })),
          withClient(emulator, (client) => client.templates.get("it-missing", { label: "staging" }))
        ]) {
          assert.strictEqual(yield* failureTag(attempt), "NotFoundError")
        }
      })
    )

    it.effect("all: newest first, name (partial, case-insensitive), label, tags (all), pagination; stream", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        yield* publish("it-list-alpha", "a", { tags: ["list", "x"] })
        yield* publish("it-list-beta", "b", { tags: ["list"], release_labels: ["live"] })
        yield* publish("it-list-gamma", "c", { tags: ["list", "x"] })
        const byName = yield* withClient(emulator, (client) => client.templates.all({ name: "IT-LIST" }))
        assert.deepStrictEqual(
          byName.items.map((i) => i.prompt_name),
          ["it-list-gamma", "it-list-beta", "it-list-alpha"]
        )
        const tagged = yield* withClient(emulator, (client) =>
          client.templates.all({ name: "it-list", tags: ["list", "x"] })
        )
        assert.deepStrictEqual(
          tagged.items.map((i) => i.prompt_name),
          ["it-list-gamma", "it-list-alpha"]
        )
        const labelled = yield* withClient(emulator, (client) => client.templates.all({ label: "live" }))
        assert.deepStrictEqual(
          labelled.items.map((i) => i.prompt_name),
          ["it-list-beta"]
        )
        const page2 = yield* withClient(emulator, (client) =>
          client.templates.all({ name: "it-list", page: 2, per_page: 2 })
        )
        assert.strictEqual(page2.total, 3)
        assert.strictEqual(page2.pages, 2)
        assert.isFalse(page2.has_next)
        assert.deepStrictEqual(
          page2.items.map((i) => i.prompt_name),
          ["it-list-alpha"]
        )
        const streamed = yield* withClient(emulator, (client) =>
          Stream.runCollect(client.templates.stream({ name: "it-list", per_page: 1 }))
        )
        assert.deepStrictEqual(
          streamed.map((i) => i.prompt_name),
          ["it-list-gamma", "it-list-beta", "it-list-alpha"]
        )
      })
    )

    it.effect("all with a wrong key is an AuthenticationError", () =>
      Effect.gen(function* () {
        const emulator = yield* Emulator
        const tag = yield* failureTag(withClient(emulator, (client) => client.templates.all(), { apiKey: "nope" }))
        assert.strictEqual(tag, "AuthenticationError")
      })
    )
  })
})

import { spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { AIMessage, HumanMessage, SystemMessage } from "@langchain/core/messages"
import { ChatPromptTemplate, PromptTemplate } from "@langchain/core/prompts"
import { FakeListChatModel, FakeLLM } from "@langchain/core/utils/testing"
import { Effect } from "effect"
import { PromptLayerError, type PromptLayerSchema } from "promptlayer-effect"
import { PromptLayerCallbackHandler, PromptLayerLangChainPrompt } from "promptlayer-effect/langchain"
import { PromptLayer } from "promptlayer-effect/promise"
import { PromptLayerTest } from "promptlayer-effect/testing"
import { startEmulator } from "../src/PromptLayerEmulator.js"

type Prompt = PromptLayerSchema.PublishTemplateInput["prompt_template"]

const text = (value: string) => [{ type: "text", text: value }]

const chat: Prompt = {
  type: "chat",
  messages: [
    { role: "system", content: text("You sell {product}. Answer in {{JSON}}."), template_format: "f-string" },
    { role: "placeholder", name: "history" },
    { role: "user", content: text("Name one {product} brand."), template_format: "f-string" },
    { role: "assistant", content: text("Sure, about {product}:"), template_format: "f-string" }
  ]
}

const completion: Prompt = { type: "completion", content: text("Once upon a time, {hero} met a {thing}.") }

const jinja: Prompt = {
  type: "chat",
  messages: [
    { role: "system", content: text("Speak like {{ persona }}."), template_format: "jinja2" },
    { role: "user", content: text("Tell me about {{ topic }}."), template_format: "jinja2" }
  ]
}

const jinjaCompletion: Prompt = {
  type: "completion",
  content: text("Write {{ n }} lines on {{ topic }}."),
  template_format: "jinja2"
}

const registry = () =>
  PromptLayerTest.make({
    templates: [
      { prompt_name: "example", prompt_template: chat },
      { prompt_name: "story", prompt_template: completion },
      { prompt_name: "jinja", prompt_template: jinja },
      { prompt_name: "jinja-completion", prompt_template: jinjaCompletion }
    ]
  })

describe("PromptLayerLangChainPrompt (Effect API)", () => {
  it.effect("a chat template becomes a ChatPromptTemplate with the same messages and variables", () =>
    Effect.gen(function* () {
      const prompt = yield* PromptLayerLangChainPrompt.get("example", { version: 1 })
      assert.instanceOf(prompt, ChatPromptTemplate)
      assert.sameMembers(prompt.inputVariables, ["product", "history"])
      const messages = yield* Effect.promise(() =>
        prompt.formatMessages({ product: "toasters", history: [new HumanMessage("hi"), new AIMessage("hello")] })
      )
      assert.deepStrictEqual(
        messages.map((message) => [message.getType(), message.content]),
        [
          ["system", "You sell toasters. Answer in {JSON}."],
          ["human", "hi"],
          ["ai", "hello"],
          ["human", "Name one toasters brand."],
          ["ai", "Sure, about toasters:"]
        ]
      )
      assert.deepStrictEqual(prompt.metadata, {
        promptlayer_prompt_name: "example",
        promptlayer_prompt_id: 1,
        promptlayer_prompt_version: 1
      })
    }).pipe(Effect.provide(registry().layer))
  )

  it.effect("a completion template becomes a PromptTemplate", () =>
    Effect.gen(function* () {
      const prompt = yield* PromptLayerLangChainPrompt.get("story")
      assert.instanceOf(prompt, PromptTemplate)
      assert.sameMembers(prompt.inputVariables, ["hero", "thing"])
      const formatted = yield* Effect.promise(() => prompt.format({ hero: "a fox", thing: "crow" }))
      assert.strictEqual(formatted, "Once upon a time, a fox met a crow.")
    }).pipe(Effect.provide(registry().layer))
  )

  it.effect("pipes into a chat model: the model receives the formatted messages", () =>
    Effect.gen(function* () {
      const prompt = yield* PromptLayerLangChainPrompt.get("example")
      const model = new FakeListChatModel({ responses: ["Acme"] })
      const seen: Array<Array<string>> = []
      const answer = yield* Effect.promise(() =>
        prompt.pipe(model).invoke(
          { product: "toasters", history: [] },
          {
            callbacks: [
              {
                handleChatModelStart: (_llm, messages) => {
                  seen.push(messages[0]!.map((message) => String(message.content)))
                }
              }
            ]
          }
        )
      )
      assert.strictEqual(answer.content, "Acme")
      assert.deepStrictEqual(seen, [
        ["You sell toasters. Answer in {JSON}.", "Name one toasters brand.", "Sure, about toasters:"]
      ])
    }).pipe(Effect.provide(registry().layer))
  )

  it.effect("jinja2 without input_variables fails with a ValidationError that says what to do", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(PromptLayerLangChainPrompt.get("jinja"))
      assert.instanceOf(error, PromptLayerError.ValidationError)
      assert.include(error.message, "jinja2")
      assert.include(error.message, "input_variables")
      const completionError = yield* Effect.flip(PromptLayerLangChainPrompt.get("jinja-completion"))
      assert.strictEqual(completionError._tag, "ValidationError")
    }).pipe(Effect.provide(registry().layer))
  )

  it.effect("jinja2 with input_variables is rendered server-side: no variables left, braces kept literally", () =>
    Effect.gen(function* () {
      const prompt = yield* PromptLayerLangChainPrompt.get("jinja", {
        input_variables: { persona: "a pirate {arr}", topic: "ships" }
      })
      assert.instanceOf(prompt, ChatPromptTemplate)
      assert.deepStrictEqual(prompt.inputVariables, [])
      const messages = yield* Effect.promise(() => prompt.formatMessages({}))
      assert.deepStrictEqual(
        messages.map((message) => [message.getType(), message.content]),
        [
          ["system", "Speak like a pirate {arr}."],
          ["human", "Tell me about ships."]
        ]
      )
      const story = yield* PromptLayerLangChainPrompt.get("jinja-completion", {
        input_variables: { n: 2, topic: "the sea" }
      })
      assert.instanceOf(story, PromptTemplate)
      assert.strictEqual(yield* Effect.promise(() => story.format({})), "Write 2 lines on the sea.")
      // FakeLLM answers with the prompt it received
      const llm = new FakeLLM({})
      assert.strictEqual(yield* Effect.promise(() => story.pipe(llm).invoke({})), "Write 2 lines on the sea.")
    }).pipe(Effect.provide(registry().layer))
  )

  it.effect("a missing input variable is the server's error, not a half-rendered prompt", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(PromptLayerLangChainPrompt.get("jinja", { input_variables: { persona: "x" } }))
      assert.strictEqual(error._tag, "InvalidRequestError")
    }).pipe(Effect.provide(registry().layer))
  )

  it.effect("fromTemplate rejects what a LangChain prompt cannot hold", () =>
    Effect.gen(function* () {
      const tool = yield* Effect.flip(
        PromptLayerLangChainPrompt.fromTemplate({
          prompt_name: "t",
          prompt_template: { type: "chat", messages: [{ role: "tool", content: text("42"), tool_call_id: "c1" }] }
        })
      )
      assert.include(tool.message, "tool messages cannot be part of a LangChain prompt template")
      const media = yield* Effect.flip(
        PromptLayerLangChainPrompt.fromTemplate({
          prompt_name: "m",
          prompt_template: { type: "completion", content: [{ type: "media", media: {} }] }
        })
      )
      assert.include(media.message, 'content blocks of type "media" are not supported')
      const format = yield* Effect.flip(
        PromptLayerLangChainPrompt.fromTemplate({
          prompt_name: "f",
          prompt_template: { type: "completion", content: text("{x}"), template_format: "mustache" }
        })
      )
      assert.include(format.message, 'unsupported template format "mustache"')
      const broken = yield* Effect.flip(
        PromptLayerLangChainPrompt.fromTemplate({
          prompt_name: "b",
          prompt_template: { type: "completion", content: text("unclosed {x") }
        })
      )
      assert.include(broken.message, "LangChain rejected the template")
    })
  )

  it.effect("image_url blocks become image parts of the message template", () =>
    Effect.gen(function* () {
      const prompt = yield* PromptLayerLangChainPrompt.fromTemplate({
        prompt_name: "vision",
        prompt_template: {
          type: "chat",
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "What is in {what}?" },
                { type: "image_url", image_url: { url: "{url}" } }
              ]
            }
          ]
        }
      })
      assert.instanceOf(prompt, ChatPromptTemplate)
      const [message] = yield* Effect.promise(() =>
        prompt.formatMessages({ what: "this picture", url: "https://example.com/a.png" })
      )
      assert.deepStrictEqual(message?.content, [
        { type: "text", text: "What is in this picture?" },
        { type: "image_url", image_url: { url: "https://example.com/a.png" } }
      ])
    })
  )
})

describe("templates.get(name, { langchain: true }) (Promise bridge)", () => {
  it("returns a ChatPromptTemplate for chat templates and a PromptTemplate for completion ones", async () => {
    const promptlayer = new PromptLayer({ layer: registry().layer })
    try {
      const prompt = await promptlayer.templates.get("example", { version: 1, langchain: true })
      assert.instanceOf(prompt, ChatPromptTemplate)
      const messages = await prompt.formatMessages({ product: "toasters", history: [] })
      assert.instanceOf(messages[0], SystemMessage)
      assert.strictEqual(messages[0]?.content, "You sell toasters. Answer in {JSON}.")
      const story = await promptlayer.templates.get("story", { langchain: true })
      assert.instanceOf(story, PromptTemplate)
      assert.strictEqual(await story.format({ hero: "Ada", thing: "engine" }), "Once upon a time, Ada met a engine.")
      const raw = await promptlayer.templates.get("story")
      assert.strictEqual(raw.prompt_template.type, "completion")
      const error = await promptlayer.templates.get("jinja", { langchain: true }).catch((e: unknown) => e)
      assert.instanceOf(error, PromptLayerError.ValidationError)
    } finally {
      await promptlayer.close()
    }
  })
})

describe("a template rendered server-side, logged by the handler over the emulator", () => {
  it("jinja2 with input_variables: the logged prompt link keeps the variables it was rendered with", async () => {
    const emulator = await startEmulator({ port: 0 })
    const promptlayer = new PromptLayer({ apiKey: emulator.apiKey, baseURL: emulator.url })
    const handler = new PromptLayerCallbackHandler({ apiKey: emulator.apiKey, baseURL: emulator.url })
    try {
      await promptlayer.templates.publish({ prompt_name: "jinja", prompt_template: jinja })
      const variables = { persona: "a pirate", topic: "ships" }
      const prompt = await promptlayer.templates.get("jinja", { input_variables: variables, langchain: true })
      assert.instanceOf(prompt, ChatPromptTemplate)
      const model = new FakeListChatModel({ responses: ["Arr, ships!"] })
      await (prompt as ChatPromptTemplate).pipe(model).invoke({}, { callbacks: [handler], tags: ["jinja-link"] })
      await handler.flush()
      const logged = emulator.store.requests().find((request) => request.tags.includes("jinja-link"))
      assert.isDefined(logged)
      assert.strictEqual(logged!.body.prompt_name, "jinja")
      assert.deepStrictEqual(logged!.body.prompt_input_variables, variables)
      assert.deepStrictEqual(logged!.prompt?.input_variables, variables)
      assert.deepStrictEqual(logged!.input?.type === "chat" ? logged!.input.messages.map((m) => m.content) : [], [
        text("Speak like a pirate."),
        text("Tell me about ships.")
      ])
    } finally {
      await handler.shutdown()
      await promptlayer.close()
      await emulator.close()
    }
  })
})

describe("@langchain/core is an optional peer", () => {
  it("the root, promise and testing entries load without it; langchain: true then fails clearly", () => {
    const dir = tmpdir()
    const hook = join(dir, `pl-no-langchain-hook-${process.pid}.mjs`)
    const register = join(dir, `pl-no-langchain-${process.pid}.mjs`)
    writeFileSync(
      hook,
      `export async function resolve(specifier, context, next) {
  if (specifier.startsWith("@langchain/")) {
    const error = new Error("Cannot find package '" + specifier + "' (hidden by the test)")
    error.code = "ERR_MODULE_NOT_FOUND"
    throw error
  }
  return next(specifier, context)
}
`
    )
    writeFileSync(register, `import { register } from "node:module"\nregister(${JSON.stringify(`file://${hook}`)})\n`)
    const root = fileURLToPath(new URL("..", import.meta.url))
    const script = `
      const index = await import("./src/index.ts")
      const testing = await import("./src/testing.ts")
      const { PromptLayer } = await import("./src/promise.ts")
      let hidden = "no"
      try { await import("@langchain/core/prompts") } catch { hidden = "yes" }
      const promptlayer = new PromptLayer({ layer: testing.PromptLayerTest.make().layer })
      const error = await promptlayer.templates.get("x", { langchain: true }).catch((e) => e)
      await promptlayer.close()
      console.log(JSON.stringify({ root: typeof index.PromptLayerClient.layerFetch, hidden, message: error.message }))
    `
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", "--import", register, "--input-type=module", "-e", script],
      { cwd: root, encoding: "utf8", timeout: 30_000 }
    )
    assert.strictEqual(result.status, 0, result.stderr)
    const output = JSON.parse(result.stdout.trim().split("\n").pop()!)
    assert.strictEqual(output.root, "object")
    assert.strictEqual(output.hidden, "yes")
    assert.include(output.message, "needs the optional peer dependency @langchain/core")
  })
})

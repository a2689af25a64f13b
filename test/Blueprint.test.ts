import { assert, describe, it } from "@effect/vitest"
import { AIMessage, HumanMessage } from "@langchain/core/messages"
import * as Blueprint from "../src/internal/blueprint.js"
import { loadReferenceJson } from "./support/reference.js"

const run = (overrides: Partial<Blueprint.RunStart> = {}): Blueprint.RunStart => ({
  kind: "chat",
  runId: "r",
  parentRunId: undefined,
  input: [new HumanMessage("hi")],
  invocationParams: {},
  tags: [],
  metadata: {},
  runName: undefined,
  serializedId: ["langchain", "chat_models", "x", "ChatX"],
  batchSize: 1,
  startedAt: 1_000,
  promptIndex: undefined,
  ...overrides
})

const end = (message: AIMessage): Blueprint.RunEnd => ({
  _tag: "end",
  endedAt: 2_000,
  firstTokenAt: undefined,
  generations: [{ text: "", message }],
  llmOutput: undefined,
  cached: false
})

const pdf = "JVBERi0xLjQK"

interface JsonSchema {
  readonly $ref?: string
  readonly type?: string
  readonly const?: unknown
  readonly enum?: ReadonlyArray<unknown>
  readonly required?: ReadonlyArray<string>
  readonly properties?: Record<string, JsonSchema>
  readonly anyOf?: ReadonlyArray<JsonSchema>
}

const schemas = (
  loadReferenceJson("promptlayer-openapi.json") as { components: { schemas: Record<string, JsonSchema> } }
).components.schemas

/** Content block type → schema name, from the discriminator of a message's `content` items. */
const blockSchemas = (
  schemas.UserMessage as unknown as {
    properties: { content: { items: { discriminator: { mapping: Record<string, string> } } } }
  }
).properties.content.items.discriminator.mapping

/** The content block types PromptLayer documents. */
const documented: ReadonlySet<string> = new Set(Object.keys(blockSchemas))

/** The problems of `value` against `schema`: required keys, consts, enums, strings, nested objects. */
const problems = (value: unknown, schema: JsonSchema, at: string): Array<string> => {
  const resolved = schema.$ref !== undefined ? schemas[schema.$ref.split("/").pop()!]! : schema
  if (resolved.anyOf !== undefined) {
    return resolved.anyOf.some((s) => problems(value, s, at).length === 0) ? [] : [`${at}: matches no anyOf branch`]
  }
  if (resolved.const !== undefined && value !== resolved.const) return [`${at}: not ${String(resolved.const)}`]
  if (resolved.enum !== undefined && !resolved.enum.includes(value)) return [`${at}: ${String(value)} not in enum`]
  if (resolved.type === "string" && typeof value !== "string") return [`${at}: not a string`]
  if (resolved.type === "null" && value !== null) return [`${at}: not null`]
  if (resolved.type === "object" || resolved.properties !== undefined) {
    if (typeof value !== "object" || value === null) return [`${at}: not an object`]
    const record = value as Record<string, unknown>
    return [
      ...(resolved.required ?? []).flatMap((key) => (key in record ? [] : [`${at}.${key}: missing`])),
      ...Object.entries(resolved.properties ?? {}).flatMap(([key, s]) =>
        key in record ? problems(record[key], s, `${at}.${key}`) : []
      )
    ]
  }
  return []
}

/** Asserts that every block is of a documented type and valid against that type's schema. */
const assertDocumented = (blocks: ReadonlyArray<{ readonly type: string }>) => {
  for (const [i, block] of blocks.entries()) {
    const name = blockSchemas[block.type]
    assert.isDefined(name, `block ${i} has the undocumented type ${block.type}`)
    assert.deepStrictEqual(problems(block, { $ref: name! }, `block ${i}`), [])
  }
}

/** The types of the content blocks of a body, in order, after asserting that they are all valid for PromptLayer. */
const blockTypes = (body: ReturnType<typeof Blueprint.toLogRequest>): Array<string> => {
  const blocks = [body.input, body.output].flatMap((prompt) =>
    prompt.type === "chat" ? prompt.messages.flatMap((m) => m.content ?? []) : prompt.content
  )
  assertDocumented(blocks)
  return blocks.map((b) => b.type)
}

/** `Blueprint.contentBlocks`, asserting that every block it returns is valid for PromptLayer. */
const mapped = (content: unknown) => {
  const blocks = Blueprint.contentBlocks(content)
  assertDocumented(blocks)
  return blocks
}

describe("content blocks", () => {
  it("the schema check used below rejects what PromptLayer would (so that it proves something)", () => {
    const check = (block: { readonly type: string; readonly [key: string]: unknown }) =>
      problems(block, { $ref: blockSchemas[block.type]! }, "b")
    assert.deepStrictEqual(check({ type: "media", media: { title: "x", type: "application/pdf", format: "url" } }), [])
    assert.isNotEmpty(check({ type: "media", media: { format: "pdf" } }))
    assert.isNotEmpty(check({ type: "thinking", reasoning: "x" }))
    assert.isNotEmpty(check({ type: "image_url", image_url: {} }))
    assert.isUndefined(blockSchemas.file)
    assert.isUndefined(blockSchemas.reasoning)
  })

  it("LangChain v1 file blocks become media blocks (base64 as a data URL, url as is)", () => {
    assert.deepStrictEqual(
      mapped([
        { type: "file", data: pdf, mimeType: "application/pdf", metadata: { filename: "report.pdf" } },
        { type: "file", url: "https://x/y.pdf", mimeType: "application/pdf" },
        { type: "audio", data: new Uint8Array([1, 2, 3]), mimeType: "audio/wav" },
        { type: "video", url: "https://x/v.mp4" }
      ]),
      [
        {
          type: "media",
          media: {
            title: "report.pdf",
            type: "application/pdf",
            url: `data:application/pdf;base64,${pdf}`,
            format: "base64"
          }
        },
        { type: "media", media: { title: "file", type: "application/pdf", url: "https://x/y.pdf", format: "url" } },
        {
          type: "media",
          media: { title: "audio", type: "audio/wav", url: "data:audio/wav;base64,AQID", format: "base64" }
        },
        {
          type: "media",
          media: { title: "video", type: "application/octet-stream", url: "https://x/v.mp4", format: "url" }
        }
      ]
    )
  })

  it("v0 data blocks (source_type), OpenAI file / input_audio and Anthropic document blocks are mapped too", () => {
    assert.deepStrictEqual(
      mapped([
        { type: "file", source_type: "base64", data: pdf, mime_type: "application/pdf" },
        { type: "file", source_type: "text", text: "plain words" },
        { type: "image", source_type: "url", url: "https://x/i.png" },
        { type: "file", file: { filename: "a.pdf", file_data: `data:application/pdf;base64,${pdf}` } },
        { type: "input_audio", input_audio: { data: "AAAA", format: "mp3" } },
        { type: "document", source: { type: "base64", media_type: "application/pdf", data: pdf } },
        { type: "image", source: { type: "base64", media_type: "image/gif", data: "R0lG" } },
        { type: "image", data: "iVBO" },
        { type: "text-plain", text: "inline text file", mimeType: "text/plain" }
      ]),
      [
        {
          type: "media",
          media: { title: "file", type: "application/pdf", url: `data:application/pdf;base64,${pdf}`, format: "base64" }
        },
        { type: "text", text: "plain words" },
        { type: "image_url", image_url: { url: "https://x/i.png" } },
        {
          type: "media",
          media: {
            title: "a.pdf",
            type: "application/pdf",
            url: `data:application/pdf;base64,${pdf}`,
            format: "base64"
          }
        },
        {
          type: "media",
          media: { title: "input_audio", type: "audio/mp3", url: "data:audio/mp3;base64,AAAA", format: "base64" }
        },
        {
          type: "media",
          media: {
            title: "document",
            type: "application/pdf",
            url: `data:application/pdf;base64,${pdf}`,
            format: "base64"
          }
        },
        { type: "image_url", image_url: { url: "data:image/gif;base64,R0lG" } },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBO" } },
        { type: "text", text: "inline text file" }
      ]
    )
  })

  it("reasoning (v1, OpenAI Responses summaries, Bedrock) becomes thinking; empty reasoning is left out; refusals are text", () => {
    assert.deepStrictEqual(
      mapped([
        { type: "reasoning", reasoning: "First, 2+2.", id: "rs_1" },
        { type: "reasoning", reasoning: "Signed.", extras: { signature: "sig" } },
        { type: "thinking", thinking: "Hmm.", signature: "abc" },
        { type: "refusal", refusal: "I can't help with that." },
        {
          type: "reasoning",
          id: "rs_2",
          summary: [
            { type: "summary_text", text: "a" },
            { type: "summary_text", text: "b" }
          ]
        },
        { type: "reasoning_content", reasoningText: { text: "Bedrock.", signature: "s2" } },
        { type: "reasoning", id: "rs_3", summary: [], encrypted_content: "opaque" },
        { type: "text", text: "4", annotations: [{ type: "citation", url: "u" }] }
      ]),
      [
        { type: "thinking", thinking: "First, 2+2." },
        { type: "thinking", thinking: "Signed.", signature: "sig" },
        { type: "thinking", thinking: "Hmm.", signature: "abc" },
        { type: "text", text: "I can't help with that." },
        { type: "thinking", thinking: "a\n\nb" },
        { type: "thinking", thinking: "Bedrock.", signature: "s2" },
        { type: "text", text: "4" }
      ]
    )
  })

  it("a block that cannot be mapped becomes a text block describing it, never the raw block", () => {
    const blocks = mapped([
      { type: "file", fileId: "file-abc", mimeType: "application/pdf", metadata: { filename: "r.pdf" } },
      { type: "non_standard", value: { custom: true } },
      { type: "redacted_thinking", data: "opaque" },
      { type: "image_url" }
    ])
    assert.deepStrictEqual(
      blocks.map((b) => b.type),
      ["text", "text", "text", "text"]
    )
    assert.include(blocks[0]!.text as string, "file-abc")
    assert.include(blocks[0]!.text as string, "r.pdf")
    assert.include(blocks[1]!.text as string, "non_standard")
    assert.include(blocks[1]!.text as string, "custom")
    assert.include(blocks[2]!.text as string, "redacted_thinking")
  })

  it("the description of an unmapped block is bounded, however large the block", () => {
    const [block] = mapped([{ type: "custom_blob", payload: "x".repeat(100_000) }])
    assert.strictEqual(block!.type, "text")
    assert.isBelow((block!.text as string).length, 700)
  })
})

describe("toLogRequest with real LangChain messages", () => {
  it("a HumanMessage with standard file/image blocks and an AIMessage with reasoning: only documented block types", () => {
    const human = new HumanMessage({
      contentBlocks: [
        { type: "text", text: "Summarise this PDF and picture." },
        { type: "file", data: pdf, mimeType: "application/pdf" },
        { type: "image", url: "https://x/cat.png" }
      ]
    })
    const answer = new AIMessage({
      contentBlocks: [
        { type: "reasoning", reasoning: "The PDF is short." },
        { type: "text", text: "A short PDF and a cat." }
      ]
    })
    const body = Blueprint.toLogRequest(run({ input: [human] }), end(answer), [])
    const types = blockTypes(body)
    assert.deepStrictEqual(types, ["text", "media", "image_url", "thinking", "text"])
    for (const type of types) assert.isTrue(documented.has(type), `${type} is a documented block type`)
    assert.isUndefined(body.metadata?.langchain_unmapped_blocks)
  })

  it("unmapped blocks are counted, with their types, in metadata", () => {
    const human = new HumanMessage({
      content: [
        { type: "text", text: "see file" },
        { type: "file", fileId: "file-1" },
        { type: "file", fileId: "file-2" },
        { type: "mystery", x: 1 }
      ]
    })
    const body = Blueprint.toLogRequest(run({ input: [human] }), end(new AIMessage("ok")), [])
    for (const type of blockTypes(body)) assert.isTrue(documented.has(type), type)
    assert.strictEqual(body.metadata?.langchain_unmapped_blocks, "3")
    assert.strictEqual(body.metadata?.langchain_unmapped_block_types, "file,mystery")
  })
})

describe("metadata", () => {
  it("a Date is its ISO string, not a quoted JSON string; an invalid Date is left out", () => {
    const at = new Date("2026-01-02T03:04:05.000Z")
    const body = Blueprint.toLogRequest(
      run({ metadata: { at, url: new URL("https://x/y"), when: { at }, bad: new Date(Number.NaN) } }),
      end(new AIMessage("ok")),
      []
    )
    assert.strictEqual(body.metadata?.at, "2026-01-02T03:04:05.000Z")
    assert.strictEqual(body.metadata?.url, "https://x/y")
    assert.strictEqual(body.metadata?.when, '{"at":"2026-01-02T03:04:05.000Z"}')
    assert.isUndefined(body.metadata?.bad)
  })

  it("LangChain's ls_* and versions keys are not copied; they still give provider and model", () => {
    const body = Blueprint.toLogRequest(
      run({
        metadata: {
          ls_provider: "anthropic",
          ls_model_name: "claude-x",
          ls_model_type: "chat",
          ls_temperature: 0,
          versions: { "@langchain/core": "1.4.0" },
          team: "growth",
          lsat: "kept"
        }
      }),
      end(new AIMessage("ok")),
      []
    )
    assert.strictEqual(body.provider, "anthropic")
    assert.strictEqual(body.model, "claude-x")
    assert.strictEqual(body.metadata?.team, "growth")
    assert.strictEqual(body.metadata?.lsat, "kept")
    for (const key of Object.keys(body.metadata ?? {})) {
      assert.notMatch(key, /^ls_/)
      assert.notStrictEqual(key, "versions")
    }
  })
})

describe("blueprint conversion", () => {
  const text = (t: string) => [{ type: "text", text: t }]

  it("provider and model: invocation params, then ls_* metadata, then response metadata", () => {
    const message = new AIMessage({
      content: "x",
      response_metadata: { model_name: "from-response", model_provider: "resp-provider" }
    })
    const all = Blueprint.toLogRequest(
      run({
        invocationParams: { model: "from-params", temperature: 0.2, apiKey: "secret" },
        metadata: { ls_provider: "anthropic", ls_model_name: "from-metadata" }
      }),
      end(message),
      []
    )
    assert.strictEqual(all.model, "from-params")
    assert.strictEqual(all.provider, "anthropic")
    assert.deepStrictEqual(all.parameters, { temperature: 0.2 })
    const meta = Blueprint.toLogRequest(run({ metadata: { ls_model_name: "from-metadata" } }), end(message), [])
    assert.strictEqual(meta.model, "from-metadata")
    assert.strictEqual(meta.provider, "resp-provider")
    const response = Blueprint.toLogRequest(run(), end(message), [])
    assert.strictEqual(response.model, "from-response")
  })

  it("tokens from usage_metadata (with cache details) before llmOutput.tokenUsage", () => {
    const message = new AIMessage({
      content: "x",
      usage_metadata: {
        input_tokens: 30,
        output_tokens: 5,
        total_tokens: 35,
        input_token_details: { cache_read: 20 }
      }
    } as ConstructorParameters<typeof AIMessage>[0])
    const body = Blueprint.toLogRequest(
      run(),
      {
        ...(end(message) as Extract<Blueprint.RunEnd, { _tag: "end" }>),
        llmOutput: { tokenUsage: { promptTokens: 1 } }
      },
      []
    )
    assert.strictEqual(body.input_tokens, 30)
    assert.strictEqual(body.output_tokens, 5)
    assert.strictEqual(body.metadata?.input_tokens_cache_read, "20")
    const fallback = Blueprint.toLogRequest(
      run(),
      {
        ...(end(new AIMessage("x")) as Extract<Blueprint.RunEnd, { _tag: "end" }>),
        llmOutput: { tokenUsage: { promptTokens: 7, completionTokens: 2 } }
      },
      []
    )
    assert.strictEqual(fallback.input_tokens, 7)
    assert.strictEqual(fallback.output_tokens, 2)
  })

  it("error types: rate limit, quota, timeout, auth, else provider error", () => {
    assert.strictEqual(
      Blueprint.errorTypeOf(Object.assign(new Error("slow down"), { status: 429 })),
      "PROVIDER_RATE_LIMIT"
    )
    assert.strictEqual(Blueprint.errorTypeOf(new Error("You exceeded your current quota")), "PROVIDER_QUOTA_LIMIT")
    assert.strictEqual(
      Blueprint.errorTypeOf(Object.assign(new Error("x"), { name: "TimeoutError" })),
      "PROVIDER_TIMEOUT"
    )
    assert.strictEqual(Blueprint.errorTypeOf(new Error("Request timed out.")), "PROVIDER_TIMEOUT")
    assert.strictEqual(Blueprint.errorTypeOf(Object.assign(new Error("no"), { status: 401 })), "PROVIDER_AUTH_ERROR")
    assert.strictEqual(Blueprint.errorTypeOf(new Error("Incorrect API key provided")), "PROVIDER_AUTH_ERROR")
    assert.strictEqual(Blueprint.errorTypeOf(new Error("boom")), "PROVIDER_ERROR")
    assert.strictEqual(Blueprint.errorTypeOf("weird"), "PROVIDER_ERROR")
  })

  it("content blocks: strings, images, tool-use blocks left to tool_calls", () => {
    assert.deepStrictEqual(Blueprint.contentBlocks("hi"), text("hi"))
    assert.deepStrictEqual(Blueprint.contentBlocks(""), [])
    assert.deepStrictEqual(
      Blueprint.contentBlocks([
        { type: "text", text: "look" },
        { type: "image_url", image_url: { url: "https://x/y.png" } },
        { type: "image", data: "AAAA", mimeType: "image/jpeg" },
        { type: "tool_use", id: "t", name: "f", input: {} }
      ]),
      [
        { type: "text", text: "look" },
        { type: "image_url", image_url: { url: "https://x/y.png" } },
        { type: "image_url", image_url: { url: "data:image/jpeg;base64,AAAA" } }
      ]
    )
  })
})

/**
 * Where the examples run. By default everything is local and in-process: the embedded PromptLayer
 * emulator (with the `example` template seeded in its registry) and an OpenAI-compatible stub
 * server for `ChatOpenAI` / `OpenAI`, so no key and no network is needed. With
 * `PROMPTLAYER_API_KEY` set, the examples log to the real PromptLayer instead
 * (`PROMPTLAYER_BASE_URL` optional); with `OPENAI_API_KEY` set, they call the real OpenAI.
 */
import { ChatOpenAI, OpenAI } from "@langchain/openai"
import { type PromptLayerEmulator, startEmulator } from "promptlayer-effect/emulator"
import type { PromptLayerSchema } from "promptlayer-effect"
import { type OpenAIStub, startOpenAIStub } from "./openaiStub.js"

/** What PromptLayer recorded for a request, as the emulator's read API shows it. */
export type Recorded = PromptLayerEmulator.StoredRequest

/** The chat template the emulator's registry starts with, as `example` version 1. */
export const exampleTemplate: PromptLayerSchema.PublishTemplateInput = {
  prompt_name: "example",
  prompt_template: {
    type: "chat",
    input_variables: ["product"],
    messages: [
      {
        role: "system",
        content: [{ type: "text", text: "You are a helpful assistant." }],
        input_variables: [],
        template_format: "f-string"
      },
      {
        role: "user",
        content: [{ type: "text", text: "What is a good name for a company that makes {product}?" }],
        input_variables: ["product"],
        template_format: "f-string"
      }
    ]
  },
  commit_message: "The example template of the LangChain integration guide",
  metadata: { model: { provider: "openai", name: "gpt-4o-mini", parameters: { temperature: 0 } } }
}

/** Options of {@link setup}. */
export interface SetupOptions {
  /**
   * `"env"` (default): the real PromptLayer when `PROMPTLAYER_API_KEY` is set, else the embedded
   * emulator. `"local"`: always the embedded emulator.
   */
  readonly promptLayer?: "env" | "local" | undefined
  /**
   * `"env"` (default): the real OpenAI when `OPENAI_API_KEY` is set, else the local stub.
   * `"stub"`: always the local stub.
   */
  readonly openai?: "env" | "stub" | undefined
  /** Port of the embedded emulator; default 0 (any free port). */
  readonly port?: number | undefined
}

/** A running environment; `close()` stops whatever it started. */
export interface Environment {
  /** Whether PromptLayer is the embedded emulator (its read API is available). */
  readonly local: boolean
  /** PromptLayer's base URL (the emulator's when local). */
  readonly baseURL: string
  /** PromptLayer's API key (the emulator's when local). */
  readonly apiKey: string
  /** `{ apiKey, baseURL }`, to spread into `new PromptLayerCallbackHandler(...)` or `new PromptLayer(...)`. */
  readonly promptLayer: { readonly apiKey: string; readonly baseURL: string }
  /** The OpenAI endpoint the models call: the local stub, or the real OpenAI. */
  readonly openai: "stub" | "openai"
  /** The embedded emulator, when local. */
  readonly emulator: PromptLayerEmulator.StartedEmulator | undefined
  /** The local OpenAI-compatible stub (it keeps the requests it received), unless OpenAI is real. */
  readonly stub: OpenAIStub | undefined
  /** A `ChatOpenAI` (default model `gpt-4o-mini`) on the stub or the real OpenAI. */
  readonly chatModel: (fields?: ChatOpenAIFields) => ChatOpenAI
  /** An `OpenAI` completion model (default `gpt-3.5-turbo-instruct`) on the stub or the real OpenAI. */
  readonly llm: (fields?: OpenAIFields) => OpenAI
  /** What PromptLayer recorded for a request (emulator read API); `undefined` against the real PromptLayer. */
  readonly recorded: (requestId: number) => Promise<Recorded | undefined>
  /** Stops the emulator and the stub if this environment started them. Idempotent. */
  readonly close: () => Promise<void>
}

/** The constructor fields of `ChatOpenAI`. */
export type ChatOpenAIFields = NonNullable<ConstructorParameters<typeof ChatOpenAI>[0]>

/** The constructor fields of `OpenAI`. */
export type OpenAIFields = NonNullable<ConstructorParameters<typeof OpenAI>[0]>

const env = (name: string): string | undefined => {
  const value = process.env[name]
  return value === undefined || value.trim() === "" ? undefined : value
}

/**
 * Starts what the examples need: the emulator (unless PromptLayer is real) and the OpenAI stub
 * (unless OpenAI is real). Local servers listen on 127.0.0.1, on any free port.
 */
export const setup = async (options: SetupOptions = {}): Promise<Environment> => {
  const promptLayerKey = options.promptLayer === "local" ? undefined : env("PROMPTLAYER_API_KEY")
  const openaiKey = options.openai === "stub" ? undefined : env("OPENAI_API_KEY")

  const emulator =
    promptLayerKey === undefined
      ? await startEmulator({ port: options.port ?? 0, templates: [exampleTemplate] })
      : undefined
  let stub: OpenAIStub | undefined
  try {
    stub = openaiKey === undefined ? await startOpenAIStub() : undefined
  } catch (error) {
    await emulator?.close()
    throw error
  }

  const apiKey = emulator?.apiKey ?? (promptLayerKey as string)
  const baseURL = emulator?.url ?? env("PROMPTLAYER_BASE_URL") ?? "https://api.promptlayer.com"
  // The stub accepts any key; `maxRetries: 0` so that a broken stub fails at once.
  const openaiOptions =
    stub === undefined
      ? { apiKey: openaiKey }
      : { apiKey: "sk-local-stub", configuration: { baseURL: stub.url }, maxRetries: 0 }

  let closing: Promise<void> | undefined
  return {
    local: emulator !== undefined,
    baseURL,
    apiKey,
    promptLayer: { apiKey, baseURL },
    openai: stub === undefined ? "openai" : "stub",
    emulator,
    stub,
    chatModel: (fields = {}) => new ChatOpenAI({ model: "gpt-4o-mini", temperature: 0, ...openaiOptions, ...fields }),
    llm: (fields = {}) => new OpenAI({ model: "gpt-3.5-turbo-instruct", temperature: 0, ...openaiOptions, ...fields }),
    recorded: async (requestId) => {
      if (emulator === undefined) return undefined
      const response = await fetch(`${emulator.url}/emulator/requests/${requestId}`)
      if (response.status === 404) return undefined
      if (!response.ok) throw new Error(`emulator read API: HTTP ${response.status} for request ${requestId}`)
      return (await response.json()) as Recorded
    },
    close: () => {
      closing ??= Promise.all([stub?.close(), emulator?.close()]).then(() => undefined)
      return closing
    }
  }
}

/**
 * Templates of the PromptLayer registry as LangChain.js prompts: a chat template becomes a
 * `ChatPromptTemplate`, a completion template a `PromptTemplate`, ready to `.format()` or to pipe
 * into a model. Needs the optional peer dependency `@langchain/core`; import it from
 * `promptlayer-effect/langchain`.
 *
 * **Template formats.**
 * - `f-string` (PromptLayer's default) maps directly: `{name}` is a LangChain variable and `{{` /
 *   `}}` are literal braces in both.
 * - `jinja2` cannot be rendered by LangChain.js. Pass `input_variables` and PromptLayer renders the
 *   template server-side; you get a prompt with no variables left. Without `input_variables`, a
 *   jinja2 template fails with a `ValidationError` that says so.
 * - Whenever `input_variables` are passed (whatever the format) the template comes back rendered,
 *   and its text is kept literally (braces in the rendered values are escaped, not read as
 *   variables).
 *
 * The prompt's `metadata` names the template (`promptlayer_prompt_name`, `promptlayer_prompt_id`,
 * `promptlayer_prompt_version`, `promptlayer_prompt_label`): the `PromptLayerCallbackHandler` reads
 * these keys and links the logged request to the registry template with its input variables.
 *
 * Messages: `system` and `developer` → system, `user` → human, `assistant` → AI, `placeholder` →
 * an optional `MessagesPlaceholder` named after the message's `name`; text and `image_url` content
 * blocks. Tool, function and tool-calling messages are rejected with a `ValidationError`, as they
 * cannot be templated in LangChain.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PromptLayerClient } from "promptlayer-effect"
 * import { PromptLayerLangChainPrompt } from "promptlayer-effect/langchain"
 *
 * const program = Effect.gen(function*() {
 *   const prompt = yield* PromptLayerLangChainPrompt.get("example", { version: 1 })
 *   return yield* Effect.promise(() => prompt.format({ product: "toasters" }))
 * }).pipe(Effect.provide(PromptLayerClient.layerFetch))
 * ```
 *
 * @since 0.1.0
 */
import {
  AIMessagePromptTemplate,
  ChatPromptTemplate,
  HumanMessagePromptTemplate,
  MessagesPlaceholder,
  PromptTemplate,
  SystemMessagePromptTemplate
} from "@langchain/core/prompts"
import * as Effect from "effect/Effect"
import { PromptLayerClient, type Service } from "./PromptLayerClient.js"
import { type PromptLayerError, ValidationError } from "./PromptLayerError.js"
import type * as S from "./PromptLayerSchema.js"
import type { Soft } from "./PromptLayerPromise.js"

/**
 * What a registry template becomes: a `ChatPromptTemplate` (chat) or a `PromptTemplate`
 * (completion).
 *
 * @since 0.1.0
 * @category Models
 */
export type LangChainPrompt = ChatPromptTemplate | PromptTemplate

// The Promise bridge's `templates.get(name, { langchain: true })` overload lives here, not in
// PromptLayerPromise.ts, so that only code importing this module (promptlayer-effect/langchain)
// needs the types of @langchain/core.
declare module "./PromptLayerPromise.js" {
  interface TemplatesGet<ThrowOnError extends boolean> {
    // biome-ignore lint/style/useShorthandFunctionType: merged into PromptLayerPromise's interface as an added overload
    (
      name: string | number,
      params: GetTemplateOptions & { readonly langchain: true }
    ): Promise<LangChainPrompt | Soft<ThrowOnError, null>>
  }
}

/**
 * Options of {@link fromTemplate}.
 *
 * @since 0.1.0
 * @category Models
 */
export interface FromTemplateOptions {
  /**
   * The template's text was rendered by PromptLayer (it was fetched with `input_variables`): keep
   * it literally, with no variables.
   */
  readonly rendered?: boolean | undefined
  /** The release label the template was fetched by, kept in the prompt's metadata. */
  readonly label?: string | undefined
}

type ContentBlock = typeof S.ContentBlock.Type
type Message = typeof S.Message.Type
type TemplateItem = string | { readonly text: string } | { readonly image_url: { readonly url: string } }

const escapeBraces = (text: string): string => text.replace(/[{}]/g, (brace) => brace + brace)

/**
 * Converts a template of the registry (as returned by `templates.get`) to a LangChain prompt.
 * Fails with a `ValidationError` for a jinja2 template that was not rendered server-side, and for
 * messages or content that LangChain prompts cannot hold.
 *
 * @since 0.1.0
 * @category Conversions
 */
export const fromTemplate = (
  template: Pick<S.GetTemplateResponse, "prompt_name" | "prompt_template"> &
    Partial<Pick<S.GetTemplateResponse, "id" | "version">>,
  options: FromTemplateOptions = {}
): Effect.Effect<LangChainPrompt, ValidationError> =>
  Effect.suspend((): Effect.Effect<LangChainPrompt, ValidationError> => {
    const operation = `PromptLayerLangChainPrompt.fromTemplate(${JSON.stringify(template.prompt_name)})`
    const fail = (issue: string): Effect.Effect<never, ValidationError> =>
      Effect.fail(new ValidationError({ operation, issue }))
    const rendered = options.rendered === true
    const prompt = template.prompt_template

    const checkFormat = (format: string | undefined, where: string) => {
      const name = format ?? "f-string"
      if (rendered || name === "f-string") return undefined
      if (name === "jinja2") {
        return `${where} is a jinja2 template, which LangChain.js cannot render. Pass input_variables to have PromptLayer render it server-side (templates.get(name, { input_variables: { ... }, langchain: true })), or publish it as an f-string template.`
      }
      return `${where} has the unsupported template format ${JSON.stringify(name)} (f-string and jinja2 are supported)`
    }

    const itemsOf = (blocks: ReadonlyArray<ContentBlock>, where: string): Array<TemplateItem> | string => {
      const items: Array<TemplateItem> = []
      for (const block of blocks) {
        if (block.type === "text" && typeof block.text === "string") {
          items.push({ text: rendered ? escapeBraces(block.text) : block.text })
        } else if (block.type === "image_url") {
          const image = block.image_url as { url?: unknown } | string | undefined
          const url = typeof image === "string" ? image : image?.url
          if (typeof url !== "string") return `${where}: an image_url block without a url`
          items.push({ image_url: { url: rendered ? escapeBraces(url) : url } })
        } else {
          return `${where}: content blocks of type ${JSON.stringify(block.type)} are not supported in LangChain prompts`
        }
      }
      return items
    }

    const build = <A>(thunk: () => A) =>
      Effect.try({
        try: thunk,
        catch: (error) =>
          new ValidationError({
            operation,
            issue: `LangChain rejected the template: ${error instanceof Error ? error.message : String(error)}`
          })
      })

    const withMetadata = <P extends LangChainPrompt>(result: P): P => {
      result.metadata = {
        ...result.metadata,
        promptlayer_prompt_name: template.prompt_name,
        ...(template.id === undefined ? {} : { promptlayer_prompt_id: template.id }),
        ...(template.version === undefined || template.version === null
          ? {}
          : { promptlayer_prompt_version: template.version }),
        ...(options.label === undefined ? {} : { promptlayer_prompt_label: options.label })
      }
      return result
    }

    if (prompt.type === "completion") {
      const problem = checkFormat(prompt.template_format, "the completion template")
      if (problem !== undefined) return fail(problem)
      const items = itemsOf(prompt.content, "the completion template")
      if (typeof items === "string") return fail(items)
      if (items.some((item) => typeof item !== "string" && "image_url" in item)) {
        return fail("the completion template: image content is only supported in chat templates")
      }
      const text = items.map((item) => (typeof item === "string" ? item : "text" in item ? item.text : "")).join("")
      return Effect.map(
        build(() => PromptTemplate.fromTemplate(text)),
        (result) => withMetadata(result as PromptTemplate)
      )
    }

    const thunks: Array<
      () => MessagesPlaceholder | SystemMessagePromptTemplate | HumanMessagePromptTemplate | AIMessagePromptTemplate
    > = []
    for (const [index, message] of prompt.messages.entries()) {
      const where = `message ${index + 1} (${message.role})`
      const problem = checkMessage(message, where) ?? checkFormat(message.template_format, where)
      if (problem !== undefined) return fail(problem)
      if (message.role === "placeholder") {
        const name = message.name
        if (typeof name !== "string" || name === "") return fail(`${where}: a placeholder message needs a name`)
        thunks.push(() => new MessagesPlaceholder({ variableName: name, optional: true }))
        continue
      }
      const items = itemsOf(message.content ?? [], where)
      if (typeof items === "string") return fail(items)
      const single = items.length === 1 && typeof items[0] !== "string" && "text" in items[0]
      const content: string | Array<TemplateItem> = single ? (items[0] as { text: string }).text : items
      const Template =
        message.role === "user"
          ? HumanMessagePromptTemplate
          : message.role === "assistant"
            ? AIMessagePromptTemplate
            : SystemMessagePromptTemplate
      thunks.push(() => Template.fromTemplate(content as never))
    }
    return build(() => ChatPromptTemplate.fromMessages(thunks.map((thunk) => thunk()))).pipe(Effect.map(withMetadata))
  })

const supportedRoles: ReadonlySet<string> = new Set(["system", "developer", "user", "assistant", "placeholder"])

const checkMessage = (message: Message, where: string): string | undefined => {
  if (!supportedRoles.has(message.role)) {
    return `${where}: ${message.role} messages cannot be part of a LangChain prompt template (supported roles: system, developer, user, assistant, placeholder)`
  }
  if (message.tool_calls !== undefined && message.tool_calls !== null && message.tool_calls.length > 0) {
    return `${where}: assistant messages with tool calls cannot be part of a LangChain prompt template`
  }
  return undefined
}

/**
 * Fetches a template from the registry with `client.templates.get` and converts it with
 * {@link fromTemplate}. With `input_variables`, PromptLayer renders the template (f-string or
 * jinja2) and the prompt has no variables left; its metadata `promptlayer_prompt_input_variables`
 * keeps them, so that the `PromptLayerCallbackHandler` logs them with the template link.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const getWith = (
  client: Service,
  identifier: string | number,
  params: S.GetTemplateParams = {}
): Effect.Effect<LangChainPrompt, PromptLayerError> =>
  Effect.flatMap(client.templates.get(identifier, params), (template) => {
    const rendered = params.input_variables !== undefined && params.skip_input_variable_rendering !== true
    return Effect.map(fromTemplate(template, { rendered, label: params.label }), (prompt) => {
      // A rendered prompt has no variables left, so its run's inputs are empty: keep the variables
      // it was rendered with for the log's prompt link.
      if (rendered) {
        prompt.metadata = { ...prompt.metadata, promptlayer_prompt_input_variables: { ...params.input_variables } }
      }
      return prompt
    })
  }).pipe(Effect.withSpan("PromptLayerLangChainPrompt.get", { attributes: { "promptlayer.template": identifier } }))

/**
 * {@link getWith} on the `PromptLayerClient` of the context.
 *
 * @example
 * ```ts
 * const prompt = yield* PromptLayerLangChainPrompt.get("example", { label: "prod" })
 * const chain = prompt.pipe(model)
 * ```
 *
 * @since 0.1.0
 * @category Constructors
 */
export const get = (
  identifier: string | number,
  params: S.GetTemplateParams = {}
): Effect.Effect<LangChainPrompt, PromptLayerError, PromptLayerClient> =>
  Effect.flatMap(PromptLayerClient, (client) => getWith(client, identifier, params))

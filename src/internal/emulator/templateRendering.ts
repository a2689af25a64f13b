/**
 * Prompt-template rendering as the real server does it: f-string and jinja2 variables, the
 * defaults filled in at publish, rendering for `input_variables`, and `llm_kwargs`.
 */
import { clone, isRecord, own } from "./records.js"

/** Variables named by an f-string template (`{var}`; `{{` and `}}` are literal braces). */
export const fstringVariables = (text: string): Array<string> => {
  const names: Array<string> = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === "{") {
      if (text[i + 1] === "{") {
        i++
        continue
      }
      const end = text.indexOf("}", i + 1)
      if (end === -1) break
      const name = text.slice(i + 1, end).trim()
      if (name !== "" && !names.includes(name)) names.push(name)
      i = end
    } else if (c === "}" && text[i + 1] === "}") i++
  }
  return names
}

const JINJA_VAR = /\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|[^}]*)?\}\}/g

/** Variables named by a jinja2 template (`{{ var }}`). */
export const jinjaVariables = (text: string): Array<string> => {
  const names: Array<string> = []
  for (const match of text.matchAll(JINJA_VAR)) {
    const name = match[1]!.split(".")[0]!
    if (!names.includes(name)) names.push(name)
  }
  return names
}

const show = (value: unknown): string =>
  typeof value === "string" ? value : value === null || value === undefined ? "" : JSON.stringify(value)

/** `text` with its variables (f-string, or jinja2 when `format` is `jinja2`) filled from `vars`; the names not found are added to `missing` and left as written. */
export const renderText = (
  text: string,
  format: string,
  vars: Record<string, unknown>,
  missing: Set<string>
): string => {
  if (format === "jinja2") {
    return text.replace(JINJA_VAR, (whole, path: string) => {
      const [head, ...rest] = path.split(".")
      if (!Object.hasOwn(vars, head!)) {
        missing.add(head!)
        return whole
      }
      let value: unknown = vars[head!]
      for (const key of rest) value = isRecord(value) ? own(value, key) : undefined
      return show(value)
    })
  }
  let out = ""
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === "{") {
      if (text[i + 1] === "{") {
        out += "{"
        i++
        continue
      }
      const end = text.indexOf("}", i + 1)
      if (end === -1) {
        out += text.slice(i)
        break
      }
      const name = text.slice(i + 1, end).trim()
      if (Object.hasOwn(vars, name)) out += show(vars[name])
      else {
        missing.add(name)
        out += text.slice(i, end + 1)
      }
      i = end
    } else if (c === "}" && text[i + 1] === "}") {
      out += "}"
      i++
    } else out += c
  }
  return out
}

const variablesOf = (text: string, format: string) =>
  format === "jinja2" ? jinjaVariables(text) : fstringVariables(text)

const blockTexts = (content: unknown): Array<string> =>
  Array.isArray(content) ? content.flatMap((b) => (isRecord(b) && typeof b.text === "string" ? [b.text] : [])) : []

/** Fills the defaults the real server adds to a published template, and its `input_variables`. */
export const normalizeTemplate = (template: Record<string, unknown>): Record<string, unknown> => {
  const t = clone(template)
  const all: Array<string> = []
  const add = (names: ReadonlyArray<string>) => {
    for (const n of names) if (!all.includes(n)) all.push(n)
  }
  if (t.type === "chat" && Array.isArray(t.messages)) {
    t.messages = t.messages.map((m) => {
      if (!isRecord(m)) return m
      const format = typeof m.template_format === "string" ? m.template_format : "f-string"
      const names = blockTexts(m.content).flatMap((text) => variablesOf(text, format))
      add(names)
      return {
        input_variables: [...new Set(names)],
        template_format: format,
        raw_request_display_role: "",
        dataset_examples: [],
        name: null,
        ...m,
        ...(Array.isArray(m.input_variables) && m.input_variables.length > 0
          ? {}
          : { input_variables: [...new Set(names)] })
      }
    })
    return {
      functions: null,
      tools: null,
      function_call: null,
      tool_choice: null,
      dataset_examples: [],
      ...t,
      input_variables: all
    }
  }
  const format = typeof t.template_format === "string" ? t.template_format : "f-string"
  add(blockTexts(t.content).flatMap((text) => variablesOf(text, format)))
  return { template_format: format, ...t, input_variables: all }
}

/** A copy of the template with its f-string / jinja2 variables filled from `vars`; the names not found are added to `missing`. */
export const render = (template: Record<string, unknown>, vars: Record<string, unknown>, missing: Set<string>) => {
  const t = clone(template)
  const renderBlocks = (content: unknown, format: string) =>
    Array.isArray(content)
      ? content.map((b) =>
          isRecord(b) && typeof b.text === "string" ? { ...b, text: renderText(b.text, format, vars, missing) } : b
        )
      : content
  if (Array.isArray(t.messages)) {
    t.messages = t.messages.map((m) =>
      isRecord(m)
        ? {
            ...m,
            content: renderBlocks(m.content, typeof m.template_format === "string" ? m.template_format : "f-string")
          }
        : m
    )
  } else if (Array.isArray(t.content)) {
    t.content = renderBlocks(t.content, typeof t.template_format === "string" ? t.template_format : "f-string")
  }
  return t
}

/** The `llm_kwargs` of a template: its messages (or prompt) with the model name and parameters of `metadata`. */
export const llmKwargs = (template: Record<string, unknown>, metadata: Record<string, unknown> | null) => {
  const model = isRecord(metadata) && isRecord(metadata.model) ? metadata.model : undefined
  const parameters = model && isRecord(model.parameters) ? model.parameters : {}
  const base: Record<string, unknown> = {}
  if (Array.isArray(template.messages)) {
    base.messages = template.messages.map((m) =>
      isRecord(m)
        ? {
            role: m.role,
            content:
              Array.isArray(m.content) && m.content.every((b) => isRecord(b) && b.type === "text")
                ? blockTexts(m.content).join("")
                : m.content
          }
        : m
    )
  } else base.prompt = blockTexts(template.content).join("")
  return { ...base, ...(model && typeof model.name === "string" ? { model: model.name } : {}), ...parameters }
}

/**
 * Validators of PromptLayer's OpenAPI document (test/fixtures/promptlayer-openapi.json) for the
 * emulator's responses: JSON Schema 2020-12 (Ajv2020 + ajv-formats), `$ref`s resolved in the
 * document, its OpenAPI 3.0 `nullable: true` read as a union with null (as test/OpenApi.test.ts does).
 */
import { Ajv2020 } from "ajv/dist/2020.js"
import formatsPlugin from "ajv-formats"
import { loadReferenceJson } from "./reference.js"

/** The parsed document. */
export const openApiDoc = loadReferenceJson("promptlayer-openapi.json") as {
  readonly paths: Record<string, Record<string, any>>
  readonly components: { readonly schemas: Record<string, any> }
}

const normalise = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(normalise)
  if (node === null || typeof node !== "object") return node
  const { nullable, optional: _optional, ...rest } = node as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(rest)) out[key] = normalise(value)
  if (nullable !== true) return out
  if (typeof out.type === "string") {
    const widened: Record<string, unknown> = { ...out, type: [out.type, "null"] }
    if (Array.isArray(out.enum)) widened.enum = [...out.enum, null]
    return widened
  }
  return { anyOf: [out, { type: "null" }] }
}

const DOC_ID = "https://promptlayer.test/openapi-responses.json"
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false })
const plugin = formatsPlugin as unknown as { default?: unknown }
;((plugin.default ?? plugin) as (ajv: Ajv2020) => Ajv2020)(ajv)
ajv.addSchema({ ...(normalise(openApiDoc) as object), $id: DOC_ID })

const pointer = (...parts: ReadonlyArray<string>) =>
  parts.map((part) => part.replaceAll("~", "~0").replaceAll("/", "~1")).join("/")

/**
 * The problems of `body` against the JSON response schema of `method path` for `status` (a
 * `$ref`'d response is followed); empty when it validates.
 */
export const responseErrors = (method: string, path: string, status: number, body: unknown): Array<string> => {
  let response = openApiDoc.paths[path]?.[method.toLowerCase()]?.responses?.[String(status)]
  let at = pointer("paths", path, method.toLowerCase(), "responses", String(status))
  if (typeof response?.$ref === "string") {
    at = (response.$ref as string).slice(2)
    response = resolve(response.$ref)
  }
  if (response?.content?.["application/json"]?.schema === undefined) {
    throw new Error(`${method} ${path} ${status} has no JSON response schema in the document`)
  }
  const validate = ajv.compile({ $ref: `${DOC_ID}#/${at}/content/application~1json/schema` })
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)
}

const resolve = (ref: string): any =>
  ref
    .slice(2)
    .split("/")
    .reduce((node: any, key) => node?.[key.replaceAll("~1", "/").replaceAll("~0", "~")], openApiDoc)

/** The problems of `body` against `components.schemas[name]`; empty when it validates. */
export const schemaErrors = (name: string, body: unknown): Array<string> => {
  const validate = ajv.compile({ $ref: `${DOC_ID}#/components/schemas/${pointer(name)}` })
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)
}

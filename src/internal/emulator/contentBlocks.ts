/**
 * Content block types of blueprint messages, as PromptLayer's OpenAPI document defines them (the
 * `type` discriminator of every message `content` and of `CompletionPrompt.content`). The real
 * server validates `input`/`output` against that discriminated union, so a block of any other
 * type (`tool_use`, `image`, a typo) is a 422 there, and the emulator rejects it the same way.
 */
import { CONTENT_BLOCK_TYPES } from "../../PromptLayerSchema.js"

/** Every content block `type` the document maps (one definition, in the public schema module). */
export const DOCUMENTED_CONTENT_TYPES: ReadonlySet<string> = CONTENT_BLOCK_TYPES

/** One FastAPI-style 422 detail entry (the same shape as the store's `ValidationDetail`). */
export interface ContentBlockIssue {
  readonly loc: ReadonlyArray<string | number>
  readonly msg: string
  readonly type: string
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const expected = [...DOCUMENTED_CONTENT_TYPES].map((t) => `'${t}'`).join(", ")

const blockIssues = (content: unknown, loc: ReadonlyArray<string | number>): Array<ContentBlockIssue> => {
  if (!Array.isArray(content)) return []
  return content.flatMap((block, i) => {
    const type = isRecord(block) ? block.type : undefined
    if (typeof type !== "string" || DOCUMENTED_CONTENT_TYPES.has(type)) return []
    return [
      {
        loc: [...loc, i],
        msg: `Input tag '${type}' found using 'type' does not match any of the expected tags: ${expected}`,
        type: "union_tag_invalid"
      }
    ]
  })
}

/**
 * The content blocks of a blueprint prompt (`{ type: "chat", messages }` or
 * `{ type: "completion", content }`) whose `type` the document does not define, as 422 details
 * located under `loc` (pydantic's wording and `union_tag_invalid` type).
 *
 * @example
 * ```ts
 * undocumentedContentBlocks({ type: "chat", messages: [{ role: "user", content: [{ type: "tool_use" }] }] }, ["body", "input"])
 * // [{ loc: ["body", "input", "messages", 0, "content", 0], msg: "Input tag 'tool_use' found ...", type: "union_tag_invalid" }]
 * ```
 */
export const undocumentedContentBlocks = (
  prompt: unknown,
  loc: ReadonlyArray<string | number>
): Array<ContentBlockIssue> => {
  if (!isRecord(prompt)) return []
  if (Array.isArray(prompt.messages)) {
    return prompt.messages.flatMap((message, i) =>
      isRecord(message) ? blockIssues(message.content, [...loc, "messages", i, "content"]) : []
    )
  }
  return blockIssues(prompt.content, [...loc, "content"])
}

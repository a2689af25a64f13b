/**
 * The JSON text of `POST /spans-bulk` bodies. Span times are nanoseconds since the epoch (about
 * 1.8e18, far beyond 2^53): `JSON.stringify` of a number would round them, so they are written as
 * the digits the schema decoded them to (`NanoTime`), unquoted, by string concatenation.
 *
 * @internal
 */
import type { LogFacts } from "../PromptLayerClient.js"
import type * as S from "../PromptLayerSchema.js"

/** One validated span as JSON, its times written as exact integers. */
export const encodeSpan = (span: S.Span): string => {
  const { end_time, start_time, ...rest } = span
  const json = JSON.stringify(rest)
  const head = `{"start_time":${start_time},"end_time":${end_time}`
  return json.length > 2 ? `${head},${json.slice(1)}` : `${head}}`
}

/** What a delivered log is described by, from a request log body (a `/log-request` one or a span's). */
export const factsOfLog = (log: NonNullable<S.Span["log_request"]> | S.LogRequestInput): LogFacts => ({
  tags: log.tags ?? [],
  metadata: log.metadata ?? {},
  provider: log.provider,
  model: log.model,
  status: log.status ?? "SUCCESS",
  promptName: log.prompt_name ?? undefined
})

/** {@link factsOfLog} of a validated span's `log_request`, if it has one. */
export const logFactsOf = (log: S.Span["log_request"]): LogFacts | undefined =>
  log === undefined || log === null ? undefined : factsOfLog(log)

/** The body around already encoded spans. */
export const bulkBody = (encodedSpans: ReadonlyArray<string>, closeAfter?: boolean): string =>
  `{"spans":[${encodedSpans.join(",")}]${closeAfter === undefined ? "" : `,"close_after":${closeAfter}`}}`

/** Bytes of the body around its spans, and per span after the first (the comma). */
export const bodyOverheadBytes = bulkBody([]).length

/** A validated body as JSON. */
export const encodeBulk = (body: typeof S.CreateSpansBulk.Type): string =>
  bulkBody(body.spans.map(encodeSpan), body.close_after)

const nodeBuffer = (globalThis as { Buffer?: { byteLength: (text: string, encoding: "utf8") => number } }).Buffer

/** UTF-8 length of a string, without allocating a buffer. */
export const utf8Length = (text: string): number => {
  if (nodeBuffer !== undefined) return nodeBuffer.byteLength(text, "utf8")
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

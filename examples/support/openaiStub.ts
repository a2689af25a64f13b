/**
 * A small OpenAI-compatible HTTP server on 127.0.0.1 for the examples and the tests of `@langchain/openai` models:
 * `POST /v1/chat/completions` (plain JSON, or server-sent events when `stream: true`, with a final
 * usage chunk when `stream_options.include_usage`), and `POST /v1/completions`. Usage numbers are
 * derived from the request so that tests can check them: prompt tokens = words in the prompt,
 * completion tokens = words in the answer.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export interface OpenAIStub {
  /** Base URL including `/v1`, for `configuration.baseURL`. */
  readonly url: string
  /** Parsed JSON bodies of the requests received, in order. */
  readonly requests: Array<{ readonly path: string; readonly body: Record<string, unknown> }>
  readonly close: () => Promise<void>
}

const words = (text: string): number => text.split(/\s+/).filter((w) => w !== "").length

const promptText = (body: Record<string, unknown>): string => {
  if (Array.isArray(body.messages)) {
    return body.messages
      .map((m: { content?: unknown }) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? "")))
      .join(" ")
  }
  return Array.isArray(body.prompt) ? body.prompt.join(" ") : String(body.prompt ?? "")
}

/** The answer the stub gives: `"Echo: <last words of the prompt>"`. */
export const answerFor = (body: Record<string, unknown>): string => `Echo: ${promptText(body).slice(-40)}`

/** The usage the stub reports for a request. */
export const usageFor = (body: Record<string, unknown>) => {
  const prompt_tokens = words(promptText(body))
  const completion_tokens = words(answerFor(body))
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens }
}

export const startOpenAIStub = async (): Promise<OpenAIStub> => {
  const requests: OpenAIStub["requests"] = []
  const server = Http.createServer((req, res) => {
    let raw = ""
    req.setEncoding("utf8")
    req.on("data", (chunk: string) => {
      raw += chunk
    })
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0] ?? ""
      let body: Record<string, unknown> = {}
      try {
        body = JSON.parse(raw || "{}") as Record<string, unknown>
      } catch {
        res
          .writeHead(400, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { message: "bad json" } }))
        return
      }
      requests.push({ path, body })
      const model = String(body.model ?? "unknown")
      const created = Math.floor(Date.now() / 1000)
      const text = answerFor(body)
      const usage = usageFor(body)
      if (path === "/v1/chat/completions" && body.stream === true) {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
        const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`)
        const base = { id: "chatcmpl-stub", object: "chat.completion.chunk", created, model }
        send({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] })
        for (const piece of text.match(/.{1,6}/g) ?? []) {
          send({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })
        }
        send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })
        const options = body.stream_options as { include_usage?: boolean } | undefined
        if (options?.include_usage === true) send({ ...base, choices: [], usage })
        res.end("data: [DONE]\n\n")
        return
      }
      if (path === "/v1/chat/completions") {
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            id: "chatcmpl-stub",
            object: "chat.completion",
            created,
            model,
            choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
            usage
          })
        )
        return
      }
      if (path === "/v1/completions") {
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            id: "cmpl-stub",
            object: "text_completion",
            created,
            model,
            choices: [{ index: 0, text, finish_reason: "stop", logprobs: null }],
            usage
          })
        )
        return
      }
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { message: "not found" } }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

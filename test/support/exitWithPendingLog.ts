/**
 * Run as a child process by the handler tests: logs one call to a PromptLayer that refuses
 * connections, with a 10-minute retry backoff, and neither flushes nor shuts down. Once the first
 * attempt was refused (the log waits in backoff), the process must exit at once: the tracker's
 * timers are unref'd. Prints the tracker's stats on exit.
 */
import { FakeListChatModel } from "@langchain/core/utils/testing"
import { PromptLayerCallbackHandler } from "../../src/PromptLayerCallbackHandler.js"

const handler = new PromptLayerCallbackHandler({
  mode: "requests",
  apiKey: "pl_exit",
  baseURL: process.argv[2] ?? "http://127.0.0.1:9",
  retry: { maxAttempts: 5, initialDelay: "10 minutes", maxDelay: "10 minutes", deadline: "1 hour", jitter: false }
})
await new FakeListChatModel({ responses: ["bye"] }).invoke("hi", { callbacks: [handler] })
while (handler.stats().retried === 0) await new Promise((r) => setTimeout(r, 10))
process.on("exit", () => {
  process.stdout.write(JSON.stringify(handler.stats()))
})

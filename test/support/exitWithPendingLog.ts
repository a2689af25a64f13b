/**
 * Run as a child process by the handler tests: logs one call to a PromptLayer that refuses
 * connections, with a 60 s retry backoff, and neither flushes nor shuts down. The process must
 * still exit at once: the tracker's timers are unref'd. Prints the tracker's stats on exit.
 */
import { FakeListChatModel } from "@langchain/core/utils/testing"
import { PromptLayerCallbackHandler } from "../../src/PromptLayerCallbackHandler.js"

const handler = new PromptLayerCallbackHandler({
  apiKey: "pl_exit",
  baseURL: process.argv[2] ?? "http://127.0.0.1:9",
  retry: { maxAttempts: 5, initialDelay: "60 seconds", jitter: false }
})
await new FakeListChatModel({ responses: ["bye"] }).invoke("hi", { callbacks: [handler] })
const waitForRetry = async () => {
  for (let i = 0; i < 200 && handler.stats().retried === 0; i++) await new Promise((r) => setTimeout(r, 10))
}
await waitForRetry()
process.on("exit", () => {
  process.stdout.write(JSON.stringify(handler.stats()))
})

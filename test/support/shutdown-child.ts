/**
 * Child process of test/Reliability.shutdown.test.ts: runs `count` invocations of a LangChain
 * model with a PromptLayerCallbackHandler pointed at the emulator, then ends in one of these ways:
 *
 * - `flush`: `await handler.flush()`, then lets the process exit.
 * - `sigterm`, `sigint`: prints `READY` and waits; a SIGTERM or SIGINT runs `installShutdownHooks`'
 *   hook, which re-raises the signal once the logs are delivered (or its deadline passed).
 * - `beforeExit`: no flush, nothing keeps the process alive; the `beforeExit` hook of
 *   `installShutdownHooks` shuts down.
 * - `none`: no flush and no hook: the process exits when its event loop is empty.
 * - `await-flush`, `await-shutdown`, `await-shutdownAll`: awaits `handler.flush()`,
 *   `handler.shutdown()` or `shutdownAll()` in an async function (not a top-level await, whose
 *   pending promise would make Node exit with code 13): nothing else keeps the process alive.
 *
 * Prints one line `DONE {"delivered": n, ...}` when it ends through flush or a hook, `ENDING` when the
 * script's last statement has run (the test lifts its faults then: the logs are still pending), and
 * `EXIT {stats}` from the `exit` event (what was pending when the process ended).
 *
 * Retries never run out in the time a test takes (an attempt every Retry-After second for ten
 * minutes), so a log fails only at a deadline, never because a fault outlasted its attempts.
 *
 * Usage: tsx test/support/shutdown-child.ts <url> <apiKey> <mode> <count> <deadlineMs> [shutdownTimeoutMs] [waitForRetry]
 * (the tracker's `shutdownTimeout` defaults to the hook's deadline). With `waitForRetry` = `1`, after
 * the invocations it waits until a log has been retried (so some log has waited in backoff) before it
 * goes on to `READY`, `AWAITING` or the end of the script.
 *
 * Each attempt may take 60 s, far above a loopback round trip on a loaded machine: a timed-out
 * attempt the server had already stored would be retried and stored twice (at-least-once delivery).
 */
import { FakeListChatModel } from "@langchain/core/utils/testing"
import { installShutdownHooks, PromptLayerCallbackHandler, shutdownAll } from "promptlayer-effect/langchain"

const [
  url = "",
  apiKey = "",
  mode = "flush",
  countArg = "500",
  deadlineArg = "10000",
  shutdownTimeoutArg,
  waitForRetry = "0"
] = process.argv.slice(2)
const count = Number(countArg)
const deadlineMs = Number(deadlineArg)
const shutdownTimeoutMs = Number(shutdownTimeoutArg ?? deadlineArg)

let delivered = 0
const handler = new PromptLayerCallbackHandler({
  mode: "requests",
  apiKey,
  baseURL: url,
  plTags: ["shutdown", mode],
  plIdCallback: () => {
    delivered++
  },
  shutdownTimeout: shutdownTimeoutMs,
  retry: {
    maxAttempts: 1000,
    initialDelay: "100 millis",
    maxDelay: "1 second",
    attemptTimeout: "60 seconds",
    deadline: "10 minutes"
  }
})
process.on("exit", () => {
  process.stdout.write(`EXIT ${JSON.stringify(handler.stats())}\n`)
})

// The library's shutdown hooks: the default signals (SIGTERM, SIGINT), or beforeExit alone.
const bySignal = mode === "sigterm" || mode === "sigint"
if (bySignal || mode === "beforeExit") {
  installShutdownHooks({
    deadline: deadlineMs,
    ...(bySignal ? { beforeExit: false } : { signals: [] }),
    onShutdown: ({ timedOut }) => {
      process.stdout.write(`DONE ${JSON.stringify({ delivered, deadlineHit: timedOut })}\n`)
    }
  })
}

const model = new FakeListChatModel({ responses: ["first answer", "second answer", "third answer"] })
for (let i = 0; i < count; i++) {
  await model.invoke(`question ${i}`, { callbacks: [handler], metadata: { seq: String(i) } })
}

while (waitForRetry === "1" && handler.stats().retried === 0) await new Promise((resolve) => setTimeout(resolve, 10))

const awaited: Record<string, () => Promise<void>> = {
  "await-flush": () => handler.flush(),
  "await-shutdown": () => handler.shutdown(),
  "await-shutdownAll": () => shutdownAll()
}

if (awaited[mode] !== undefined) {
  process.stdout.write("AWAITING\n")
  void (async () => {
    await awaited[mode]!()
    process.stdout.write(`DONE ${JSON.stringify({ delivered, stats: handler.stats() })}\n`)
  })()
} else if (mode === "flush") {
  await handler.flush()
  process.stdout.write(`DONE ${JSON.stringify({ delivered, stats: handler.stats() })}\n`)
} else if (bySignal) {
  process.stdout.write("READY\n")
  setInterval(() => {}, 60_000)
}
process.stdout.write("ENDING\n")

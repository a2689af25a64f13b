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
 * Prints one line `DONE {"delivered": n, ...}` when it ends through flush or a hook.
 *
 * Usage: tsx test/support/shutdown-child.ts <url> <apiKey> <mode> <count> <deadlineMs> [shutdownTimeoutMs]
 * (the tracker's `shutdownTimeout` defaults to the hook's deadline).
 */
import { FakeListChatModel } from "@langchain/core/utils/testing"
import { installShutdownHooks, PromptLayerCallbackHandler, shutdownAll } from "promptlayer-effect/langchain"

const [url = "", apiKey = "", mode = "flush", countArg = "500", deadlineArg = "10000", shutdownTimeoutArg] =
  process.argv.slice(2)
const count = Number(countArg)
const deadlineMs = Number(deadlineArg)
const shutdownTimeoutMs = Number(shutdownTimeoutArg ?? deadlineArg)

let delivered = 0
const handler = new PromptLayerCallbackHandler({
  apiKey,
  baseURL: url,
  plTags: ["shutdown", mode],
  plIdCallback: () => {
    delivered++
  },
  shutdownTimeout: shutdownTimeoutMs,
  retry: { maxAttempts: 6, initialDelay: "100 millis", maxDelay: "1 second", attemptTimeout: "5 seconds" }
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

const awaited: Record<string, () => Promise<void>> = {
  "await-flush": () => handler.flush(),
  "await-shutdown": () => handler.shutdown(),
  "await-shutdownAll": () => shutdownAll()
}

if (awaited[mode] !== undefined) {
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

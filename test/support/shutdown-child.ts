/**
 * Child process of test/Reliability.shutdown.test.ts: runs `count` invocations of a LangChain
 * model with a PromptLayerCallbackHandler pointed at the emulator, then ends in one of these ways:
 *
 * - `flush`: `await handler.flush()`, then lets the process exit.
 * - `sigterm`: prints `READY` and waits; a SIGTERM runs the shutdown hook (below), then exits 0.
 * - `beforeExit`: no flush, nothing keeps the process alive; the `beforeExit` hook shuts down.
 * - `none`: no flush and no hook: the process exits when its event loop is empty.
 * - `await-flush`, `await-shutdown`, `await-shutdownAll`: awaits `handler.flush()`,
 *   `handler.shutdown()` or `shutdownAll()` in an async function (not a top-level await, whose
 *   pending promise would make Node exit with code 13): nothing else keeps the process alive.
 *
 * Prints one line `DONE {"delivered": n, ...}` when it ends through flush or a hook.
 *
 * Usage: tsx test/support/shutdown-child.ts <url> <apiKey> <mode> <count> <deadlineMs>
 */
import { FakeListChatModel } from "@langchain/core/utils/testing"
import { PromptLayerCallbackHandler, shutdownAll } from "promptlayer-effect/langchain"

const [url = "", apiKey = "", mode = "flush", countArg = "500", deadlineArg = "10000"] = process.argv.slice(2)
const count = Number(countArg)
const deadlineMs = Number(deadlineArg)

let delivered = 0
const handler = new PromptLayerCallbackHandler({
  apiKey,
  baseURL: url,
  plTags: ["shutdown", mode],
  plIdCallback: () => {
    delivered++
  },
  shutdownTimeout: deadlineMs,
  retry: { maxAttempts: 6, initialDelay: "100 millis", maxDelay: "1 second", attemptTimeout: "5 seconds" }
})

/**
 * The shutdown hook an app installs: deliver what can be delivered within `deadlineMs`, then let
 * the process go. A ref'd timer keeps the process alive meanwhile (the tracker's own timers are
 * unref'd, so that they never hold a process open by themselves).
 */
let shuttingDown: Promise<void> | undefined
const shutdownWithin = (ms: number): Promise<void> => {
  shuttingDown ??= (async () => {
    const keepAlive = setInterval(() => {}, 1000)
    const hardStop = setTimeout(() => {
      process.stdout.write(`DONE ${JSON.stringify({ delivered, deadlineHit: true })}\n`)
      process.exit(0)
    }, ms + 2000)
    try {
      await shutdownAll()
    } finally {
      clearInterval(keepAlive)
      clearTimeout(hardStop)
    }
    process.stdout.write(`DONE ${JSON.stringify({ delivered, deadlineHit: false })}\n`)
  })()
  return shuttingDown
}

if (mode === "sigterm") {
  process.once("SIGTERM", () => {
    void shutdownWithin(deadlineMs).then(() => process.exit(0))
  })
}
if (mode === "beforeExit") {
  process.on("beforeExit", () => {
    void shutdownWithin(deadlineMs)
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
} else if (mode === "sigterm") {
  process.stdout.write("READY\n")
  setInterval(() => {}, 60_000)
}

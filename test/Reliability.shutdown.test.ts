/**
 * Shutdown: a real child process (test/support/shutdown-child.ts) runs 500 LangChain invocations
 * with a PromptLayerCallbackHandler pointed at the emulator (in this process), then ends with
 * `flush()` (or an awaited `shutdown()`/`shutdownAll()`), on SIGTERM/SIGINT, or on `beforeExit`
 * with the library's `installShutdownHooks` — and the emulator's store says what arrived.
 *
 * The handler's timers are unref'd (they never hold a process open by themselves), so a process
 * whose logs are all waiting in retry backoff exits without them unless it awaits a flush or
 * installs the shutdown hooks; the `none` case shows that, the hook cases show the hook delivering
 * within its deadline.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { startEmulator } from "promptlayer-effect/emulator"
import { installShutdownHooks } from "promptlayer-effect/langchain"
import type { StartedEmulator } from "../src/PromptLayerEmulator.js"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const COUNT = 500

interface Run {
  readonly child: ChildProcess
  readonly lines: Array<string>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>
  readonly waitFor: (prefix: string) => Promise<string>
}

// The default deadline is far above the few seconds these cases take alone: the whole suite may run
// alongside on 2 cores.
const runChild = (
  emulator: StartedEmulator,
  mode: string,
  deadlineMs = 30_000,
  shutdownTimeoutMs = deadlineMs
): Run => {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      Path.join(root, "test/support/shutdown-child.ts"),
      emulator.url,
      emulator.apiKey,
      mode,
      String(COUNT),
      String(deadlineMs),
      String(shutdownTimeoutMs)
    ],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] }
  )
  const lines: Array<string> = []
  const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = []
  let buffer = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString()
    const parts = buffer.split("\n")
    buffer = parts.pop() ?? ""
    for (const line of parts) {
      lines.push(line)
      for (const w of waiters.filter((w) => line.startsWith(w.prefix))) w.resolve(line)
    }
  })
  child.stderr!.resume()
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, atMs: Date.now() }))
  )
  const waitFor = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const found = lines.find((l) => l.startsWith(prefix))
      if (found !== undefined) return resolve(found)
      waiters.push({ prefix, resolve })
      void exited.then(() => reject(new Error(`the child exited before printing ${prefix}`)))
    })
  return { child, lines, exited, waitFor }
}

/** Distinct `seq` values stored for a mode, and the total rows. */
const storedFor = (emulator: StartedEmulator, mode: string) => {
  const rows = emulator.store.requests().filter((r) => r.tags.includes(mode))
  return { rows: rows.length, seqs: new Set(rows.map((r) => r.metadata.seq)) }
}

const withEmulator = async (f: (emulator: StartedEmulator) => Promise<void>) => {
  const emulator = await startEmulator({ port: 0 })
  try {
    await f(emulator)
  } finally {
    await emulator.close()
  }
}

/** The first 8 attempts (one per delivery worker) answer 503 with a long Retry-After: every log waits. */
const parkWorkers = (emulator: StartedEmulator, seconds: number) =>
  emulator.faults.add([{ route: "/log-request", status: 503, times: 8, retryAfterSeconds: seconds }])

describe("installShutdownHooks", () => {
  it("is idempotent: a second install adds no listener and returns the same uninstall, which removes them all", () => {
    const events = ["SIGTERM", "SIGINT", "beforeExit"] as const
    const counts = () => events.map((e) => process.listenerCount(e))
    const before = counts()
    const uninstall = installShutdownHooks({ deadline: "1 second" })
    try {
      assert.deepStrictEqual(
        counts(),
        before.map((n) => n + 1)
      )
      assert.strictEqual(installShutdownHooks({ deadline: "2 seconds", signals: ["SIGHUP"] }), uninstall)
      assert.deepStrictEqual(
        counts(),
        before.map((n) => n + 1)
      )
      assert.strictEqual(process.listenerCount("SIGHUP"), 0)
    } finally {
      uninstall()
    }
    assert.deepStrictEqual(counts(), before)
    uninstall()
    assert.deepStrictEqual(counts(), before)
    const again = installShutdownHooks({ signals: ["SIGTERM"], beforeExit: false })
    assert.notStrictEqual(again, uninstall)
    assert.strictEqual(process.listenerCount("SIGTERM"), before[0]! + 1)
    assert.strictEqual(process.listenerCount("beforeExit"), before[2])
    again()
    assert.deepStrictEqual(counts(), before)
  })
})

describe("Reliability: shutdown of a child process", () => {
  it("500 invocations, flush(), exit: the emulator holds all 500, each once", () =>
    withEmulator(async (emulator) => {
      const run = runChild(emulator, "flush")
      const done = JSON.parse((await run.waitFor("DONE ")).slice(5)) as { delivered: number }
      const { code } = await run.exited
      assert.strictEqual(code, 0)
      assert.strictEqual(done.delivered, COUNT)
      const stored = storedFor(emulator, "flush")
      assert.strictEqual(stored.rows, COUNT)
      assert.strictEqual(stored.seqs.size, COUNT)
    }))

  for (const mode of ["await-flush", "await-shutdown", "await-shutdownAll"]) {
    it(`every log in retry backoff, ${mode.slice(6)}() awaited outside a top-level await: it resolves, all 500 stored`, () =>
      withEmulator(async (emulator) => {
        // The tracker's timers are unref'd: only the awaited call itself keeps the process alive.
        parkWorkers(emulator, 3)
        const run = runChild(emulator, mode)
        const done = JSON.parse((await run.waitFor("DONE ")).slice(5)) as { delivered: number }
        const { code } = await run.exited
        assert.strictEqual(code, 0)
        assert.strictEqual(done.delivered, COUNT)
        const stored = storedFor(emulator, mode)
        assert.strictEqual(stored.seqs.size, COUNT)
        assert.strictEqual(stored.rows, COUNT)
      }))
  }

  for (const [mode, signal] of [
    ["sigterm", "SIGTERM"],
    ["sigint", "SIGINT"]
  ] as const) {
    it(`no flush, ${signal}: installShutdownHooks delivers all 500 within its deadline, then re-raises ${signal}`, () =>
      withEmulator(async (emulator) => {
        parkWorkers(emulator, 3)
        const run = runChild(emulator, mode)
        await run.waitFor("READY")
        const atSignal = storedFor(emulator, mode).rows
        const sentAt = Date.now()
        run.child.kill(signal)
        const done = JSON.parse((await run.waitFor("DONE ")).slice(5)) as { delivered: number; deadlineHit: boolean }
        const exit = await run.exited
        assert.strictEqual(exit.signal, signal, "the process ends as the signal would have ended it")
        assert.isBelow(atSignal, COUNT, "logs were still waiting when the signal came")
        assert.isFalse(done.deadlineHit)
        assert.isBelow(exit.atMs - sentAt, 30_000)
        const stored = storedFor(emulator, mode)
        assert.strictEqual(stored.seqs.size, COUNT)
        assert.strictEqual(stored.rows, COUNT)
      }))
  }

  it("no flush, SIGTERM, server hanging: the hook gives up at its deadline and the process still ends", () =>
    withEmulator(async (emulator) => {
      emulator.faults.add([{ route: "/log-request", latencyMs: 120_000 }])
      const run = runChild(emulator, "sigterm", 1000)
      await run.waitFor("READY")
      const sentAt = Date.now()
      run.child.kill("SIGTERM")
      await run.waitFor("DONE ")
      const { signal, atMs } = await run.exited
      assert.strictEqual(signal, "SIGTERM")
      assert.isBelow(atMs - sentAt, 6000, "bounded by the 1 s deadline (plus process overhead)")
      assert.strictEqual(storedFor(emulator, "sigterm").rows, 0)
    }))

  it("no flush, every log in retry backoff when the script ends: beforeExit hook delivers all 500", () =>
    withEmulator(async (emulator) => {
      parkWorkers(emulator, 3)
      const run = runChild(emulator, "beforeExit")
      const done = JSON.parse((await run.waitFor("DONE ")).slice(5)) as { delivered: number; deadlineHit: boolean }
      const { code } = await run.exited
      assert.strictEqual(code, 0)
      assert.isFalse(done.deadlineHit)
      const stored = storedFor(emulator, "beforeExit")
      assert.strictEqual(stored.seqs.size, COUNT)
      assert.strictEqual(stored.rows, COUNT)
    }))

  it("beforeExit, server hanging, tracker shutdownTimeout 60 s: the hook gives up at its 1 s deadline and exits", () =>
    withEmulator(async (emulator) => {
      emulator.faults.add([{ route: "/log-request", latencyMs: 120_000 }])
      const run = runChild(emulator, "beforeExit", 1000, 60_000)
      const done = JSON.parse((await run.waitFor("DONE ")).slice(5)) as { deadlineHit: boolean }
      const doneAt = Date.now()
      const { code, atMs } = await run.exited
      assert.isTrue(done.deadlineHit)
      assert.strictEqual(code, 0)
      // Left alone, its retries (5 s attempt timeouts) and the awaited shutdown would hold it far longer.
      assert.isBelow(atMs - doneAt, 5000)
      assert.strictEqual(storedFor(emulator, "beforeExit").rows, 0)
    }))

  it("control — no flush and no hook: the process exits while its logs sleep in (unref'd) backoff, and they are lost", () =>
    withEmulator(async (emulator) => {
      // Longer than the child's 500 invocations take, even on a loaded machine.
      parkWorkers(emulator, 5)
      const run = runChild(emulator, "none")
      const { code } = await run.exited
      assert.strictEqual(code, 0)
      assert.isUndefined(run.lines.find((l) => l.startsWith("DONE ")))
      assert.isBelow(storedFor(emulator, "none").rows, COUNT)
    }))
})

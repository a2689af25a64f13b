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
 *
 * No case depends on the machine's speed: the emulator refuses every log (503, Retry-After) until
 * the child says it reached the point under test (`READY`, `AWAITING`, `ENDING`), so every log is
 * still pending there, whatever the time the 500 invocations took; only then are the faults lifted.
 * The cases run concurrently, each with its own emulator and child.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { afterAll } from "vitest"
import { startEmulator } from "promptlayer-effect/emulator"
import { installShutdownHooks } from "promptlayer-effect/langchain"
import type { StartedEmulator } from "../src/PromptLayerEmulator.js"
import { watchOutput } from "./support/childOutput.js"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const COUNT = 500

interface Run {
  readonly child: ChildProcess
  readonly lines: ReadonlyArray<string>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>
  readonly waitFor: (prefix: string) => Promise<string>
}

// The hooks' default deadline is far above the few seconds these cases take alone: the whole suite,
// and other busy processes, may run alongside on 2 cores. It is only reached when a case fails.
const DEADLINE_MS = 240_000

/** Children still running when the file ends (a failed case) are killed, not left behind. */
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) child.kill("SIGKILL")
})

const runChild = (
  emulator: StartedEmulator,
  mode: string,
  options: { deadlineMs?: number; shutdownTimeoutMs?: number; waitForRetry?: boolean } = {}
): Run => {
  const { deadlineMs = DEADLINE_MS, shutdownTimeoutMs = deadlineMs, waitForRetry = false } = options
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
      String(shutdownTimeoutMs),
      waitForRetry ? "1" : "0"
    ],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] }
  )
  children.add(child)
  child.once("exit", () => children.delete(child))
  const { lines, exited, waitFor } = watchOutput(child)
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

/**
 * Every `/log-request` answers 503 with a 1 s Retry-After until the returned function lifts it:
 * until then no log is stored, and each waits in retry backoff between attempts.
 */
const refuseLogs = (emulator: StartedEmulator): (() => void) => {
  emulator.faults.add([{ route: "/log-request", status: 503, retryAfterSeconds: 1 }])
  return () => emulator.faults.clear()
}

/** The tracker's counters the child printed when it exited. */
const exitStats = async (run: Run) => {
  await run.exited
  const line = run.lines.find((l) => l.startsWith("EXIT "))
  assert.isDefined(line, "the child printed its counters on exit")
  return JSON.parse(line!.slice(5)) as { accepted: number; delivered: number; failed: number; retried: number }
}

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

describe.concurrent("Reliability: shutdown of a child process", () => {
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
        const lift = refuseLogs(emulator)
        const run = runChild(emulator, mode, { waitForRetry: true })
        await run.waitFor("AWAITING")
        assert.strictEqual(storedFor(emulator, mode).rows, 0, "every log was pending when the await began")
        lift()
        const done = JSON.parse((await run.waitFor("DONE ")).slice(5)) as {
          delivered: number
          stats: { retried: number }
        }
        const { code } = await run.exited
        assert.strictEqual(code, 0)
        assert.strictEqual(done.delivered, COUNT)
        assert.isAtLeast(done.stats.retried, 1, "logs waited in retry backoff")
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
        const lift = refuseLogs(emulator)
        const run = runChild(emulator, mode, { waitForRetry: true })
        await run.waitFor("READY")
        assert.strictEqual(storedFor(emulator, mode).rows, 0, "every log was still waiting when the signal came")
        lift()
        run.child.kill(signal)
        const done = JSON.parse((await run.waitFor("DONE ")).slice(5)) as { delivered: number; deadlineHit: boolean }
        const exit = await run.exited
        assert.strictEqual(exit.signal, signal, "the process ends as the signal would have ended it")
        assert.isFalse(done.deadlineHit, "delivered within the hook's deadline")
        const stored = storedFor(emulator, mode)
        assert.strictEqual(stored.seqs.size, COUNT)
        assert.strictEqual(stored.rows, COUNT)
      }))
  }

  it("no flush, SIGTERM, server hanging: the hook gives up at its deadline and the process still ends", () =>
    withEmulator(async (emulator) => {
      emulator.faults.add([{ route: "/log-request", latencyMs: 120_000 }])
      const run = runChild(emulator, "sigterm", { deadlineMs: 1000 })
      await run.waitFor("READY")
      const sentAt = Date.now()
      run.child.kill("SIGTERM")
      const done = JSON.parse((await run.waitFor("DONE ")).slice(5)) as { deadlineHit: boolean }
      const { signal, atMs } = await run.exited
      assert.strictEqual(signal, "SIGTERM")
      assert.isTrue(done.deadlineHit, "the hook gave up at its deadline")
      // Waiting for the server would take 120 s per attempt (and the attempts never run out).
      assert.isBelow(atMs - sentAt, 30_000)
      assert.strictEqual(storedFor(emulator, "sigterm").rows, 0)
    }))

  it("no flush, every log in retry backoff when the script ends: beforeExit hook delivers all 500", () =>
    withEmulator(async (emulator) => {
      const lift = refuseLogs(emulator)
      const run = runChild(emulator, "beforeExit", { waitForRetry: true })
      // The script has ended with all 500 pending: the event loop runs empty while they wait in backoff.
      await run.waitFor("ENDING")
      assert.strictEqual(storedFor(emulator, "beforeExit").rows, 0)
      lift()
      const done = JSON.parse((await run.waitFor("DONE ")).slice(5)) as { delivered: number; deadlineHit: boolean }
      const { code } = await run.exited
      assert.strictEqual(code, 0)
      assert.isFalse(done.deadlineHit)
      const stored = storedFor(emulator, "beforeExit")
      assert.strictEqual(stored.seqs.size, COUNT)
      assert.strictEqual(stored.rows, COUNT)
    }))

  it("beforeExit, server refusing every log for a minute, tracker shutdownTimeout 60 s: the hook gives up at its 1 s deadline and exits", () =>
    withEmulator(async (emulator) => {
      // Refused with a 60 s Retry-After, every log waits in (unref'd) backoff, so the event loop runs
      // empty and beforeExit fires whatever the machine's speed. (A hanging server would hold its
      // sockets, and so the loop, open: beforeExit would wait for the attempts to time out together.)
      emulator.faults.add([{ route: "/log-request", status: 503, retryAfterSeconds: 60 }])
      const run = runChild(emulator, "beforeExit", { deadlineMs: 1000, shutdownTimeoutMs: 60_000 })
      const done = JSON.parse((await run.waitFor("DONE ")).slice(5)) as { deadlineHit: boolean }
      const doneAt = Date.now()
      const { code, atMs } = await run.exited
      assert.isTrue(done.deadlineHit)
      assert.strictEqual(code, 0)
      // Left alone, the tracker's shutdownTimeout (60 s) and the 60 s Retry-After would hold it far longer.
      assert.isBelow(atMs - doneAt, 30_000)
      assert.strictEqual(storedFor(emulator, "beforeExit").rows, 0)
      const stats = await exitStats(run)
      assert.strictEqual(stats.delivered, 0)
    }))

  it("control — no flush and no hook: the process exits while its logs sleep in (unref'd) backoff, and they are lost", () =>
    withEmulator(async (emulator) => {
      // Never lifted: every log is refused, so whatever the machine's speed, all 500 are pending at the end.
      refuseLogs(emulator)
      const run = runChild(emulator, "none")
      const { code } = await run.exited
      assert.strictEqual(code, 0)
      assert.isUndefined(run.lines.find((l) => l.startsWith("DONE ")))
      const stats = await exitStats(run)
      assert.strictEqual(stats.accepted, COUNT)
      assert.strictEqual(stats.delivered, 0)
      assert.strictEqual(stats.failed, 0, "none had failed: they were waiting to be retried")
      assert.isAtLeast(stats.retried, 1)
      assert.strictEqual(storedFor(emulator, "none").rows, 0)
    }))
})

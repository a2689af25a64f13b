/**
 * Child processes of the traces benchmark (bench/traces.ts): servers that print one JSON line when
 * listening (the emulator, the LangSmith stub) and arms that print `RESULT <json>`, each with a hard
 * deadline: a child still running then is killed (SIGKILL) and reported, never waited for.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Path from "node:path"

/** Every child still running is killed when the benchmark's process exits, however it exits. */
const live = new Set<ChildProcess>()
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL")
})
const track = (child: ChildProcess) => {
  live.add(child)
  child.once("exit", () => live.delete(child))
  return child
}

/** A server child: its first JSON line on stdout, and how to stop it. */
export interface Server<A> {
  readonly info: A
  readonly child: ChildProcess
  readonly stop: () => Promise<void>
}

/** Stops a child with SIGTERM (so `--cpu-prof` writes its profile), SIGKILL after `graceMs`. */
const stopChild = (child: ChildProcess, graceMs: number) =>
  new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done()
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs)
    child.once("exit", () => {
      clearTimeout(kill)
      done()
    })
    child.kill("SIGTERM")
  })

/**
 * Starts `node [nodeArgs] --import tsx <script> [args]` and resolves with the first line of its
 * stdout that starts with `{`, parsed; rejects if it exits or prints nothing within `deadlineMs`.
 */
export const startServer = <A>(
  root: string,
  script: string,
  options: { nodeArgs?: ReadonlyArray<string>; args?: ReadonlyArray<string>; deadlineMs?: number } = {}
): Promise<Server<A>> =>
  new Promise((resolve, reject) => {
    const child = track(
      spawn(
        process.execPath,
        [...(options.nodeArgs ?? []), "--import", "tsx", Path.join(root, script), ...(options.args ?? [])],
        { cwd: root, stdio: ["ignore", "pipe", "inherit"] }
      )
    )
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${script} did not start within ${options.deadlineMs ?? 60_000} ms`))
    }, options.deadlineMs ?? 60_000)
    let out = ""
    let started = false
    child.stdout!.on("data", (chunk: Buffer) => {
      if (started) return
      out += chunk.toString()
      const line = out.split("\n").find((l) => l.startsWith("{"))
      if (line === undefined) return
      started = true
      clearTimeout(timer)
      resolve({ info: JSON.parse(line) as A, child, stop: () => stopChild(child, 5000) })
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      if (!started) reject(new Error(`${script} exited with ${code} before listening`))
    })
  })

/** What an arm gave: its result, or why there is none (it failed, or was killed at its deadline). */
export type Outcome<A> =
  | { readonly ok: true; readonly value: A; readonly seconds: number }
  | { readonly ok: false; readonly reason: string; readonly seconds: number }

/**
 * Runs `node --expose-gc [nodeArgs] --import tsx <script> <arm> <json args>` and resolves with its
 * `RESULT` line, or with the reason there is none: a non-zero exit, or `deadlineMs` passed (the child
 * is then killed). Never rejects, never waits past the deadline.
 */
export const runArm = <A>(
  root: string,
  script: string,
  arm: string,
  args: unknown,
  options: {
    deadlineMs: number
    nodeArgs?: ReadonlyArray<string> | undefined
    env?: Record<string, string> | undefined
  }
): Promise<Outcome<A>> =>
  new Promise((resolve) => {
    const t0 = Date.now()
    const seconds = () => (Date.now() - t0) / 1000
    const child = track(
      spawn(
        process.execPath,
        [
          "--expose-gc",
          ...(options.nodeArgs ?? []),
          "--import",
          "tsx",
          Path.join(root, script),
          arm,
          JSON.stringify(args)
        ],
        { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...options.env } }
      )
    )
    let out = ""
    let timedOut = false
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill("SIGKILL")
    }, options.deadlineMs)
    // "close", not "exit": at "exit" the RESULT line may still be unread in the pipe.
    child.once("close", (code, signal) => {
      clearTimeout(timer)
      const line = out.split("\n").find((l) => l.startsWith("RESULT "))
      if (timedOut) {
        return resolve({
          ok: false,
          reason: `killed at its ${options.deadlineMs / 1000} s deadline`,
          seconds: seconds()
        })
      }
      if (code !== 0 || line === undefined) {
        return resolve({ ok: false, reason: `exited with ${code ?? signal} without a result`, seconds: seconds() })
      }
      resolve({ ok: true, value: JSON.parse(line.slice("RESULT ".length)) as A, seconds: seconds() })
    })
  })

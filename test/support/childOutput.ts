/**
 * Reads a child process's output line by line, for tests that drive a child (shutdown, serverless):
 * the lines so far, `waitFor(prefix)` (the first line starting with it; rejects, with the last lines
 * and stderr, if the child ends first) and `exited`.
 */
import type { ChildProcess } from "node:child_process"

/** How the child ended, and when (epoch ms). */
export interface Exited {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly atMs: number
}

/** The child's output so far and the ways to wait on it. */
export interface ChildOutput {
  readonly lines: ReadonlyArray<string>
  readonly exited: Promise<Exited>
  readonly waitFor: (prefix: string) => Promise<string>
}

/** Starts reading `child`'s stdout (lines) and stderr (its last 2 000 characters, for messages). */
export const watchOutput = (child: ChildProcess): ChildOutput => {
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
  let stderr = ""
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000)
  })
  // "close", not "exit": at "exit" the child's last lines may still be unread in the pipe.
  const exited = new Promise<Exited>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, atMs: Date.now() }))
  )
  const waitFor = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const found = lines.find((l) => l.startsWith(prefix))
      if (found !== undefined) return resolve(found)
      waiters.push({ prefix, resolve })
      void exited.then(({ code, signal }) =>
        reject(
          new Error(
            `the child exited (code ${code}, signal ${signal}) before printing ${prefix}; ` +
              `last lines: ${lines.slice(-3).join(" | ")}; stderr: ${stderr}`
          )
        )
      )
    })
  return { lines, exited, waitFor }
}

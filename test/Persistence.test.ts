/**
 * The CLI as a child process with `--data FILE`: SIGKILL it in the middle of a stream of writes,
 * restart it on the same file, and every acknowledged write is still there. Also: SIGTERM stops
 * it cleanly.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, assert, describe, it } from "@effect/vitest"

const root = fileURLToPath(new URL("..", import.meta.url))
const children = new Set<ChildProcess>()
const dirs: Array<string> = []

afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  children.clear()
  for (const dir of dirs.splice(0)) Fs.rmSync(dir, { recursive: true, force: true })
})

/** Starts `promptlayer-effect emulator --port 0 --data FILE`; resolves with its URL once it prints it. */
const startCli = (dataFile: string, extra: ReadonlyArray<string> = []) =>
  new Promise<{ child: ChildProcess; url: string; apiKey: string; output: () => string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "src/cli.ts", "emulator", "--port", "0", "--data", dataFile, ...extra],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] }
    )
    children.add(child)
    let output = ""
    const timer = setTimeout(() => reject(new Error(`the CLI did not print its URL in 20 s:\n${output}`)), 20_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1]
      const key = /PROMPTLAYER_API_KEY=(\S+)/.exec(output)?.[1]
      if (url && key) {
        clearTimeout(timer)
        resolve({ child, url, apiKey: key, output: () => output })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`the CLI exited (${code ?? signal}) before listening:\n${output}`))
    })
  })

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode })
    else child.once("exit", (code, signal) => resolve({ code, signal }))
  })

const post = async (url: string, path: string, apiKey: string, body: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": apiKey },
    body: JSON.stringify(body)
  })
  return { status: response.status, json: (await response.json()) as any }
}

const logBody = (n: number) => ({
  provider: "openai",
  model: "gpt-4o-mini",
  input: { type: "chat", messages: [{ role: "user", content: [{ type: "text", text: `question ${n}` }] }] },
  output: { type: "chat", messages: [{ role: "assistant", content: [{ type: "text", text: `answer ${n}` }] }] },
  request_start_time: "2026-01-01T00:00:00Z",
  request_end_time: "2026-01-01T00:00:01Z",
  tags: [`n${n}`]
})

const tempFile = () => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "pl-emulator-"))
  dirs.push(dir)
  return Path.join(dir, "state.json")
}

describe("persistence (--data)", () => {
  it("SIGKILL mid-run loses no acknowledged write", async () => {
    const dataFile = tempFile()
    const first = await startCli(dataFile)
    const acked: Array<{ id: number; n: number; scored: boolean }> = []
    let stop = false
    let n = 0
    const worker = async () => {
      while (!stop) {
        const mine = n++
        try {
          const log = await post(first.url, "/log-request", first.apiKey, logBody(mine))
          if (log.status !== 201) throw new Error(`log-request ${log.status}`)
          const entry = { id: log.json.id as number, n: mine, scored: false }
          acked.push(entry)
          const score = await post(first.url, "/library-track-score", first.apiKey, {
            request_id: entry.id,
            score: mine % 101
          })
          if (score.status === 200) entry.scored = true
        } catch {
          return // the process is gone
        }
      }
    }
    const workers = Array.from({ length: 4 }, worker)
    while (acked.length < 60) await new Promise((r) => setTimeout(r, 5))
    first.child.kill("SIGKILL")
    stop = true
    await Promise.all(workers)
    const { signal } = await exited(first.child)
    assert.strictEqual(signal, "SIGKILL")
    assert.isAtLeast(acked.length, 60)

    // The file is whole JSON after the crash.
    assert.doesNotThrow(() => JSON.parse(Fs.readFileSync(dataFile, "utf8")))

    const second = await startCli(dataFile)
    const stored = (await (await fetch(`${second.url}/emulator/requests`)).json()) as {
      items: Array<{ id: number; tags: Array<string>; scores: Record<string, number> }>
    }
    const byId = new Map(stored.items.map((r) => [r.id, r]))
    for (const entry of acked) {
      const request = byId.get(entry.id)
      assert.isDefined(request, `acknowledged request ${entry.id} lost`)
      assert.deepStrictEqual(request!.tags, [`n${entry.n}`])
      if (entry.scored) assert.strictEqual(request!.scores.default, entry.n % 101, `score of ${entry.id} lost`)
    }
    // Ids stay monotonic across the restart.
    const next = await post(second.url, "/log-request", second.apiKey, logBody(-1))
    assert.isAbove(next.json.id, Math.max(...acked.map((a) => a.id)))
    second.child.kill("SIGTERM")
    await exited(second.child)
  })

  it("SIGTERM and SIGINT shut the CLI down cleanly (exit 0), state kept", async () => {
    const dataFile = tempFile()
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const cli = await startCli(dataFile, ["--api-key", "local-test-key"])
      assert.strictEqual(cli.apiKey, "local-test-key")
      assert.include(cli.output(), `export PROMPTLAYER_BASE_URL=${cli.url}`)
      const created = await post(cli.url, "/create-group", cli.apiKey, {})
      assert.strictEqual(created.status, 200)
      cli.child.kill(signal)
      const { code } = await exited(cli.child)
      assert.strictEqual(code, 0, cli.output())
      assert.include(cli.output(), `Received ${signal}`)
    }
    const state = JSON.parse(Fs.readFileSync(dataFile, "utf8"))
    assert.deepStrictEqual(
      state.groups.map((g: { id: number }) => g.id),
      [1, 2]
    )
  })

  it("a corrupt data file stops the CLI with a clear error instead of overwriting it", async () => {
    const dataFile = tempFile()
    Fs.writeFileSync(dataFile, "{not json")
    const error = await startCli(dataFile).then(
      () => undefined,
      (e: Error) => e
    )
    assert.include(String(error?.message), "cannot load")
    assert.strictEqual(Fs.readFileSync(dataFile, "utf8"), "{not json")
  })
})

/**
 * Persistence (`--data FILE`). The CLI as a child process: SIGKILL it in the middle of a stream of
 * writes, restart it on the same file, and every acknowledged write is still there; SIGTERM stops
 * it cleanly. The data file itself (snapshot + journal, `src/internal/emulator/persistence.ts`): a failed
 * write is undone (a retry does not duplicate), damaged files are refused with the bad entry
 * named, stale temp files are removed, a symlink at the temp name is not followed, compaction
 * keeps concurrent writes, earlier files migrate, a torn last journal line is ignored. The
 * `/spans-bulk` trace state (spans, closed traces) is journaled, undone and checked like the rest.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, assert, describe, it } from "@effect/vitest"
import { DATA_FORMAT, DataFileWriteError } from "../src/internal/emulator/persistence.js"
import { Store } from "../src/internal/emulator/store.js"
import { EmulatorError, startEmulator } from "../src/PromptLayerEmulator.js"
import { faultyIo, logBody, open, reload, tempDirs } from "./support/dataFile.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const children = new Set<ChildProcess>()
const dirs = tempDirs()

afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  children.clear()
  dirs.removeAll()
})

/**
 * Starts `promptlayer-effect emulator --port 0 --data FILE`; resolves with its URL once it prints
 * it. `fileSizeLimit` (512-byte blocks, `ulimit -f`) makes writes past it fail with EFBIG.
 */
const startCli = (dataFile: string, extra: ReadonlyArray<string> = [], fileSizeLimit?: number) =>
  new Promise<{ child: ChildProcess; url: string; apiKey: string; output: () => string }>((resolve, reject) => {
    const args = ["--import", "tsx", "src/cli.ts", "emulator", "--port", "0", "--data", dataFile, ...extra]
    const child =
      fileSizeLimit === undefined
        ? spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
        : spawn("sh", ["-c", `ulimit -f ${fileSizeLimit} && exec "$0" "$@"`, process.execPath, ...args], {
            cwd: root,
            stdio: ["ignore", "pipe", "pipe"]
          })
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

const tempFile = () => Path.join(dirs.make(), "state.json")

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
    assert.deepStrictEqual((await reload(dataFile)).groupIds(), [1, 2])
  })

  it("a write that cannot be made durable (EFBIG) answers 503 and is not kept; its retry is stored once", async () => {
    const dataFile = tempFile()
    const first = await startCli(dataFile, [], 64) // 32 KiB per file: the journal fills up after a few dozen logs
    const acked: Array<string> = []
    let failed: { n: number; status: number; message: string } | undefined
    for (let n = 0; n < 500 && failed === undefined; n++) {
      const log = await post(first.url, "/log-request", first.apiKey, logBody(n))
      if (log.status === 201) acked.push(`n${n}`)
      else failed = { n, status: log.status, message: String(log.json.message) }
    }
    assert.isDefined(failed, "the journal never filled up")
    assert.isAbove(acked.length, 0)
    assert.strictEqual(failed!.status, 503)
    assert.include(failed!.message, "EFBIG")
    assert.include(failed!.message, "not applied")
    const retry = await post(first.url, "/log-request", first.apiKey, logBody(failed!.n))
    assert.strictEqual(retry.status, 503)
    const storedTags = async (url: string) =>
      ((await (await fetch(`${url}/emulator/requests`)).json()) as { items: Array<{ tags: Array<string> }> }).items
        .map((r) => r.tags[0]!)
        .reverse()
    assert.deepStrictEqual(await storedTags(first.url), acked, "memory holds exactly the acknowledged writes")
    first.child.kill("SIGTERM")
    await exited(first.child)

    const second = await startCli(dataFile)
    assert.deepStrictEqual(await storedTags(second.url), acked)
    const again = await post(second.url, "/log-request", second.apiKey, logBody(failed!.n))
    assert.strictEqual(again.status, 201)
    assert.strictEqual(again.json.id, acked.length + 1)
    assert.deepStrictEqual(await storedTags(second.url), [...acked, `n${failed!.n}`])
    second.child.kill("SIGTERM")
    await exited(second.child)
  })

  it("--help describes --data as FILE plus its journal FILE.journal.N", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "emulator", "--help"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.add(child)
    let output = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    // "close" (not "exit") comes after stdout has been read to its end.
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve))
    assert.strictEqual(code, 0)
    const data = output.slice(output.indexOf("--data FILE"), output.indexOf("--api-key"))
    assert.include(data, "persist the state to FILE plus its journal FILE.journal.N")
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

const tags = (store: Store) => store.requests().map((r) => [r.id, r.tags[0]])

describe("data file (snapshot + journal)", () => {
  it("an injected fdatasync failure undoes the write: the retry gets the same id, no duplicate", async () => {
    const file = tempFile()
    const faults = faultyIo()
    const { store, dataFile } = open(file, { io: faults.io })
    store.logRequest(logBody(1))
    await dataFile.durable()
    faults.failNext("sync")
    store.logRequest(logBody(2))
    const error = await dataFile.durable().then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(error, DataFileWriteError)
    assert.include(String((error as Error).message), "EIO")
    assert.deepStrictEqual(tags(store), [[1, "n1"]], "the failed write is not in memory")
    const retried = store.logRequest(logBody(2))
    assert.strictEqual(retried.id, 2)
    await dataFile.durable()
    await dataFile.close()
    assert.deepStrictEqual(tags(await reload(file)), [
      [2, "n2"],
      [1, "n1"]
    ])
  })

  it("a failed batch of every kind of change leaves the state exactly as it was", async () => {
    const file = tempFile()
    const faults = faultyIo()
    const { store, dataFile } = open(file, { io: faults.io })
    const template = (text: string, name = "greet") => {
      const body = {
        prompt_name: name,
        tags: ["a"],
        prompt_template: { type: "chat", messages: [{ role: "user", content: [{ type: "text", text }] }] }
      }
      return { prompt_template: body, prompt_version: body, release_labels: ["prod"] }
    }
    store.publishTemplate(template("Hello {name}"))
    store.publishWorkflow({ name: "flow", outputs: { Answer: "Hi {name}" } })
    const id = store.logRequest(logBody(1)).id as number
    store.createGroup()
    await dataFile.durable()
    const before = store.snapshot()
    faults.failNext("append")
    store.publishTemplate(template("Bye {name}")) // a new version of an existing template
    store.publishTemplate(template("x", "other"))
    store.publishWorkflow({ name: "flow", outputs: { Answer: "Yo {name}" }, release_labels: ["prod"] })
    store.runWorkflow("flow", { input_variables: { name: "Ada" } })
    store.trackMetadata({ request_id: id, metadata: { user: "u1" } })
    store.trackGroup({ request_id: id, group_id: 1 })
    store.trackPrompt({ request_id: id, prompt_name: "greet", prompt_input_variables: { name: "Ada" } })
    store.createGroup()
    store.logRequest(logBody(2))
    store.exportTraces({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "t", spanId: "s", name: "a" }] }] }] })
    await dataFile.durable().catch(() => undefined)
    assert.deepStrictEqual(store.snapshot(), before)
    await dataFile.close()
    assert.deepStrictEqual((await reload(file)).snapshot(), before)
  })

  it("closing during a compaction keeps every acknowledged write", async () => {
    const file = tempFile()
    const { store, dataFile } = open(file, { sliceMs: 0 })
    for (let i = 1; i <= 100; i++) store.logRequest(logBody(i))
    await dataFile.settle()
    void dataFile.compact()
    store.logRequest(logBody(101))
    const acked = dataFile.durable()
    await dataFile.close()
    await acked
    assert.strictEqual((await reload(file)).requests().length, 101)
  })

  it("a half-written batch is cut off the journal; changes made meanwhile are undone too", async () => {
    const file = tempFile()
    const faults = faultyIo()
    const { store, dataFile } = open(file, { io: faults.io })
    const id = store.logRequest(logBody(1)).id as number
    store.trackScore({ request_id: id, score: 10 })
    await dataFile.durable()
    faults.failNext("append-half")
    store.trackScore({ request_id: id, score: 20 })
    const first = dataFile.durable()
    // Made while the failing batch is being written: it builds on it, so it goes as well.
    store.trackScore({ request_id: id, score: 30 })
    store.createGroup()
    const second = dataFile.durable()
    const outcomes = await Promise.allSettled([first, second])
    assert.deepStrictEqual(
      outcomes.map((o) => o.status),
      ["rejected", "rejected"]
    )
    assert.deepStrictEqual(store.request(id)?.scores, { default: 10 })
    assert.deepStrictEqual(store.groupIds(), [])
    store.createGroup()
    await dataFile.durable()
    await dataFile.close()
    const again = await reload(file)
    assert.deepStrictEqual(again.request(id)?.scores, { default: 10 })
    assert.deepStrictEqual(again.groupIds(), [1])
  })

  it("a failed reset is undone", async () => {
    const file = tempFile()
    const faults = faultyIo()
    const { store, dataFile } = open(file, { io: faults.io })
    store.logRequest(logBody(1))
    store.exportTraces({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "t", spanId: "s", name: "a" }] }] }] })
    await dataFile.durable()
    faults.failNext("append")
    store.reset()
    store.logRequest(logBody(9))
    await dataFile.durable().catch(() => undefined)
    assert.deepStrictEqual(tags(store), [[1, "n1"]])
    assert.strictEqual(store.traceSpans().length, 1)
    assert.strictEqual(store.logRequest(logBody(2)).id, 2)
    await dataFile.close()
    const again = await reload(file)
    assert.deepStrictEqual(tags(again), [
      [2, "n2"],
      [1, "n1"]
    ])
    assert.strictEqual(again.traceSpans().length, 1)
  })

  it("a damaged snapshot is refused with the file and the first bad entry named, and left as it is", async () => {
    const file = tempFile()
    const { store, dataFile } = open(file)
    store.logRequest(logBody(1))
    await dataFile.settle()
    await dataFile.close()
    const text = Fs.readFileSync(file, "utf8")
    const bad = text.replace('"id":1,', '"id":-1,')
    assert.notStrictEqual(bad, text)
    Fs.writeFileSync(file, bad)
    const error = await startEmulator({ dataFile: file }).then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(error, EmulatorError)
    assert.strictEqual((error as EmulatorError).reason, "DataFile")
    assert.include((error as EmulatorError).message, file)
    assert.include((error as EmulatorError).message, "snapshot.requests[0].id: expected a positive integer, got -1")
    assert.strictEqual(Fs.readFileSync(file, "utf8"), bad)
  })

  it("a bad journal line is refused naming the journal and the line; a torn last line is ignored", async () => {
    const file = tempFile()
    const { store, dataFile } = open(file)
    store.logRequest(logBody(1))
    await dataFile.settle()
    store.logRequest(logBody(2))
    await dataFile.durable()
    await dataFile.close()
    const journal = Fs.readdirSync(Path.dirname(file))
      .filter((n) => n.startsWith("state.json.journal."))
      .map((n) => Path.join(Path.dirname(file), n))
      .find((p) => Fs.statSync(p).size > 0)!
    Fs.appendFileSync(journal, '[{"t":"request","v":{"id":3,"kind":"log-req') // torn: no newline
    assert.deepStrictEqual(tags(await reload(file)), [
      [2, "n2"],
      [1, "n1"]
    ])
    const lines = Fs.readFileSync(journal, "utf8").split("\n")
    Fs.writeFileSync(journal, `${lines[0]!.replace('"group_ids":[]', '"group_ids":["x"]')}\n`)
    const error = await startEmulator({ dataFile: file }).then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(error, EmulatorError)
    assert.include(
      (error as EmulatorError).message,
      `${journal} line 1: [0].v.group_ids[0]: expected a positive integer`
    )
  })

  it("Store.restore refuses a bad snapshot and keeps its state", () => {
    const store = new Store()
    store.logRequest(logBody(1))
    const snapshot = store.snapshot()
    const bad = { ...snapshot, requests: [{ ...snapshot.requests[0]!, id: "1" }] }
    assert.throws(() => store.restore(bad as never), 'snapshot.requests[0].id: expected a positive integer, got "1"')
    const twice = { ...snapshot, requests: [snapshot.requests[0]!, snapshot.requests[0]!] }
    assert.throws(() => store.restore(twice), "snapshot.requests[1].id: duplicate id 1")
    assert.deepStrictEqual(tags(store), [[1, "n1"]])
  })

  it("stale temp files of ours are removed at start, other files are not", async () => {
    const file = tempFile()
    const dir = Path.dirname(file)
    const ours = [".state.json.0123456789abcdef.tmp", ".state.json.4242.tmp"]
    const theirs = [".other.json.0123456789abcdef.tmp", ".state.json.notours.tmp", "state.json.tmp"]
    for (const name of [...ours, ...theirs]) Fs.writeFileSync(Path.join(dir, name), "x")
    const { dataFile } = open(file)
    await dataFile.close()
    for (const name of ours) assert.isFalse(Fs.existsSync(Path.join(dir, name)), name)
    for (const name of theirs) assert.isTrue(Fs.existsSync(Path.join(dir, name)), name)
  })

  it("a symlink planted at the temp name is not followed: the target is untouched, the snapshot not replaced", async () => {
    const file = tempFile()
    const dir = Path.dirname(file)
    const victim = Path.join(dirs.make(), "victim.txt")
    Fs.writeFileSync(victim, "precious")
    const { store, dataFile } = open(file, { tempSuffix: () => "00000000deadbeef" })
    store.logRequest(logBody(1))
    await dataFile.settle()
    const before = Fs.readFileSync(file, "utf8")
    Fs.symlinkSync(victim, Path.join(dir, ".state.json.00000000deadbeef.tmp"))
    store.logRequest(logBody(2))
    await dataFile.durable()
    await dataFile.compact()
    assert.match(String(dataFile.lastCompactionError?.message), /EEXIST/)
    assert.strictEqual(Fs.readFileSync(victim, "utf8"), "precious")
    assert.strictEqual(Fs.readFileSync(file, "utf8"), before)
    await dataFile.close()
    assert.deepStrictEqual(tags(await reload(file)), [
      [2, "n2"],
      [1, "n1"]
    ])
    // The planted link is a stale temp name of ours: removed (the link, not its target) at start.
    assert.isFalse(Fs.existsSync(Path.join(dir, ".state.json.00000000deadbeef.tmp")))
    assert.strictEqual(Fs.readFileSync(victim, "utf8"), "precious")
  })

  it("compaction keeps writes made while the snapshot is being written, and drops old journals", async () => {
    const file = tempFile()
    const dir = Path.dirname(file)
    const { store, dataFile } = open(file, { sliceMs: 0 })
    for (let i = 1; i <= 200; i++) store.logRequest(logBody(i))
    await dataFile.settle()
    let compacting = true
    const compaction = dataFile.compact().finally(() => {
      compacting = false
    })
    const during: Array<Promise<void>> = []
    let writesWhileCompacting = 0
    for (let i = 201; i <= 220; i++) {
      await new Promise((r) => setImmediate(r))
      if (compacting) writesWhileCompacting++
      store.logRequest(logBody(i))
      store.trackScore({ request_id: i - 200, score: i % 100 })
      during.push(dataFile.durable())
    }
    await compaction
    assert.isAbove(writesWhileCompacting, 0)
    await Promise.all(during)
    assert.isUndefined(dataFile.lastCompactionError)
    const journals = Fs.readdirSync(dir).filter((n) => n.startsWith("state.json.journal."))
    assert.strictEqual(journals.length, 1, journals.join(", "))
    const snapshot = JSON.parse(Fs.readFileSync(file, "utf8"))
    assert.strictEqual(snapshot.format, DATA_FORMAT)
    assert.strictEqual(`state.json.journal.${snapshot.generation}`, journals[0])
    await dataFile.close()
    const again = await reload(file)
    assert.deepStrictEqual(again.snapshot(), store.snapshot())
    assert.strictEqual(again.logRequest(logBody(221)).id, 221)
  })

  it("the journal is compacted on its own once it outgrows the snapshot and the threshold", async () => {
    const file = tempFile()
    const dir = Path.dirname(file)
    const { store, dataFile } = open(file, { compactAfterBytes: 20_000 })
    await dataFile.settle()
    const generation = () => JSON.parse(Fs.readFileSync(file, "utf8")).generation as number
    const first = generation()
    for (let i = 1; i <= 60; i++) {
      store.logRequest(logBody(i))
      await dataFile.durable()
    }
    await dataFile.close() // waits for a compaction under way
    assert.isAbove(generation(), first)
    const journals = Fs.readdirSync(dir).filter((n) => n.startsWith("state.json.journal."))
    assert.isTrue(
      journals.every((n) => Number(n.split(".").pop()) >= generation()),
      journals.join(", ")
    )
    assert.deepStrictEqual((await reload(file)).snapshot(), store.snapshot())
  })

  it("a data file of an earlier version (one JSON snapshot) loads and is migrated", async () => {
    const file = tempFile()
    const old = new Store()
    old.logRequest(logBody(1))
    old.createGroup()
    Fs.writeFileSync(file, JSON.stringify(old.snapshot()))
    const { store, dataFile } = open(file)
    assert.deepStrictEqual(store.snapshot(), old.snapshot())
    await dataFile.settle()
    await dataFile.close()
    assert.strictEqual(JSON.parse(Fs.readFileSync(file, "utf8")).format, DATA_FORMAT)
    assert.deepStrictEqual((await reload(file)).snapshot(), old.snapshot())
  })
})

const TRACE = "0123456789abcdef0123456789abcdef"

/** A `/spans-bulk` span of `trace`, with a request log when `log` is given. */
const bulkSpan = (spanId: string, options: { readonly trace?: string; readonly log?: number } = {}) => ({
  name: `span ${spanId}`,
  context: { trace_id: options.trace ?? TRACE, span_id: spanId, trace_state: "" },
  kind: "SpanKind.INTERNAL",
  parent_id: null,
  start_time: "1767225600000000000",
  end_time: "1767225600123456789",
  status: { status_code: "StatusCode.OK" },
  attributes: { "lc.run_type": "chain" },
  resource: { attributes: { "service.name": "test" }, schema_url: "" },
  ...(options.log === undefined ? {} : { log_request: logBody(options.log) })
})

/** The journals beside `file` (names). */
const journalsOf = (file: string) =>
  Fs.readdirSync(Path.dirname(file)).filter((n) => n.startsWith(`${Path.basename(file)}.journal.`))

describe("trace state (/spans-bulk) in the data file", () => {
  it("spans and a closed trace survive a restart through the journal alone, and after compaction", async () => {
    const file = tempFile()
    const first = open(file)
    await first.dataFile.settle() // the (empty) snapshot: what follows is in the journal only
    const other = "fedcba9876543210fedcba9876543210"
    first.store.traces.createSpansBulk({
      spans: [bulkSpan("aaaaaaaaaaaaaaa1", { log: 1 }), bulkSpan("aaaaaaaaaaaaaaa2")]
    })
    first.store.traces.createSpansBulk({ spans: [bulkSpan("bbbbbbbbbbbbbbb1", { trace: other })], close_after: true })
    first.store.traces.createSpansBulk({ spans: [bulkSpan("aaaaaaaaaaaaaaa3")] })
    first.store.traces.closeTrace(TRACE)
    await first.dataFile.durable()
    await first.dataFile.close()
    const expected = first.store.snapshot()
    assert.strictEqual(expected.traces?.spans.length, 4)
    assert.strictEqual(expected.traces?.closures.length, 2)
    const snapshotFile = JSON.parse(Fs.readFileSync(file, "utf8"))
    assert.deepStrictEqual(snapshotFile.state.traces.spans, [], "the spans are in the journal, not the snapshot")

    const second = open(file)
    assert.deepStrictEqual(second.store.snapshot(), expected)
    assert.strictEqual(second.store.traces.traceOfRequest(1)?.span_id, "aaaaaaaaaaaaaaa1")
    assert.strictEqual(second.store.request(1)?.span_id, "aaaaaaaaaaaaaaa1")
    const late = second.store.traces.createSpansBulk({ spans: [bulkSpan("aaaaaaaaaaaaaaa4")] })
    assert.deepStrictEqual(late.rejected_span_ids, ["aaaaaaaaaaaaaaa4"], "the closure was replayed")
    await second.dataFile.compact()
    assert.isUndefined(second.dataFile.lastCompactionError)
    await second.dataFile.close()
    const compacted = JSON.parse(Fs.readFileSync(file, "utf8"))
    assert.strictEqual(compacted.state.traces.spans.length, 4)
    assert.strictEqual(compacted.state.traces.closures.length, 2)
    for (const name of journalsOf(file)) assert.strictEqual(Fs.statSync(Path.join(Path.dirname(file), name)).size, 0)

    const third = await reload(file)
    assert.deepStrictEqual(third.snapshot(), expected)
    const next = third.traces.createSpansBulk({ spans: [bulkSpan("ccccccccccccccc1", { trace: "c".repeat(32) })] })
    assert.strictEqual((next.spans as Array<{ id: number }>)[0]!.id, 5, "span ids continue after a restart")
  })

  it("spans appended while a compaction writes the snapshot are kept once", async () => {
    const file = tempFile()
    const { store, dataFile } = open(file, { sliceMs: 0 })
    for (let i = 1; i <= 300; i++) store.traces.createSpansBulk({ spans: [bulkSpan(i.toString(16).padStart(16, "0"))] })
    await dataFile.settle()
    let compacting = true
    const compaction = dataFile.compact().finally(() => {
      compacting = false
    })
    let appendedWhileCompacting = 0
    for (let i = 301; i <= 320; i++) {
      await new Promise((r) => setImmediate(r))
      if (compacting) appendedWhileCompacting++
      store.traces.createSpansBulk({ spans: [bulkSpan(i.toString(16).padStart(16, "0"), { trace: "d".repeat(32) })] })
    }
    store.traces.closeTrace("d".repeat(32))
    await compaction
    await dataFile.durable()
    assert.isAbove(appendedWhileCompacting, 0)
    await dataFile.close()
    const again = await reload(file)
    assert.strictEqual(again.traces.count(), 320)
    assert.deepStrictEqual(again.snapshot(), store.snapshot())
  })

  it("a /spans-bulk batch whose write fails leaves no span, closure or request log; the retry is stored once", async () => {
    const file = tempFile()
    const faults = faultyIo()
    const { store, dataFile } = open(file, { io: faults.io })
    store.traces.createSpansBulk({ spans: [bulkSpan("aaaaaaaaaaaaaaa1", { log: 1 })] })
    await dataFile.durable()
    const before = store.snapshot()
    faults.failNext("sync")
    const batch = {
      spans: [
        bulkSpan("aaaaaaaaaaaaaaa2", { log: 2 }),
        bulkSpan("bbbbbbbbbbbbbbb1", { trace: "b".repeat(32), log: 3 })
      ],
      close_after: true
    }
    const failed = store.traces.createSpansBulk(batch)
    const error = await dataFile.durable().then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(error, DataFileWriteError)
    assert.deepStrictEqual(store.snapshot(), before, "no span, closure or request log of the failed batch is kept")
    const retried = store.traces.createSpansBulk(batch)
    assert.deepStrictEqual(retried, failed, "the retry gets the same span and request log ids")
    await dataFile.durable()
    await dataFile.close()
    const again = await reload(file)
    assert.strictEqual(again.traces.count(), 3)
    assert.deepStrictEqual(
      again.requests().map((r) => r.span_id),
      ["bbbbbbbbbbbbbbb1", "aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1"]
    )
    assert.isDefined(again.traces.closure(TRACE))
  })

  it("a failed reset is undone for the trace state too, and spans added after it go as well", async () => {
    const file = tempFile()
    const faults = faultyIo()
    const { store, dataFile } = open(file, { io: faults.io })
    store.traces.createSpansBulk({ spans: [bulkSpan("aaaaaaaaaaaaaaa1", { log: 1 })], close_after: true })
    await dataFile.durable()
    const before = store.snapshot()
    faults.failNext("append")
    store.reset()
    store.traces.createSpansBulk({ spans: [bulkSpan("aaaaaaaaaaaaaaa2")] })
    await dataFile.durable().catch(() => undefined)
    assert.deepStrictEqual(store.snapshot(), before)
    await dataFile.close()
    assert.deepStrictEqual((await reload(file)).snapshot(), before)
  })

  it("over HTTP, a /spans-bulk batch that cannot be made durable (EFBIG) answers 503 and leaves nothing behind", async () => {
    const dataFile = tempFile()
    const first = await startCli(dataFile, [], 64) // 32 KiB per file
    let acked = 0
    let failed: { n: number; status: number; message: string } | undefined
    const batch = (n: number) => ({
      spans: [bulkSpan(n.toString(16).padStart(16, "0"), { trace: n.toString(16).padStart(32, "0"), log: n })]
    })
    for (let n = 1; n < 500 && failed === undefined; n++) {
      const r = await post(first.url, "/spans-bulk", first.apiKey, batch(n))
      if (r.status === 201) acked++
      else failed = { n, status: r.status, message: String(r.json.message) }
    }
    assert.isDefined(failed, "the journal never filled up")
    assert.isAbove(acked, 0)
    assert.strictEqual(failed!.status, 503)
    assert.include(failed!.message, "EFBIG")
    const counts = async (url: string) => ({
      traces: ((await (await fetch(`${url}/emulator/traces`)).json()) as { items: Array<unknown> }).items.length,
      requests: ((await (await fetch(`${url}/emulator/requests`)).json()) as { items: Array<unknown> }).items.length
    })
    assert.deepStrictEqual(await counts(first.url), { traces: acked, requests: acked })
    first.child.kill("SIGTERM")
    await exited(first.child)

    const second = await startCli(dataFile)
    assert.deepStrictEqual(await counts(second.url), { traces: acked, requests: acked })
    const again = await post(second.url, "/spans-bulk", second.apiKey, batch(failed!.n))
    assert.strictEqual(again.status, 201)
    assert.strictEqual(again.json.request_logs[0].id, acked + 1)
    assert.strictEqual(again.json.spans[0].id, acked + 1)
    assert.deepStrictEqual(await counts(second.url), { traces: acked + 1, requests: acked + 1 })
    second.child.kill("SIGTERM")
    await exited(second.child)
  })

  it("a bad trace entry in a snapshot or a journal is refused naming the entry", async () => {
    const file = tempFile()
    const { store, dataFile } = open(file)
    store.traces.createSpansBulk({ spans: [bulkSpan("aaaaaaaaaaaaaaa1")] })
    await dataFile.settle() // in the snapshot
    store.traces.createSpansBulk({ spans: [bulkSpan("aaaaaaaaaaaaaaa2")] })
    await dataFile.durable() // in the journal
    await dataFile.close()
    const refusal = async () => {
      const error = await startEmulator({ dataFile: file }).then(
        () => undefined,
        (e: unknown) => e
      )
      assert.instanceOf(error, EmulatorError)
      return (error as EmulatorError).message
    }

    const journal = journalsOf(file)
      .map((n) => Path.join(Path.dirname(file), n))
      .find((p) => Fs.statSync(p).size > 0)!
    const line = Fs.readFileSync(journal, "utf8")
    const badLine = line.replace('"start_time":"1767225600000000000"', '"start_time":"1.5e18"')
    assert.notStrictEqual(badLine, line)
    Fs.writeFileSync(journal, badLine)
    assert.include(
      await refusal(),
      `${journal} line 1: [0].spans[0].start_time: expected a string of decimal digits (nanoseconds), got "1.5e18"`
    )
    Fs.writeFileSync(journal, line)

    const text = Fs.readFileSync(file, "utf8")
    const badKind = text.replace('"kind":"SpanKind.INTERNAL"', '"kind":"INTERNAL"')
    assert.notStrictEqual(badKind, text)
    Fs.writeFileSync(file, badKind)
    assert.include(await refusal(), "snapshot.traces.spans[0].kind: expected one of SpanKind.CLIENT")
    assert.include(await refusal(), 'got "INTERNAL"')
    Fs.writeFileSync(file, text)
    assert.strictEqual((await reload(file)).traces.count(), 2, "the repaired file loads")
  })

  it("Store.restore refuses a trace snapshot with a repeated span id or a trace closed twice", () => {
    const store = new Store()
    store.traces.createSpansBulk({ spans: [bulkSpan("aaaaaaaaaaaaaaa1")], close_after: true })
    const snapshot = store.snapshot()
    const traces = snapshot.traces!
    assert.throws(
      () => store.restore({ ...snapshot, traces: { ...traces, spans: [traces.spans[0]!, traces.spans[0]!] } }),
      "snapshot.traces.spans[1].id: duplicate id 1"
    )
    assert.throws(
      () => store.restore({ ...snapshot, traces: { ...traces, closures: [traces.closures[0]!, traces.closures[0]!] } }),
      `snapshot.traces.closures[1].trace_id: trace "${TRACE}" closed twice`
    )
    assert.strictEqual(store.traces.count(), 1)
  })
})

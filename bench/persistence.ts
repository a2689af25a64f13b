/**
 * Benchmark of the emulator's persistence (`--data`): per-write latency and the longest
 * event-loop stall at 1 000 / 10 000 / 50 000 stored requests, for the journal
 * (`src/internal/emulator/persistence.ts`), with the previous design (the whole state rewritten per write)
 * measured alongside for comparison.
 *
 * Method. For each size, a store is filled with N stored requests of ~1.2 KB JSON each and saved as
 * a data file of the previous version, which the data file loads and migrates (compaction). Then,
 * in the same process, with `perf_hooks.monitorEventLoopDelay` (10 ms resolution) running:
 * 1. sequential: 200 writes, each `store.logRequest` + `await dataFile.durable()` (acknowledged);
 * 2. concurrent: 16 writers, 1 000 writes in all (group commit);
 * 3. compaction: a compaction of the whole state while 16 writers keep writing; the stall figure
 *    covers the whole phase.
 * No HTTP: this measures the store and its data file, which is what a write waits for.
 * The previous design is measured as what it did per write: `JSON.stringify` of the snapshot
 * (blocking), write, fsync, rename (median of 3 samples; 1 sample from 20 000 requests on).
 *
 * Each phase also reports the journal's fdatasync times (a timing `JournalIo` around the real one),
 * to tell the disk's share of a write's latency from the event loop's.
 *
 * Usage: npx tsx bench/persistence.ts [sizes, default 1000,10000,50000]; the report goes to stdout
 * and to bench/RESULTS-persistence.md.
 * Targets (issue 11, point 5): ≤ 5 ms per acknowledged write and no event-loop stall over 50 ms at
 * 50 000 stored requests.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { monitorEventLoopDelay, performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { DataFile, defaultIo, type JournalIo } from "../src/internal/emulator/persistence.js"
import { type Snapshot, Store } from "../src/internal/emulator/store.js"

const sizes = (process.argv[2] ?? "1000,10000,50000").split(",").map(Number)
const WRITERS = 16
const RESULTS = fileURLToPath(new URL("./RESULTS-persistence.md", import.meta.url))

const report: Array<string> = []
const out = (line: string) => {
  report.push(line)
  console.log(line)
}

/** fdatasync durations of the journal since the last `take`. */
const syncTimes: Array<number> = []
const timingIo: JournalIo = {
  append: defaultIo.append,
  sync: async (fd) => {
    const t = performance.now()
    try {
      await defaultIo.sync(fd)
    } finally {
      syncTimes.push(performance.now() - t)
    }
  }
}

const text = (n: number, words: number) =>
  Array.from({ length: words }, (_, i) => `word${(n * 31 + i) % 997}`).join(" ")

const logBody = (n: number) => ({
  provider: "openai",
  model: "gpt-4o-mini",
  input: { type: "chat", messages: [{ role: "user", content: [{ type: "text", text: text(n, 40) }] }] },
  output: { type: "chat", messages: [{ role: "assistant", content: [{ type: "text", text: text(n + 1, 40) }] }] },
  request_start_time: "2026-01-01T00:00:00Z",
  request_end_time: "2026-01-01T00:00:01Z",
  tags: [`n${n}`],
  metadata: { user: `u${n % 50}` }
})

/** A snapshot of the previous file format with `n` stored requests. */
const filledSnapshot = (n: number): Snapshot => {
  const store = new Store()
  for (let i = 1; i <= Math.min(n, 100); i++) store.logRequest(logBody(i))
  const base = store.snapshot()
  const requests = Array.from({ length: n }, (_, i) => ({ ...base.requests[i % base.requests.length]!, id: i + 1 }))
  return { ...base, requests, next: { ...base.next, request: n + 1 } }
}

const quantile = (sorted: ReadonlyArray<number>, q: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2))

interface Phase {
  readonly writes: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly seconds: number
  readonly stallMax: number
  readonly stallP99: number
  readonly syncP50: number
  readonly syncP99: number
}

/** Runs `writers` loops of acknowledged writes until `count` writes or until `until` resolves. */
const measure = async (
  store: Store,
  dataFile: DataFile,
  writers: number,
  count: number,
  until?: Promise<unknown>
): Promise<Phase> => {
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  syncTimes.length = 0
  const latencies: Array<number> = []
  let started = 0
  let done = false
  void until?.finally(() => {
    done = true
  })
  const t0 = performance.now()
  const worker = async () => {
    while (until !== undefined ? !done : started < count) {
      const n = started++
      const t = performance.now()
      const { id } = store.logRequest(logBody(n)) as { id: number }
      if (n % 2 === 1) store.trackScore({ request_id: id, score: n % 100 })
      await dataFile.durable()
      latencies.push(performance.now() - t)
    }
  }
  await Promise.all(Array.from({ length: writers }, worker))
  await until
  const seconds = (performance.now() - t0) / 1000
  histogram.disable()
  latencies.sort((a, b) => a - b)
  const syncs = syncTimes.splice(0).sort((a, b) => a - b)
  return {
    syncP50: quantile(syncs, 0.5),
    syncP99: quantile(syncs, 0.99),
    writes: latencies.length,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    seconds,
    stallMax: histogram.max / 1e6 - 10,
    stallP99: histogram.percentile(99) / 1e6 - 10
  }
}

/** The previous design: the whole snapshot serialized (blocking) and rewritten, per write. */
const wholeFileRewrite = (store: Store, dir: string) => {
  const samples: Array<{ total: number; stringify: number }> = []
  const count = store.counts().requests >= 20_000 ? 1 : 3
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    const json = JSON.stringify(store.snapshot())
    const t1 = performance.now()
    const tmp = Path.join(dir, "rewrite.tmp")
    const fd = Fs.openSync(tmp, "w")
    Fs.writeSync(fd, json)
    Fs.fsyncSync(fd)
    Fs.closeSync(fd)
    Fs.renameSync(tmp, Path.join(dir, "rewrite.json"))
    samples.push({ total: performance.now() - t0, stringify: t1 - t0 })
  }
  samples.sort((a, b) => a.total - b.total)
  return samples[Math.floor(samples.length / 2)]!
}

const runSize = async (n: number) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "pl-persist-bench-"))
  try {
    const file = Path.join(dir, "state.json")
    Fs.writeFileSync(file, JSON.stringify(filledSnapshot(n)))
    const fileMb = Fs.statSync(file).size / 1e6
    const store = new Store()
    const tLoad = performance.now()
    const dataFile = DataFile.open(file, store, { io: timingIo })
    const loadMs = performance.now() - tLoad
    const tMigrate = performance.now()
    await dataFile.settle()
    const migrateMs = performance.now() - tMigrate
    const sequential = await measure(store, dataFile, 1, 200)
    const concurrent = await measure(store, dataFile, WRITERS, 1000)
    const tCompact = performance.now()
    const compaction = dataFile.compact().then(() => performance.now() - tCompact)
    const during = await measure(store, dataFile, WRITERS, 0, compaction)
    const compactMs = await compaction
    if (dataFile.lastCompactionError !== undefined) throw dataFile.lastCompactionError
    await dataFile.close()
    const previous = wholeFileRewrite(store, dir)
    return { n, fileMb, loadMs, migrateMs, sequential, concurrent, during, compactMs, previous }
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

const started = performance.now()
const cpus = Os.cpus()
out("# Persistence benchmark (bench/persistence.ts)\n")
out(`| | |\n| --- | --- |`)
out(`| Date | ${new Date().toISOString()} |`)
out(`| Node | ${process.version} |`)
out(`| CPU | ${cpus[0]?.model ?? "?"} × ${cpus.length} |`)
out(`| Memory | ${(Os.totalmem() / 2 ** 30).toFixed(1)} GiB |`)
out(
  `| Load average at start | ${Os.loadavg()
    .map((x) => x.toFixed(2))
    .join(" / ")} |`
)
out(`| Data directory | ${Os.tmpdir()} |\n`)

const results = []
for (const n of sizes) results.push(await runSize(n))

out("## Acknowledged write latency (store change + journal append + fdatasync)\n")
out(
  "| stored requests | sequential p50 / p99 / max | 16 writers p50 / p99 / max (writes/s) | during compaction p50 / p99 / max (writes) |"
)
out("| ---: | --- | --- | --- |")
for (const r of results) {
  const s = r.sequential
  const c = r.concurrent
  const d = r.during
  out(
    `| ${r.n} | ${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)} ms | ${ms(c.p50)} / ${ms(c.p99)} / ${ms(c.max)} ms (${(c.writes / c.seconds).toFixed(0)}) | ${ms(d.p50)} / ${ms(d.p99)} / ${ms(d.max)} ms (${d.writes}) |`
  )
}
out("\n## The journal's fdatasync (the disk's share of a write)\n")
out("| stored requests | sequential p50 / p99 | 16 writers p50 / p99 | during compaction p50 / p99 |")
out("| ---: | --- | --- | --- |")
for (const r of results) {
  const f = (p: Phase) => `${ms(p.syncP50)} / ${ms(p.syncP99)} ms`
  out(`| ${r.n} | ${f(r.sequential)} | ${f(r.concurrent)} | ${f(r.during)} |`)
}
out("\n## Longest event-loop stall (monitorEventLoopDelay, 10 ms resolution subtracted)\n")
out("| stored requests | sequential max | 16 writers max | during compaction max (p99) | compaction took |")
out("| ---: | ---: | ---: | ---: | ---: |")
for (const r of results) {
  out(
    `| ${r.n} | ${ms(r.sequential.stallMax)} ms | ${ms(r.concurrent.stallMax)} ms | ${ms(r.during.stallMax)} ms (${ms(r.during.stallP99)} ms) | ${ms(r.compactMs)} ms |`
  )
}
out("\n## Start-up and the previous design\n")
out(
  "| stored requests | file (previous format) | load | migration (first compaction) | previous design, one write (of which blocking JSON.stringify) |"
)
out("| ---: | ---: | ---: | ---: | ---: |")
for (const r of results) {
  out(
    `| ${r.n} | ${r.fileMb.toFixed(1)} MB | ${ms(r.loadMs)} ms | ${ms(r.migrateMs)} ms | ${ms(r.previous.total)} ms (${ms(r.previous.stringify)} ms) |`
  )
}
const largest = results.find((r) => r.n === 50_000)
if (largest !== undefined) {
  const worstP99 = Math.max(largest.sequential.p99, largest.concurrent.p99, largest.during.p99)
  const worstStall = Math.max(largest.sequential.stallMax, largest.concurrent.stallMax, largest.during.stallMax)
  const verdict = (ok: boolean) => (ok ? "**met**" : "**not met**")
  out("\n## Targets at 50 000 stored requests\n")
  out("| Target | Measured | |\n| --- | --- | --- |")
  out(
    `| ≤ 5 ms per acknowledged write (median, one writer) | ${ms(largest.sequential.p50)} ms | ${verdict(largest.sequential.p50 <= 5)} |`
  )
  out(
    `| the same at p99, worst of the three phases | ${ms(worstP99)} ms (load average now ${Os.loadavg()[0]!.toFixed(2)} on ${cpus.length} cores) | ${verdict(worstP99 <= 5)} |`
  )
  out(
    `| no event-loop stall over 50 ms (worst phase, compaction included) | ${ms(worstStall)} ms | ${verdict(worstStall <= 50)} |`
  )
}
out(`\nRun time: ${((performance.now() - started) / 1000).toFixed(1)} s`)
Fs.writeFileSync(RESULTS, `${report.join("\n")}\n`)

/**
 * `npm run bench`: runs every benchmark scenario, each in its own process, against the emulator in
 * another process (so the emulator's CPU is not counted against the handler), and writes
 * bench/RESULTS.md. Every figure is a ratio or a comparison measured in the same run.
 *
 * Scenarios are isolated: each runs in its own process against a fresh emulator process, stopped
 * (with every connection still open) before the next starts, so nothing one scenario left in flight
 * can land in another's counts. Each scenario has a hard deadline, and the whole run one too: a
 * scenario that fails or overruns is killed and reported (what was measured so far is kept in
 * results.json), and the run exits 1 instead of hanging.
 *
 * Environment: BENCH_QUICK=1 runs smaller counts (for trying the script, not for RESULTS.md);
 * BENCH_SCENARIO_DEADLINE_S (default 900) and BENCH_DEADLINE_S (default 3600) set the deadlines.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import autocannon from "autocannon"
import { inclusiveShares, topFrames } from "./support/profile.js"
import { freePort } from "../test/support/ports.js"

const here = Path.dirname(fileURLToPath(import.meta.url))
const root = Path.resolve(here, "..")
const quick = process.env.BENCH_QUICK === "1"
const started = Date.now()
const CONCURRENCY = 16 // the tracker's default concurrency

const SCENARIO_DEADLINE_MS = Number(process.env.BENCH_SCENARIO_DEADLINE_S ?? 900) * 1000
const RUN_DEADLINE_MS = Number(process.env.BENCH_DEADLINE_S ?? 3600) * 1000

const log = (line: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`)

// -----------------------------------------------------------------------------
// Processes
// -----------------------------------------------------------------------------

interface Emulator {
  readonly url: string
  readonly apiKey: string
  readonly child: ChildProcess
  readonly stop: () => Promise<void>
}

const startEmulator = (nodeArgs: ReadonlyArray<string> = []): Promise<Emulator> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", Path.join(here, "support/emulator.ts")], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const line = out.split("\n").find((l) => l.startsWith("{"))
      if (line === undefined) return
      const { url, apiKey } = JSON.parse(line) as { url: string; apiKey: string }
      const stop = () => stopChild(child)
      resolve({ url, apiKey, child, stop })
    })
    child.once("exit", (code) => reject(new Error(`the emulator exited with ${code} before listening`)))
  })

/** Children still running; killed when the run gives up. */
const running = new Set<ChildProcess>()

/** SIGTERM (the emulator writes its profile and exits), then SIGKILL if it has not exited within 10 s. */
const stopChild = (child: ChildProcess): Promise<void> =>
  new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done()
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000)
    child.once("exit", () => {
      clearTimeout(kill)
      done()
    })
    child.kill("SIGTERM")
  })

/** Why a scenario produced no result. */
class ScenarioFailed extends Error {}

/** One scenario in its own process: its RESULT, or a ScenarioFailed when it fails or overruns its deadline. */
const runScenario = <A>(name: string, args: ReadonlyArray<string>, nodeArgs: ReadonlyArray<string> = []): Promise<A> =>
  new Promise((resolve, reject) => {
    const t0 = Date.now()
    log(`${name} ${args.slice(2).join(" ")}`)
    const child = spawn(
      process.execPath,
      ["--expose-gc", ...nodeArgs, "--import", "tsx", Path.join(here, "scenarios.ts"), name, ...args],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] }
    )
    running.add(child)
    let out = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
    })
    const deadline = setTimeout(() => {
      log(`${name}: no result after ${SCENARIO_DEADLINE_MS / 1000} s, killed`)
      child.kill("SIGKILL")
    }, SCENARIO_DEADLINE_MS)
    // "close", not "exit": at "exit" the RESULT line may still be unread in the pipe.
    child.once("close", (code, signal) => {
      clearTimeout(deadline)
      running.delete(child)
      const line = out.split("\n").find((l) => l.startsWith("RESULT "))
      if (code !== 0 || line === undefined) {
        const why =
          signal === "SIGKILL" ? `killed at its ${SCENARIO_DEADLINE_MS / 1000} s deadline` : `exited with ${code}`
        return reject(new ScenarioFailed(`scenario ${name} ${why}`))
      }
      log(`${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
      resolve(JSON.parse(line.slice("RESULT ".length)) as A)
    })
  })

/** What every scenario measured so far (kept when a later one fails). */
const measured: Record<string, unknown> = {}

/**
 * A scenario against a fresh emulator of its own (started before, stopped with its connections
 * after): whatever it leaves in flight (a parked delivery, a pending retry) dies with that emulator.
 */
const scenario = async <A>(
  name: string,
  args: (emulator: Emulator) => ReadonlyArray<string>,
  options: { readonly nodeArgs?: ReadonlyArray<string>; readonly emulator?: Emulator; readonly key?: string } = {}
): Promise<A> => {
  const emulator = options.emulator ?? (await startEmulator())
  running.add(emulator.child)
  try {
    const result = await runScenario<A>(name, args(emulator), options.nodeArgs)
    measured[options.key ?? name] = result
    return result
  } finally {
    if (options.emulator === undefined) {
      await emulator.stop()
      running.delete(emulator.child)
    }
  }
}

// -----------------------------------------------------------------------------
// Load generator: the emulator's own capacity on /log-request
// -----------------------------------------------------------------------------

const text = (role: string, value: string) => ({ role, content: [{ type: "text", text: value }] })
const filler = (bytes: number, seed: string) => `${seed} `.padEnd(bytes, "lorem ipsum dolor sit amet ")

/** A body shaped and sized like the handler's (1 KB prompt, 1 KB answer, run metadata). */
const logBody = () =>
  JSON.stringify({
    provider: "openai",
    model: "fake-list-chat-model",
    input: {
      type: "chat",
      messages: [text("system", "You are a benchmark."), text("user", filler(1024, "q"))]
    },
    output: { type: "chat", messages: [text("assistant", filler(1024, "answer"))] },
    request_start_time: new Date().toISOString(),
    request_end_time: new Date().toISOString(),
    parameters: {},
    tags: ["bench"],
    metadata: {
      langchain_run_id: "0b7c4f8e-6a43-4c8e-9d7e-0d6c1a2b3c4d",
      langchain_run_name: "FakeListChatModel"
    }
  })

const capacity = async (emulator: Emulator, seconds: number) => {
  const result = await autocannon({
    url: `${emulator.url}/log-request`,
    method: "POST",
    connections: CONCURRENCY,
    pipelining: 1,
    duration: seconds,
    headers: { "content-type": "application/json", "x-api-key": emulator.apiKey },
    body: logBody()
  })
  const reset = await fetch(`${emulator.url}/emulator/reset`, {
    method: "POST",
    headers: { "x-api-key": emulator.apiKey }
  })
  if (!reset.ok) throw new Error(`POST /emulator/reset: ${reset.status} ${await reset.text()}`)
  return {
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors
  }
}

// -----------------------------------------------------------------------------
// Result types (see scenarios.ts)
// -----------------------------------------------------------------------------

interface Quantiles {
  readonly p50: number
  readonly p99: number
}
interface Summary {
  readonly n: number
  readonly lag: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number }
  readonly wallUs: Quantiles
  readonly cpuUs: Quantiles
  readonly totalCpuUsPerCall: number
  readonly loopMs: number
  readonly storedMs: number
  readonly drainMs: number
}
interface Hotpath {
  readonly none: Summary
  readonly ours: Summary
  readonly naive: Summary
  readonly oursStats: Record<string, number>
}
interface Transport {
  readonly n: number
  readonly fetch: { logsPerSecond: number; cpuUsPerLog: number }
  readonly node: { logsPerSecond: number; cpuUsPerLog: number }
}
interface Latency {
  readonly latencyMs: number
  readonly n: number
  readonly ours: Summary
  readonly oursWide: Summary
  readonly naive: Summary
}
interface Inline {
  readonly none: { n: number; wallUs: Quantiles; cpuUs: Quantiles }
  readonly noop: { n: number; wallUs: Quantiles; cpuUs: Quantiles }
  readonly ours: { n: number; wallUs: Quantiles; cpuUs: Quantiles }
}
interface Throughput {
  readonly n: number
  readonly loopMs: number
  readonly drainMs: number
  readonly backlogDelivered: number
  readonly logsPerSecond: number
  readonly overallLogsPerSecond: number
  readonly stored: number
  readonly stats: Record<string, number>
}
interface Heap {
  readonly heapUsedMB: number
  readonly rssMB: number
}
interface Memory {
  readonly mode: "http" | "instant"
  readonly runs: number
  readonly before: Heap
  readonly after: Heap
  readonly growthMB: number
  readonly samples: ReadonlyArray<{ runs: number; heapUsedMB: number }>
  readonly stats: Record<string, number>
  readonly elapsedMs: number
}
interface Down {
  readonly runs: number
  readonly maxQueued: number
  readonly before: Heap
  readonly samples: ReadonlyArray<{ runs: number; heapUsedMB: number; queued: number; dropped: number }>
  readonly stats: Record<string, number>
  readonly final: Record<string, number>
  readonly shutdownMs: number
  readonly after: Heap
}
interface Size {
  readonly label: string
  readonly bytes: number
  readonly inline: { none: Quantiles & { n: number }; ours: Quantiles & { n: number } }
  readonly live: {
    n: number
    wallUs: Quantiles
    storedMs: number
    logsPerSecond: number
    megabytesPerSecond: number
  }
}

// -----------------------------------------------------------------------------
// Run
// -----------------------------------------------------------------------------

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : String(n))
const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : String(n))
const ok = (met: boolean) => (met ? "**met**" : "**not met**")

const main = async () => {
  const N = quick ? 1500 : 10_000
  const MEMORY_RUNS = quick ? 10_000 : 100_000
  const MEMORY_HTTP_RUNS = quick ? 5000 : 100_000
  const cpus = Os.cpus()
  const env = {
    node: process.version,
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    platform: `${Os.type()} ${Os.release()} ${Os.arch()}`,
    memoryGB: Os.totalmem() / 2 ** 30,
    loadavg: Os.loadavg(),
    date: new Date().toISOString()
  }
  log(`node ${env.node}, ${env.cores} × ${env.cpu}`)

  const profiles = Fs.mkdtempSync(Path.join(Os.tmpdir(), "promptlayer-bench-"))
  const giveUp = setTimeout(() => {
    log(`the run overran its ${RUN_DEADLINE_MS / 1000} s deadline: stopping`)
    for (const child of running) child.kill("SIGKILL")
    report(profiles, new Error(`the run overran its ${RUN_DEADLINE_MS / 1000} s deadline`))
  }, RUN_DEADLINE_MS)
  giveUp.unref()

  const at = (e: Emulator) => [e.url, e.apiKey]
  const inline = await scenario<Inline>("inline", (e) => [...at(e), String(N), "5"])
  const hotpath = await scenario<Hotpath>("hotpath", (e) => [...at(e), String(N), "5"])
  const latency = await scenario<Latency>("latency", (e) => [...at(e), "20", quick ? "200" : "600"])
  const sizes = await scenario<Array<Size>>("sizes", at)
  log("autocannon: the emulator's capacity on /log-request")
  const cap = await withEmulator([], (e) => capacity(e, quick ? 3 : 10))
  measured.cap = cap
  const throughput = await scenario<Throughput>("throughput", (e) => [...at(e), String(quick ? 2000 : 5000)])
  const transport = await scenario<Transport>("transport", (e) => [...at(e), quick ? "1000" : "3000"])
  const memory = await scenario<Memory>("memory", (e) => [...at(e), String(MEMORY_RUNS), "instant"], {
    key: "memory"
  })
  const memoryHttp = await scenario<Memory>("memory", (e) => [...at(e), String(MEMORY_HTTP_RUNS), "http"], {
    key: "memoryHttp"
  })
  const port = await freePort()
  const down = await scenario<Down>("down", (e) => [
    `http://127.0.0.1:${port}`,
    e.apiKey,
    quick ? "5000" : "20000",
    "1000"
  ])

  // Profiles: the emulator under autocannon, and the tracker's process while it delivers a backlog.
  const profiled = await startEmulator([`--cpu-prof`, `--cpu-prof-dir=${Path.join(profiles, "emulator")}`])
  running.add(profiled.child)
  log("autocannon under --cpu-prof")
  const capProfiled = await capacity(profiled, quick ? 3 : 8)
  await scenario<Throughput>("throughput", (e) => [...at(e), String(quick ? 1000 : 2000)], {
    emulator: profiled,
    key: "throughputProfiled",
    nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${Path.join(profiles, "tracker")}`]
  })
  await profiled.stop()
  running.delete(profiled.child)
  clearTimeout(giveUp)
  const biggest = (dir: string) => {
    const files = Fs.readdirSync(dir).map((f) => Path.join(dir, f))
    return files.sort((a, b) => Fs.statSync(b).size - Fs.statSync(a).size)[0]!
  }
  const emulatorProfile = topFrames(biggest(Path.join(profiles, "emulator")), 12)
  const trackerProfile = topFrames(biggest(Path.join(profiles, "tracker")), 12)
  type Frame = { functionName: string; url: string }
  const common: Record<string, (f: Frame) => boolean> = {
    "garbage collector": (f) => f.functionName === "(garbage collector)",
    "socket writes (writev)": (f) => f.functionName === "writev",
    "Schema validation / decoding (effect Schema)": (f) =>
      /node_modules\/effect\/dist\/(esm\/)?(Schema[A-Za-z]*|ParseResult|internal\/schema\/[^/]+)\.js/.test(f.url),
    "Effect runtime (effect, all)": (f) => f.url.includes("node_modules/effect/")
  }
  const trackerShares = inclusiveShares(biggest(Path.join(profiles, "tracker")), {
    "Node's fetch (undici), incl. its stream machinery": (f) =>
      f.url.includes("undici") || (f.functionName === "fetch" && f.url.includes("node:internal/bootstrap")),
    "node:http client side (node core _http_client, _http_agent, net)": (f) =>
      f.url.startsWith("node:_http_client") || f.url.startsWith("node:_http_agent") || f.url.startsWith("node:net"),
    "effect/http HttpClient": (f) => /node_modules\/(@effect\/platform|effect\/dist\/http)\//.test(f.url),
    ...common,
    "handler + blueprint conversion (own code)": (f) =>
      f.url.includes("/src/PromptLayerCallbackHandler.ts") || f.url.includes("/src/internal/blueprint.ts"),
    "tracker (own code)": (f) => f.url.includes("/src/PromptLayerTracker.ts"),
    "client + http helpers + node:http client (own code)": (f) =>
      f.url.includes("/src/PromptLayerClient.ts") ||
      f.url.includes("/src/internal/http.ts") ||
      f.url.includes("/src/internal/nodeHttpClient.ts"),
    "retry policy (timeouts, own code)": (f) => f.url.includes("/src/PromptLayerRetryPolicy.ts"),
    "LangChain (@langchain/core)": (f) => f.url.includes("@langchain/core")
  })
  const emulatorShares = inclusiveShares(biggest(Path.join(profiles, "emulator")), {
    "web Request/Headers built per request (undici, in the node:http adapter)": (f) => f.url.includes("undici"),
    "effect/http router / HttpServer": (f) => /node_modules\/(@effect\/platform|effect\/dist\/http)\//.test(f.url),
    ...common,
    "store: validation, copy, response body (own code)": (f) =>
      /\/src\/internal\/emulator\/(store|storeFailure|records|templateRendering|trackPrompts)\.ts/.test(f.url)
  })

  const elapsedS = (Date.now() - started) / 1000
  log(`done in ${elapsedS.toFixed(0)} s; writing bench/RESULTS.md (raw results and profiles in ${profiles})`)
  const resultsFile = Path.join(here, "RESULTS.md")
  const kept = keptSection(resultsFile)
  Fs.writeFileSync(
    resultsFile,
    render({
      env,
      elapsedS,
      inline,
      hotpath,
      latency,
      sizes,
      cap,
      capProfiled,
      throughput,
      transport,
      memory,
      memoryHttp,
      down,
      emulatorProfile,
      trackerProfile,
      trackerShares,
      emulatorShares,
      quick
    }) + kept
  )
  Fs.writeFileSync(
    Path.join(profiles, "results.json"),
    JSON.stringify({ env, inline, hotpath, latency, sizes, cap, throughput, memory, memoryHttp, down }, null, 2)
  )
}

/**
 * Everything of RESULTS.md from this marker on is written by hand (comparisons across commits, such
 * as the Effect 3 → Effect 4 table) and is kept by a new run, which rewrites only what comes before.
 */
const KEPT_MARKER = "<!-- kept across bench runs -->"

const keptSection = (file: string): string => {
  const text = Fs.existsSync(file) ? Fs.readFileSync(file, "utf8") : ""
  const at = text.indexOf(KEPT_MARKER)
  return at < 0 ? "" : `\n${text.slice(at)}`
}

/** `f` against a fresh emulator process, stopped afterwards. */
const withEmulator = async <A>(nodeArgs: ReadonlyArray<string>, f: (emulator: Emulator) => Promise<A>): Promise<A> => {
  const emulator = await startEmulator(nodeArgs)
  running.add(emulator.child)
  try {
    return await f(emulator)
  } finally {
    await emulator.stop()
    running.delete(emulator.child)
  }
}

/** A failed run: what failed, what was measured (in results.json), exit 1. RESULTS.md is left as it was. */
const report = (profiles: string, error: unknown): never => {
  const file = Path.join(profiles, "results.json")
  Fs.writeFileSync(file, JSON.stringify({ failed: String(error), measured }, null, 2))
  log(`FAILED: ${error instanceof Error ? error.message : String(error)}`)
  log(
    `measured before the failure: ${Object.keys(measured).join(", ") || "nothing"} (in ${file}); RESULTS.md not written`
  )
  process.exit(1)
}

// -----------------------------------------------------------------------------
// RESULTS.md
// -----------------------------------------------------------------------------

/** The `n` largest inclusive shares, as "42.0% name, ...". */
const topShares = (shares: Record<string, number>, n: number) =>
  Object.entries(shares)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, share]) => `${(share * 100).toFixed(1)}% ${name}`)
    .join(", ")

const render = (r: {
  env: Record<string, unknown> & { node: string; cpu: string; cores: number; date: string; loadavg: Array<number> }
  elapsedS: number
  inline: Inline
  hotpath: Hotpath
  latency: Latency
  sizes: Array<Size>
  cap: Awaited<ReturnType<typeof capacity>>
  capProfiled: Awaited<ReturnType<typeof capacity>>
  throughput: Throughput
  transport: Transport
  memory: Memory
  memoryHttp: Memory
  down: Down
  emulatorProfile: ReturnType<typeof topFrames>
  trackerProfile: ReturnType<typeof topFrames>
  trackerShares: Record<string, number>
  emulatorShares: Record<string, number>
  quick: boolean
}) => {
  const {
    transport: tr,
    inline,
    hotpath: h,
    latency: l,
    sizes,
    cap,
    throughput: t,
    memory: m,
    memoryHttp: mh,
    down: d
  } = r
  const inlineExtra = {
    p50: inline.ours.wallUs.p50 - inline.none.wallUs.p50,
    p99: inline.ours.wallUs.p99 - inline.none.wallUs.p99
  }
  const liveExtra = (s: Summary) => ({
    wallP50: s.wallUs.p50 - h.none.wallUs.p50,
    wallP99: s.wallUs.p99 - h.none.wallUs.p99,
    cpuP50: s.cpuUs.p50 - h.none.cpuUs.p50,
    cpuP99: s.cpuUs.p99 - h.none.cpuUs.p99,
    total: s.totalCpuUsPerCall - h.none.totalCpuUsPerCall
  })
  const ours = liveExtra(h.ours)
  const naive = liveExtra(h.naive)
  const speedup = h.naive.storedMs / h.ours.storedMs
  const slowSpeedup = l.naive.storedMs / l.ours.storedMs
  const slowSpeedupWide = l.naive.storedMs / l.oursWide.storedMs
  const ceiling = cap.requestsPerSecond / (h.naive.n / (h.naive.storedMs / 1000))
  const extra1k = sizes[0]!.inline.ours.p50 - sizes[0]!.inline.none.p50
  const flat = sizes.every((s) => s.inline.ours.p50 - s.inline.none.p50 <= Math.max(25, extra1k + 15))
  const share = t.logsPerSecond / cap.requestsPerSecond
  const plateau = d.samples.slice(Math.floor(d.samples.length / 2)).map((s) => s.heapUsedMB)
  const shares = (m: Record<string, number>) =>
    [
      "| inclusive CPU (samples with this on the stack) | |",
      "| ---: | --- |",
      ...Object.entries(m)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `| ${(v * 100).toFixed(1)}% | ${k} |`)
    ].join("\n")
  const perLogUs = 1e6 / t.logsPerSecond
  const emulatorUs = 1e6 / cap.requestsPerSecond
  const downPlateau = Math.max(...plateau) - d.before.heapUsedMB
  const frames = (p: ReturnType<typeof topFrames>) =>
    [
      "| self time | frame |",
      "| ---: | --- |",
      ...p.frames.map((f) => `| ${(f.share * 100).toFixed(1)}% | \`${f.name}\` |`)
    ].join("\n")
  const packages = (p: ReturnType<typeof topFrames>) =>
    [
      "| self time | package / file |",
      "| ---: | --- |",
      ...p.packages.map((f) => `| ${(f.share * 100).toFixed(1)}% | ${f.name} |`)
    ].join("\n")

  return `# Benchmark results

${r.quick ? "> **BENCH_QUICK=1: reduced counts, not the reference run.**\n\n" : ""}Written by \`npm run bench\` (bench/run.ts) on ${r.env.date}, in ${f0(r.elapsedS)} s.

| | |
| --- | --- |
| Node | ${r.env.node} |
| CPU | ${r.env.cpu} |
| Cores | ${r.env.cores} |
| Load average at start (1/5/15 min) | ${r.env.loadavg.map((x) => x.toFixed(2)).join(" / ")} |

Every figure below is a comparison made in the same run. The emulator runs in its own process
(\`bench/support/emulator.ts\`), so its CPU is never counted against a handler; each scenario runs
in a fresh Node process (\`bench/scenarios.ts\`). The machine is shared (2 cores): absolute numbers
move between runs, the ratios much less.

## Targets

| Target | Measured | |
| --- | --- | --- |
| Hot path: ≤ 25 µs median extra per call | ${f1(inlineExtra.p50)} µs (handler's own work, delivery parked); ${f1(ours.wallP50)} µs with delivery running in the same process | ${ok(inlineExtra.p50 <= 25)} / ${ok(ours.wallP50 <= 25)} |
| N = ${h.ours.n} logs stored ≥ 10× sooner than the naive SDK handler (emulator on loopback) | ${f0(h.ours.storedMs)} ms vs ${f0(h.naive.storedMs)} ms: ${speedup.toFixed(2)}× (the emulator's capacity caps any handler at ${ceiling.toFixed(1)}× here) | ${ok(speedup >= 10)} |
| The same with ${l.latencyMs} ms server latency (N = ${l.n}) | ${f0(l.ours.storedMs)} ms (${CONCURRENCY} in flight, the default) and ${f0(l.oursWide.storedMs)} ms (32 in flight) vs ${f0(l.naive.storedMs)} ms: ${slowSpeedup.toFixed(1)}× and ${slowSpeedupWide.toFixed(1)}× | ${ok(slowSpeedup >= 10)} / ${ok(slowSpeedupWide >= 10)} |
| Delivery ≥ 80% of the emulator's capacity | ${f0(t.logsPerSecond)} logs/s vs ${f0(cap.requestsPerSecond)} req/s (autocannon): ${(share * 100).toFixed(0)}% | ${ok(share >= 0.8)} |
| Heap growth after ${mh.runs} runs < 5 MB | ${mh.growthMB.toFixed(2)} MB over HTTP (the whole stack); ${m.growthMB.toFixed(2)} MB after ${m.runs} runs of handler + tracker over an in-process client | ${ok(mh.growthMB < 5)} / ${ok(m.growthMB < 5)} |
| Server down: memory plateaus, drops counted | heap ${plateau.map((x) => x.toFixed(1)).join(", ")} MB over the second half; ${d.final.dropped} dropped, counted | ${ok(Math.max(...plateau) - Math.min(...plateau) < 5 && d.final.dropped > 0)} |
| Hot path flat in payload size (no growth beyond noise, each ≤ 25 µs or within 15 µs of 1 KB) | ${sizes.map((s) => `${s.label}: +${f1(s.inline.ours.p50 - s.inline.none.p50)} µs`).join(", ")} | ${ok(flat)} |

### Targets not met, and their measured causes

${
  ours.wallP50 > 25
    ? `- **Inline cost with delivery running (+${f1(ours.wallP50)} µs median).** The handler's own work is ${f1(inlineExtra.p50)} µs
  (1a). The rest is delivery work of the same process that runs inside the timed \`invoke\`
  window: LangChain's \`invoke\` yields to the event loop, and our tracker spends ${f0(h.ours.totalCpuUsPerCall - h.none.totalCpuUsPerCall)} µs of CPU per log
  in the background against ${f0(h.naive.totalCpuUsPerCall - h.none.totalCpuUsPerCall)} µs for the naive handler (1b, total CPU). The naive handler's
  cost lands outside the window because LangChain's serial callback queue lets it send one log at a time.
  This figure swings widely between runs on a shared machine (how much background work lands in the
  window depends on timing); the handler's own cost (1a) and the total CPU per log are the stable ones.
`
    : ""
}${
  speedup < 10
    ? `- **${speedup.toFixed(2)}× instead of ≥ 10× on loopback.** Two measured causes. (1) The ceiling: the naive
  handler already stores ${f0(h.naive.n / (h.naive.storedMs / 1000))} logs/s (one loopback round trip each), and the emulator cannot take
  more than ${f0(cap.requestsPerSecond)} req/s (autocannon), so no handler can be more than ${ceiling.toFixed(1)}× faster here. (2) Our tracker's
  process is CPU-bound: ${f0(t.logsPerSecond)} logs/s with its one thread busy (~${f0(perLogUs)} µs per log), and
  ${f0(h.ours.totalCpuUsPerCall - h.none.totalCpuUsPerCall)} µs of CPU per log in 1b, against ${f0(h.naive.totalCpuUsPerCall - h.none.totalCpuUsPerCall)} µs for the naive handler. Where it goes (section 2,
  inclusive): ${topShares(r.trackerShares, 4)}. With server latency the comparison is about round trips:
  ${slowSpeedup.toFixed(1)}× at the default ${CONCURRENCY} deliveries in flight, ${slowSpeedupWide.toFixed(1)}× with \`concurrency: 32\`.
`
    : ""
}${
  share < 0.8
    ? `- **${(share * 100).toFixed(0)}% of the emulator's capacity instead of ≥ 80%.** The emulator is not the bottleneck: it
  answers ${f0(cap.requestsPerSecond)} req/s (~${f0(emulatorUs)} µs each) from a load generator, so at the tracker's
  ${f0(t.logsPerSecond)} logs/s it is busy about ${(share * 100).toFixed(0)}% of the time. The tracker's process is the bottleneck (~${f0(perLogUs)} µs per log, one thread busy);
  inclusive CPU shares of its profile (section 2): ${topShares(r.trackerShares, 4)}.
`
    : ""
}- Server down: the heap plateaus ${f1(downPlateau)} MB above the start, reached after ~10 000 drops rather than at
  \`maxQueued\` (${d.maxQueued}): the tracker remembers the outcome of the last \`rememberRuns\` (10 000) runs for
  \`requestIdFor\`, each dropped one as an error object with a stack trace: at most ~${f1((downPlateau * 1024) / 10_000)} KB per remembered run.

## 1. Hot-path cost (FakeListChatModel, 1 KB prompt and answer)

Method. Each call is timed in a tight sequential loop: \`process.hrtime\` (wall) and
\`process.cpuUsage\` (process CPU, user + system) around \`await model.invoke(messages, { callbacks })\`;
after each call the loop yields one \`setImmediate\` turn (outside the timed window), as an app doing
I/O between LLM calls would. "Extra per call" = the handler's median (or p99) minus the no-handler
median (or p99), blocks interleaved in rotating order so drift on the shared machine hits every path
alike. LangChain runs handler callbacks in the background by default, so a handler's network work
happens after \`invoke\` returns — but in the same process. Three views, because "extra CPU per
call" means different things with background callbacks:

1. **The handler's own hot path** (callbacks + enqueue): delivery parked — the emulator delays every
   \`/log-request\` by 10 minutes, so the tracker's workers wait on the network and no delivery work
   runs. ${inline.ours.n} calls each, interleaved.
2. **Inline with delivery running**: the same loop while logs are being delivered in the same
   process; background work that runs between LangChain's own awaits lands in the window.
3. **Total CPU per call**: process CPU from the first call until every log is stored in the emulator
   (our \`flush()\`, \`awaitAllCallbacks()\` for the naive handler), divided by N — everything the
   handler costs the app's process, delivery included.

### 1a. The handler's own hot path (delivery parked)

| | wall p50 | wall p99 | CPU p50 | CPU p99 | extra wall p50 | extra wall p99 |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
| no handler | ${f1(inline.none.wallUs.p50)} µs | ${f1(inline.none.wallUs.p99)} µs | ${f0(inline.none.cpuUs.p50)} µs | ${f0(inline.none.cpuUs.p99)} µs | | |
| no-op handler (LangChain's dispatch alone) | ${f1(inline.noop.wallUs.p50)} µs | ${f1(inline.noop.wallUs.p99)} µs | ${f0(inline.noop.cpuUs.p50)} µs | ${f0(inline.noop.cpuUs.p99)} µs | ${f1(inline.noop.wallUs.p50 - inline.none.wallUs.p50)} µs | ${f1(inline.noop.wallUs.p99 - inline.none.wallUs.p99)} µs |
| **PromptLayerCallbackHandler** | ${f1(inline.ours.wallUs.p50)} µs | ${f1(inline.ours.wallUs.p99)} µs | ${f0(inline.ours.cpuUs.p50)} µs | ${f0(inline.ours.cpuUs.p99)} µs | **${f1(inlineExtra.p50)} µs** | ${f1(inlineExtra.p99)} µs |

### 1b. With delivery running (N = ${h.ours.n} per path, 5 interleaved rounds)

| | wall p50 | wall p99 | CPU p50 | CPU p99 | extra wall p50 / p99 | extra CPU p50 / p99 | total CPU per call | extra total CPU per call | event-loop lag p50 / p99 (max) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| no handler | ${f1(h.none.wallUs.p50)} µs | ${f1(h.none.wallUs.p99)} µs | ${f0(h.none.cpuUs.p50)} µs | ${f0(h.none.cpuUs.p99)} µs | | | ${f0(h.none.totalCpuUsPerCall)} µs | | ${f1(h.none.lag.p50Ms)} / ${f1(h.none.lag.p99Ms)} ms (${f0(h.none.lag.maxMs)}) |
| **ours** | ${f1(h.ours.wallUs.p50)} µs | ${f1(h.ours.wallUs.p99)} µs | ${f0(h.ours.cpuUs.p50)} µs | ${f0(h.ours.cpuUs.p99)} µs | ${f1(ours.wallP50)} / ${f0(ours.wallP99)} µs | ${f0(ours.cpuP50)} / ${f0(ours.cpuP99)} µs | ${f0(h.ours.totalCpuUsPerCall)} µs | ${f0(ours.total)} µs | ${f1(h.ours.lag.p50Ms)} / ${f1(h.ours.lag.p99Ms)} ms (${f0(h.ours.lag.maxMs)}) |
| naive (official SDK, awaits \`logRequest\` in \`handleLLMEnd\`) | ${f1(h.naive.wallUs.p50)} µs | ${f1(h.naive.wallUs.p99)} µs | ${f0(h.naive.cpuUs.p50)} µs | ${f0(h.naive.cpuUs.p99)} µs | ${f1(naive.wallP50)} / ${f0(naive.wallP99)} µs | ${f0(naive.cpuP50)} / ${f0(naive.cpuP99)} µs | ${f0(h.naive.totalCpuUsPerCall)} µs | ${f0(naive.total)} µs | ${f1(h.naive.lag.p50Ms)} / ${f1(h.naive.lag.p99Ms)} ms (${f0(h.naive.lag.maxMs)}) |

Event-loop lag: \`perf_hooks.monitorEventLoopDelay\` (2 ms resolution), a fresh histogram per block
of calls, during the invocation loop; p50 is the median of the blocks' p50, p99 and max the largest.

### Time until every log is stored (N = ${h.ours.n})

| | invocation loop | loop start → all stored | loop end → all stored |
| --- | ---: | ---: | ---: |
| ours (\`handler.flush()\`) | ${f0(h.ours.loopMs)} ms | **${f0(h.ours.storedMs)} ms** | ${f0(h.ours.drainMs)} ms |
| naive (\`awaitAllCallbacks()\`) | ${f0(h.naive.loopMs)} ms | **${f0(h.naive.storedMs)} ms** | ${f0(h.naive.drainMs)} ms |
| ratio naive / ours | | **${speedup.toFixed(2)}×** | ${(h.naive.drainMs / h.ours.drainMs).toFixed(2)}× |

The emulator held exactly N logs after each block (checked through its read API), for both handlers.
The naive handler delivers one log at a time (LangChain's background callback queue is serial), so
its rate is one round trip per log; ours is bounded by the tracker process's CPU per log (see 2.)
and by the emulator's capacity: ${f0(cap.requestsPerSecond)} req/s ÷ the naive ${f0(h.naive.n / (h.naive.storedMs / 1000))} logs/s
= ${ceiling.toFixed(1)}×, the most any handler could gain on this machine.

### With server latency (${l.latencyMs} ms per call, an emulator fault standing in for a WAN round trip; N = ${l.n})

| | loop start → all stored | ratio naive / this |
| --- | ---: | ---: |
| naive | ${f0(l.naive.storedMs)} ms | |
| ours, ${CONCURRENCY} in flight (default \`concurrency\`) | ${f0(l.ours.storedMs)} ms | **${slowSpeedup.toFixed(1)}×** |
| ours, \`concurrency: 32\` | ${f0(l.oursWide.storedMs)} ms | **${slowSpeedupWide.toFixed(1)}×** |

With a real network between the app and PromptLayer, the round trip dominates and the gain is
the number of deliveries in flight (bounded by the tracker's CPU per log).

## 2. Delivery throughput vs the limit

| | rate |
| --- | ---: |
| Emulator capacity on \`/log-request\` (autocannon, ${CONCURRENCY} connections, keep-alive, pipelining 1, a body shaped like the handler's) | ${f0(cap.requestsPerSecond)} req/s (p50 ${cap.latencyP50Ms} ms, p99 ${cap.latencyP99Ms} ms, ${cap.non2xx} non-2xx, ${cap.errors} errors) |
| The tracker draining a backlog (${t.backlogDelivered} logs after ${t.n} invocations; concurrency ${CONCURRENCY}, keep-alive) | ${f0(t.logsPerSecond)} logs/s |
| The same, loop included (${t.n} invocations → all stored) | ${f0(t.overallLogsPerSecond)} logs/s |
| **Share of capacity** | **${(share * 100).toFixed(0)}%** |

Stored: ${t.stored} of ${t.n}; tracker counters ${JSON.stringify(t.stats)}.

### What-if: the transport

The tracker alone (no LangChain), ${tr.n} logs at concurrency 8, twice each, interleaved: through the
client over Node's \`fetch\` (\`PromptLayerHttp.layerFetch\`, \`FetchHttpClient\`) and over the library's
\`node:http\` HttpClient (\`PromptLayerHttp.layerNode\`, what the handler and the Promise bridge use on Node).

| transport | logs/s | CPU per log (tracker process) |
| --- | ---: | ---: |
| \`FetchHttpClient\` (undici \`fetch\`) | ${f0(tr.fetch.logsPerSecond)} | ${f0(tr.fetch.cpuUsPerLog)} µs |
| \`node:http\` keep-alive | ${f0(tr.node.logsPerSecond)} | ${f0(tr.node.cpuUsPerLog)} µs |
| ratio | ${(tr.node.logsPerSecond / tr.fetch.logsPerSecond).toFixed(2)}× | ${(tr.node.cpuUsPerLog / tr.fetch.cpuUsPerLog).toFixed(2)}× |

### Where the time goes

The tracker's process (2000 invocations then flush, \`--cpu-prof\`), inclusive:

${shares(r.trackerShares)}

The emulator under autocannon (\`--cpu-prof\`), inclusive:

${shares(r.emulatorShares)}

The emulator, under autocannon with \`node --cpu-prof\` (${f0(r.capProfiled.requestsPerSecond)} req/s while profiled), self time by package:

${packages(r.emulatorProfile)}

Top frames (self time):

${frames(r.emulatorProfile)}

The tracker's process, self time by package:

${packages(r.trackerProfile)}

Top frames (self time):

${frames(r.trackerProfile)}

## 3. Memory

| | ${mh.runs} runs: the whole stack over HTTP to the emulator | ${m.runs} runs: handler + tracker, in-process client |
| --- | ---: | ---: |
| Before (after 5000 warm-up runs, flush, GC) | ${mh.before.heapUsedMB.toFixed(2)} MB | ${m.before.heapUsedMB.toFixed(2)} MB |
| After (flush, GC) | ${mh.after.heapUsedMB.toFixed(2)} MB | ${m.after.heapUsedMB.toFixed(2)} MB |
| **Growth** | **${mh.growthMB.toFixed(2)} MB** | **${m.growthMB.toFixed(2)} MB** |
| Along the way (runs: heap MB) | ${mh.samples.map((s) => `${s.runs}: ${s.heapUsedMB.toFixed(1)}`).join(", ")} | ${m.samples.map((s) => `${s.runs}: ${s.heapUsedMB.toFixed(1)}`).join(", ")} |
| Time | ${f0(mh.elapsedMs / 1000)} s | ${f0(m.elapsedMs / 1000)} s |

Runs in chunks of 5000, each chunk followed by \`flush()\` (and, over HTTP, an emulator reset so the
emulator's own memory stays flat). The second column isolates the handler and the tracker:
\`PromptLayerCallbackHandler.make\` over a \`PromptLayerTracker\` whose \`PromptLayerClient\` answers
\`logRequest\` at once in-process (the run state, the tracker's queue, outcome map and request-id
PubSub on the real code path, without the HTTP stack). Counters over HTTP: ${JSON.stringify(mh.stats)};
in-process: ${JSON.stringify(m.stats)}.

**Server down** (a closed port; \`maxQueued\` ${d.maxQueued}, 3 attempts per log, 200 ms initial backoff):

| runs | heap used (after GC) | queued | dropped |
| ---: | ---: | ---: | ---: |
${d.samples.map((s) => `| ${s.runs} | ${s.heapUsedMB.toFixed(1)} MB | ${s.queued} | ${s.dropped} |`).join("\n")}

Before: ${d.before.heapUsedMB.toFixed(1)} MB. Counters at the end: ${JSON.stringify(d.stats)}. \`shutdown()\` gave
up after ${f0(d.shutdownMs)} ms (\`shutdownTimeout\` 1 s) and counted what it could not deliver:
${JSON.stringify(d.final)}; heap after shutdown ${d.after.heapUsedMB.toFixed(1)} MB.

## 4. Cost growth with payload size

Hot path with delivery parked (as in 1a), interleaved with no handler; then delivery with a live
tracker until every log is stored.

| message size (prompt and answer each) | no handler p50 / p99 | ours p50 / p99 | **extra p50** | live delivery | throughput |
| --- | ---: | ---: | ---: | ---: | ---: |
${sizes
  .map(
    (s) =>
      `| ${s.label} | ${f1(s.inline.none.p50)} / ${f0(s.inline.none.p99)} µs | ${f1(s.inline.ours.p50)} / ${f0(s.inline.ours.p99)} µs | **${f1(s.inline.ours.p50 - s.inline.none.p50)} µs** | ${s.live.n} logs in ${f0(s.live.storedMs)} ms | ${f1(s.live.logsPerSecond)} logs/s, ${f1(s.live.megabytesPerSecond)} MB/s |`
  )
  .join("\n")}

The handler keeps references to LangChain's messages and converts and serializes them in the
tracker's fibers (\`TrackEvent.build\`), so the per-call hot-path cost does not depend on the
payload size; the delivery rate does (JSON encoding and the emulator's parsing, validation and copy).
`
}

main().catch(async (error: unknown) => {
  if (!(error instanceof ScenarioFailed)) {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  }
  await Promise.all([...running].map(stopChild))
  report(Fs.mkdtempSync(Path.join(Os.tmpdir(), "promptlayer-bench-failed-")), error)
})

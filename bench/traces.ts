/**
 * `npm run bench:traces`: the traces benchmark (issue 12, acceptance 4). On one workload
 * (`prompt | FakeListChatModel | StringOutputParser`, 1 KB in and out), in one run, each arm in a
 * fresh Node process (bench/tracesScenarios.ts) against the emulator (bench/support/emulator.ts) or
 * the LangSmith stub (bench/support/langsmithStub.ts), each in a process of its own: no handler, the
 * handler in traces mode and in requests mode, a naive handler awaiting the official SDK's
 * `logRequest`, and LangSmith's `LangChainTracer`. Also the emulator's `/spans-bulk` capacity
 * (autocannon, a real 100-span body of the tracker), the handler's hot path with delivery parked,
 * heap growth over many traced runs, and a CPU profile of the traces arm. Writes
 * bench/RESULTS-traces.md.
 *
 * Every arm has a time box (its loop stops early, and says so) and a hard deadline (the process is
 * killed and the arm reported as such), so the run ends within its budget on a loaded machine.
 *
 * Environment: BENCH_TRACES_N (default 10 000 invocations per delivery arm), BENCH_TRACES_HEAP_RUNS
 * (100 000), BENCH_TRACES_BUDGET_S (290: the time the arms' boxes are cut from),
 * BENCH_TRACES_PROFILE=0 (skip the profile), BENCH_TRACES_ONLY (while iterating: a comma list of the
 * parts to run, of capacity, traces, naive, none, requests, langsmith, hotpath, heap, profile; the
 * others are reported as skipped. RESULTS-traces.md is meant to come from a full run).
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import autocannon from "autocannon"
import { type Outcome, runArm, type Server, startServer } from "./support/children.js"
import { inclusiveShares, topFrames } from "./support/profile.js"
import { render } from "./support/tracesReport.js"
import type { Capacity, Deliver, Heap, Hotpath, Kind, Profile, Run } from "./support/tracesTypes.js"

const here = Path.dirname(fileURLToPath(import.meta.url))
const root = Path.resolve(here, "..")
const started = Date.now()
const elapsedS = () => (Date.now() - started) / 1000
const log = (line: string) => process.stderr.write(`[bench:traces ${elapsedS().toFixed(0)}s] ${line}\n`)

const N = Number(process.env.BENCH_TRACES_N ?? 10_000)
const HEAP_RUNS = Number(process.env.BENCH_TRACES_HEAP_RUNS ?? 100_000)
const BUDGET_S = Number(process.env.BENCH_TRACES_BUDGET_S ?? 290)
const ONLY = process.env.BENCH_TRACES_ONLY?.split(",").map((part) => part.trim())
const runs = (part: string) => ONLY === undefined || ONLY.includes(part)
const PROFILE = process.env.BENCH_TRACES_PROFILE !== "0" && runs("profile")
const CONNECTIONS = 16 // the tracker's default concurrency
const SCENARIOS = "bench/tracesScenarios.ts"

/** LangChain and LangSmith pointed at loopback and tracing off by default: nothing leaves the machine. */
const armEnv = (stubUrl: string): Record<string, string> => ({
  LANGSMITH_TRACING: "false",
  LANGCHAIN_TRACING_V2: "false",
  LANGCHAIN_TRACING: "false",
  LANGSMITH_ENDPOINT: stubUrl,
  LANGCHAIN_ENDPOINT: stubUrl,
  LANGSMITH_API_KEY: "x",
  LANGCHAIN_API_KEY: "x",
  LANGCHAIN_CALLBACKS_BACKGROUND: "true"
})

type EmulatorInfo = { url: string; apiKey: string }

const startEmulator = (nodeArgs: ReadonlyArray<string> = []) =>
  startServer<EmulatorInfo>(root, "bench/support/emulator.ts", { nodeArgs })

/** Seconds of the budget for one arm: its share, never more than what is left (at least `floor`). */
const box = (share: number, floor = 5) => Math.max(floor, Math.min(BUDGET_S * share, BUDGET_S - elapsedS() - 10)) * 1000

const capacity = async (emulator: Server<EmulatorInfo>, body: string, seconds: number): Promise<Capacity> => {
  const { url, apiKey } = emulator.info
  const result = await autocannon({
    url: `${url}/spans-bulk`,
    method: "POST",
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    headers: { "content-type": "application/json", "x-api-key": apiKey },
    body
  })
  const reset = await fetch(`${url}/emulator/reset`, { method: "POST", headers: { "x-api-key": apiKey } })
  if (!reset.ok) throw new Error(`POST /emulator/reset: ${reset.status} ${await reset.text()}`)
  const spans = (JSON.parse(body) as { spans: Array<{ log_request?: unknown }> }).spans
  return {
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    spansPerBody: spans.length,
    modelSpansPerBody: spans.filter((s) => s.log_request != null).length,
    bodyBytes: Buffer.byteLength(body),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    seconds
  }
}

const skipped = <A>(): Outcome<A> => ({ ok: false, reason: "skipped (BENCH_TRACES_ONLY)", seconds: 0 })

const biggest = (dir: string) =>
  Fs.readdirSync(dir)
    .map((f) => Path.join(dir, f))
    .sort((a, b) => Fs.statSync(b).size - Fs.statSync(a).size)[0]

/** The traces arm again under `--cpu-prof`, with the emulator profiled too; shares of both profiles. */
const profile = async (stubUrl: string, n: number): Promise<Profile | string> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "bench-traces-prof-"))
  const emulator = await startEmulator(["--cpu-prof", `--cpu-prof-dir=${Path.join(dir, "emulator")}`])
  const outcome = await runArm<Deliver>(
    root,
    SCENARIOS,
    "deliver",
    { kind: "traces", n, warmup: 300, loopBudgetMs: box(0.08), ...emulator.info, stubUrl },
    {
      deadlineMs: box(0.08) + 60_000,
      nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${Path.join(dir, "app")}`],
      env: armEnv(stubUrl)
    }
  )
  await emulator.stop()
  if (!outcome.ok) return `the profiled traces arm gave no result: ${outcome.reason}`
  const app = biggest(Path.join(dir, "app"))
  const emu = biggest(Path.join(dir, "emulator"))
  if (app === undefined || emu === undefined) return "no profile was written"
  const own = (file: string) => (f: { url: string }) => f.url.includes(`/src/${file}`)
  return {
    n: outcome.value.n,
    dir,
    app: inclusiveShares(app, {
      "LangChain (@langchain/core): the runnables and callback dispatch": (f) => f.url.includes("@langchain/core"),
      "Effect runtime (effect, all)": (f) => f.url.includes("node_modules/effect/"),
      "handler callbacks (PromptLayerCallbackHandler.ts)": own("PromptLayerCallbackHandler.ts"),
      "run tree recording (internal/traceRecorder.ts, runTree.ts)": (f) =>
        own("internal/traceRecorder.ts")(f) || own("internal/runTree.ts")(f),
      "span building (internal/spanMapper.ts, blueprint.ts)": (f) =>
        own("internal/spanMapper.ts")(f) || own("internal/blueprint.ts")(f),
      "span validation and encoding (PromptLayerClient.encodeSpanResult, spanWire.ts)": (f) =>
        f.functionName === "encodeSpanResult" || own("internal/spanWire.ts")(f),
      "Schema validation / decoding (effect Schema)": (f) =>
        /node_modules\/effect\/dist\/(esm\/)?(Schema[A-Za-z]*|ParseResult|internal\/schema\/[^/]+)\.js/.test(f.url),
      "batching and delivery (internal/spanBatcher.ts, spanDelivery.ts)": (f) =>
        own("internal/spanBatcher.ts")(f) || own("internal/spanDelivery.ts")(f),
      "tracker (PromptLayerTracker.ts)": own("PromptLayerTracker.ts"),
      "HTTP client (node:http, net, own nodeHttpClient.ts)": (f) =>
        f.url.startsWith("node:_http") || f.url.startsWith("node:net") || own("internal/nodeHttpClient.ts")(f),
      "garbage collector": (f) => f.functionName === "(garbage collector)",
      "module loading (tsx, ESM loader; start-up, not per call)": (f) =>
        f.url.includes("node:internal/modules") || f.url.includes("/tsx/")
    }),
    appTop: topFrames(app, 15),
    emulator: inclusiveShares(emu, {
      "Effect runtime (effect, all)": (f) => f.url.includes("node_modules/effect/"),
      "effect/http router / HttpServer": (f) => /node_modules\/(@effect\/platform|effect\/dist\/http)\//.test(f.url),
      "/spans-bulk: trace store (internal/emulator/traces.ts)": own("internal/emulator/traces.ts"),
      "store: request logs, validation (internal/store.ts)": own("internal/store.ts"),
      "Schema validation / decoding (effect Schema)": (f) =>
        /node_modules\/effect\/dist\/(esm\/)?(Schema[A-Za-z]*|ParseResult|internal\/schema\/[^/]+)\.js/.test(f.url),
      structuredClone: (f) => f.functionName === "structuredClone",
      "JSON.parse": (f) => f.functionName === "parse" && f.url === "",
      "garbage collector": (f) => f.functionName === "(garbage collector)"
    }),
    emulatorTop: topFrames(emu, 12)
  }
}

const main = async () => {
  const cpus = Os.cpus()
  const env = {
    node: process.version,
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    platform: `${Os.type()} ${Os.release()} ${Os.arch()}`,
    memoryGB: Os.totalmem() / 2 ** 30,
    loadavgStart: Os.loadavg(),
    date: new Date().toISOString()
  }
  log(`node ${env.node}, ${env.cores} × ${env.cpu}, load ${env.loadavgStart.map((l) => l.toFixed(1)).join(" ")}`)
  const stub = await startServer<{ url: string }>(root, "bench/support/langsmithStub.ts")
  const stubUrl = stub.info.url
  const arm = async <A>(name: string, kind: string, args: unknown, deadlineMs: number, nodeArgs?: Array<string>) => {
    log(`${name}: ${JSON.stringify(args).slice(0, 160)}`)
    const outcome = await runArm<A>(root, SCENARIOS, kind, args, { deadlineMs, nodeArgs, env: armEnv(stubUrl) })
    log(`${name}: ${outcome.ok ? "done" : outcome.reason} in ${outcome.seconds.toFixed(1)} s`)
    return outcome
  }

  // 1. A real 100-span body of the tracker, then the emulator's capacity on /spans-bulk.
  const captured = await arm<{ body: string; spans: number }>("capture", "capture", { runs: 40, spans: 100 }, 60_000)
  let emulator = await startEmulator()
  let cap: Capacity | string = "no body was captured"
  if (captured.ok && runs("capacity")) {
    log("autocannon: the emulator's capacity on /spans-bulk")
    cap = await capacity(emulator, captured.value.body, 6)
  }

  // 2. Delivery arms, one process each, one emulator (reset by each arm after its warm-up).
  const deliveries: Partial<Record<Kind, Outcome<Deliver>>> = {}
  const deliverArm = async (kind: Kind, n: number, share: number) => {
    if (!runs(kind)) return skipped<Deliver>()
    const loopBudgetMs = box(share)
    deliveries[kind] = await arm<Deliver>(
      kind,
      "deliver",
      { kind, n, warmup: 300, loopBudgetMs, ...emulator.info, stubUrl },
      loopBudgetMs + 90_000
    )
    return deliveries[kind]
  }
  const traces = await deliverArm("traces", N, 0.12)
  // Every other arm runs the number of invocations the traces arm reached (equal N for the ratios).
  const n = traces.ok ? traces.value.n : N
  await deliverArm("naive", n, 0.2)
  await deliverArm("none", n, 0.06)
  await deliverArm("requests", n, 0.1)
  await deliverArm("langsmith", n, 0.1)
  await emulator.stop()

  // 3. The hot path, delivery parked (its own emulator: it holds the parked requests).
  emulator = await startEmulator()
  const hotpathBox = box(0.07)
  const hotpath = runs("hotpath")
    ? await arm<Hotpath>(
        "hotpath",
        "hotpath",
        { per: 1000, rounds: 4, budgetMs: hotpathBox, ...emulator.info },
        hotpathBox + 60_000
      )
    : skipped<Hotpath>()
  await emulator.stop()

  // 4. Heap after many traced runs (in-process client).
  const heapBox = box(0.4)
  const heap = runs("heap")
    ? await arm<Heap>("heap", "heap", { runs: HEAP_RUNS, chunk: 2000, budgetMs: heapBox }, heapBox + 60_000)
    : skipped<Heap>()

  // 5. Where the traces arm's CPU goes, if the budget allows.
  let prof: Profile | string = "skipped (BENCH_TRACES_PROFILE=0 or BENCH_TRACES_ONLY)"
  if (PROFILE && BUDGET_S - elapsedS() < 40)
    prof = `skipped: ${elapsedS().toFixed(0)} s of the ${BUDGET_S} s budget used`
  else if (PROFILE) {
    log("profile: the traces arm and the emulator under --cpu-prof")
    prof = await profile(stubUrl, Math.min(n, 6000))
  }
  await stub.stop()

  const run: Run = {
    env: { ...env, loadavgEnd: Os.loadavg() },
    elapsedS: elapsedS(),
    planned: { n: N, heapRuns: HEAP_RUNS, budgetS: BUDGET_S },
    capture: captured.ok ? { spans: captured.value.spans } : { error: captured.reason },
    capacity: cap,
    deliveries,
    hotpath,
    heap,
    profile: prof
  }
  // A partial run (BENCH_TRACES_ONLY) never overwrites the results of a full one.
  const report =
    ONLY === undefined ? Path.join(here, "RESULTS-traces.md") : Path.join(Os.tmpdir(), "RESULTS-traces.partial.md")
  Fs.writeFileSync(report, render(run))
  const json = Path.join(Os.tmpdir(), `bench-traces-${Date.now()}.json`)
  Fs.writeFileSync(json, JSON.stringify(run, null, 2))
  log(`done in ${elapsedS().toFixed(0)} s: ${report} (raw results in ${json})`)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})

/**
 * `npx tsx bench/redaction.ts`: the cost of redaction per delivered log (issue 14).
 *
 * Workload: `ChatPromptTemplate | FakeListChatModel | StringOutputParser`, 1 KB question and 1 KB
 * answers, each holding an e-mail address, a card number and an API key: one model log (and, in
 * traces mode, four spans) per invocation. The real handler and tracker (`PromptLayerCallbackHandler.make`
 * over `PromptLayerTracker.layer`) deliver to an in-process client stub that answers at once (as
 * bench/tracesScenarios.ts's heap arm does), so the figure is the process's CPU, not the network.
 *
 * Arms, in one process, interleaved in rotating order for `ROUNDS` rounds of `N` invocations (drift
 * on a shared machine hits every arm alike): no redaction, `mask: maskCommon` (the three ready-made
 * maskers), `hideInputs + hideOutputs: true`; in traces mode and in requests mode. Reported: CPU
 * (user + system) per delivered log, median over the rounds, and the difference with no redaction.
 * Also the redaction walk alone on one log body and one span (µs per call).
 *
 * Environment: BENCH_REDACTION_N (default 1000), BENCH_REDACTION_ROUNDS (default 7). Loopback is not
 * even used: nothing leaves the process. Finishes in well under a minute.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Scope from "effect/Scope"
import { PromptLayerClient, PromptLayerTracker } from "promptlayer-effect"
import {
  PromptLayerCallbackHandler,
  type PromptLayerCallbackHandlerOptions,
  PromptLayerRedaction
} from "promptlayer-effect/langchain"
import { Redactor } from "../src/internal/redaction.js"
import type * as S from "../src/PromptLayerSchema.js"
import { benchChain, payload } from "./support/workload.js"

const N = Number(process.env.BENCH_REDACTION_N ?? 1000)
const ROUNDS = Number(process.env.BENCH_REDACTION_ROUNDS ?? 7)

const PII = " contact jane.doe@example.com, card 4111 1111 1111 1111, key sk-abcdefghijklmnopqrstuvwxyz123456. "

const workload = () => {
  const { chain, input } = benchChain(PII)
  return (handler: PromptLayerCallbackHandler) => chain.invoke(input, { callbacks: [handler] })
}

/** A client that answers every delivery at once, in-process; counts the logs it got. */
const stubClient = (counts: { logs: number }) => {
  let next = 1
  return Layer.succeed(PromptLayerClient.PromptLayerClient, {
    logRequest: () =>
      Effect.sync(() => {
        counts.logs++
        return { id: next++ }
      }),
    spans: {
      bulkEncoded: (spans: ReadonlyArray<PromptLayerClient.EncodedSpan>) =>
        Effect.sync(() => {
          const logs = spans.filter((s) => s.log !== undefined)
          counts.logs += logs.length
          return {
            success: true,
            spans: spans.map((s) => ({ id: next++, name: "span", span_id: s.spanId })),
            request_logs: logs.map((s) => ({ id: next++, span_id: s.spanId }))
          }
        })
    }
  } as unknown as PromptLayerClient.Service)
}

type Mode = "traces" | "requests"
interface Arm {
  readonly name: string
  readonly options: PromptLayerCallbackHandlerOptions
}

const arms: ReadonlyArray<Arm> = [
  { name: "none", options: {} },
  { name: "mask: maskCommon", options: { mask: PromptLayerRedaction.maskCommon } },
  { name: "hideInputs + hideOutputs", options: { hideInputs: true, hideOutputs: true } }
]

interface Setup {
  readonly handler: PromptLayerCallbackHandler
  readonly counts: { logs: number }
  readonly close: () => Promise<void>
}

const setup = async (mode: Mode, arm: Arm): Promise<Setup> => {
  const counts = { logs: 0 }
  const runtime = ManagedRuntime.make(
    PromptLayerTracker.layer({ maxQueued: 1_000_000 }).pipe(Layer.provide(stubClient(counts)))
  )
  const scope = Effect.runSync(Scope.make())
  const handler = await runtime.runPromise(
    Scope.provide(PromptLayerCallbackHandler.make({ plTags: ["bench"], mode, ...arm.options }), scope)
  )
  return {
    handler,
    counts,
    close: async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      await runtime.dispose()
    }
  }
}

/** CPU µs per delivered log over `n` invocations (then flushed). */
const measure = async (s: Setup, invoke: (h: PromptLayerCallbackHandler) => Promise<unknown>, n: number) => {
  const before = s.counts.logs
  const cpu = process.cpuUsage()
  for (let i = 0; i < n; i++) await invoke(s.handler)
  await s.handler.flush()
  const used = process.cpuUsage(cpu)
  const logs = s.counts.logs - before
  if (logs !== n) throw new Error(`expected ${n} delivered logs, got ${logs}`)
  return (used.user + used.system) / logs
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** µs per call of `f`, median of 5 timed batches after a warm-up. */
const perCall = (f: () => unknown, batch = 2000) => {
  for (let i = 0; i < batch; i++) f()
  const samples: Array<number> = []
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) f()
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / batch)
  }
  return median(samples)
}

const main = async () => {
  const started = Date.now()
  const invoke = workload()
  const results = new Map<string, Array<number>>()
  for (const mode of ["traces", "requests"] as const) {
    const setups = new Map<string, Setup>()
    for (const arm of arms) {
      const s = await setup(mode, arm)
      await measure(s, invoke, Math.min(N, 100)) // warm-up
      setups.set(arm.name, s)
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = arms.map((_, i) => arms[(i + round) % arms.length]!)
      for (const arm of order) {
        const key = `${mode}|${arm.name}`
        const value = await measure(setups.get(arm.name)!, invoke, N)
        results.set(key, [...(results.get(key) ?? []), value])
      }
    }
    for (const s of setups.values()) {
      const stats = s.handler.stats()
      if (stats.redactionFailures !== 0 || stats.failed !== 0)
        throw new Error(`unexpected failures: ${JSON.stringify(stats)}`)
      await s.close()
    }
  }

  // The walk alone, on the bodies this workload makes.
  const text = payload(1024, "q", PII)
  const body: S.LogRequestInput = {
    provider: "openai",
    model: "gpt-4o-mini",
    input: {
      type: "chat",
      messages: [
        { role: "system", content: [{ type: "text", text: "You are a benchmark." }] },
        { role: "user", content: [{ type: "text", text }] }
      ]
    },
    output: {
      type: "chat",
      messages: [{ role: "assistant", content: [{ type: "text", text: payload(1024, "a", PII) }] }]
    },
    request_start_time: Date.now(),
    request_end_time: Date.now(),
    parameters: { temperature: 0 },
    tags: ["bench"],
    metadata: { langchain_run_id: "0b0d5e4c-8f1a-4c2b-9d3e-7f6a5b4c3d2e", user: "jane.doe@example.com" }
  }
  const span: S.SpanInput = {
    name: "RunnableSequence",
    context: { trace_id: "0".repeat(32), span_id: "1".repeat(16), trace_state: "" },
    kind: "SpanKind.INTERNAL",
    parent_id: null,
    start_time: "1",
    end_time: "2",
    status: { status_code: "StatusCode.OK" },
    attributes: {
      "langchain.run_id": "0b0d5e4c-8f1a-4c2b-9d3e-7f6a5b4c3d2e",
      "langchain.name": "RunnableSequence",
      function_input: JSON.stringify({ question: text }),
      function_output: JSON.stringify(payload(1024, "a", PII))
    },
    events: [],
    links: [],
    resource: { attributes: { "service.name": "bench" }, schema_url: "" }
  }
  const masking = Redactor.make({ mask: PromptLayerRedaction.maskCommon }, () => {})!
  const walkOnly = Redactor.make({ mask: (t) => t }, () => {})!
  const isolated = [
    ["one log body (2 KB of text), maskCommon", perCall(() => masking.logRequest(body))],
    ["one chain span (2 KB of JSON text), maskCommon", perCall(() => masking.span(span))],
    ["one log body, identity masker (the walk alone)", perCall(() => walkOnly.logRequest(body))],
    ["maskEmails on 1 KB", perCall(() => PromptLayerRedaction.maskEmails(text, { path: "", kind: "input" }))],
    ["maskCardNumbers on 1 KB", perCall(() => PromptLayerRedaction.maskCardNumbers(text, { path: "", kind: "input" }))],
    ["maskApiKeys on 1 KB", perCall(() => PromptLayerRedaction.maskApiKeys(text, { path: "", kind: "input" }))]
  ] as const

  const cpus = Os.cpus()
  const out: Array<string> = []
  out.push("## Redaction cost (bench/redaction.ts)", "")
  out.push("| Machine | |", "|---|---|")
  out.push(`| CPU | ${cpus[0]?.model ?? "?"} × ${cpus.length} |`)
  out.push(`| Node | ${process.version} |`)
  out.push(
    `| Load average at end | ${Os.loadavg()
      .map((l) => l.toFixed(2))
      .join(" / ")} |`
  )
  out.push(
    `| Invocations per arm and round | ${N} × ${ROUNDS} rounds (median), after ${Math.min(N, 100)} of warm-up |`,
    ""
  )
  out.push(
    "| Mode | Redaction | CPU µs per delivered log (median) | vs none | rounds (µs) |",
    "|---|---|---:|---:|---|"
  )
  for (const mode of ["traces", "requests"] as const) {
    const none = median(results.get(`${mode}|none`)!)
    for (const arm of arms) {
      const values = results.get(`${mode}|${arm.name}`)!
      const m = median(values)
      const delta =
        arm.name === "none"
          ? ""
          : `${m - none >= 0 ? "+" : ""}${(m - none).toFixed(0)} µs (${(((m - none) / none) * 100).toFixed(0)} %)`
      out.push(`| ${mode} | ${arm.name} | ${m.toFixed(0)} | ${delta} | ${values.map((v) => v.toFixed(0)).join(", ")} |`)
    }
  }
  out.push("", "| Redaction alone | µs per call (median of 5 batches) |", "|---|---:|")
  for (const [name, us] of isolated) out.push(`| ${name} | ${us.toFixed(1)} |`)
  out.push("", `Finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`)
  process.stdout.write(`${out.join("\n")}\n`)
  Fs.writeFileSync(
    new URL("./RESULTS-redaction.md", import.meta.url),
    `# Redaction: bench/redaction.ts\n\n${out.join("\n")}\n`
  )
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  }
)

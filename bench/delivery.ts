/**
 * Delivery alone, for profiling: the tracker (no LangChain) delivers `n` logs through the client to
 * an emulator in a child process, over `fetch` or `node:http`. Prints CPU per log and logs/s.
 *
 * Usage: node [--cpu-prof --cpu-prof-dir=DIR] --import tsx bench/delivery.ts [fetch|node] [n] [concurrency] [latencyMs]
 * (latencyMs: the emulator delays every /log-request by that much, after the warm-up)
 */
import { spawn } from "node:child_process"
import * as Readline from "node:readline"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import type * as HttpClient from "effect/http/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { PromptLayerClient, PromptLayerTracker } from "promptlayer-effect"
import * as NodeHttpClient from "../src/internal/nodeHttpClient.js"

const [transport = "fetch", nArg = "3000", concurrencyArg = "8", latencyArg = "0"] = process.argv.slice(2)
const latencyMs = Number(latencyArg)
const n = Number(nArg)
const concurrency = Number(concurrencyArg)

const child = spawn(process.execPath, ["--import", "tsx", new URL("./support/emulator.ts", import.meta.url).pathname], {
  stdio: ["ignore", "pipe", "inherit"]
})
const { url, apiKey } = await new Promise<{ url: string; apiKey: string }>((resolve) =>
  Readline.createInterface({ input: child.stdout! }).once("line", (line) => resolve(JSON.parse(line)))
)

const text = (size: number, word: string) => word.repeat(Math.ceil(size / word.length)).slice(0, size)
const m = (role: string, content: string) => ({ role, content: [{ type: "text" as const, text: content }] })
const body = () => ({
  provider: "openai",
  model: "fake-list-chat-model",
  input: { type: "chat" as const, messages: [m("system", "You are a benchmark."), m("user", text(1024, "q"))] },
  output: { type: "chat" as const, messages: [m("assistant", text(1024, "answer"))] },
  request_start_time: Date.now(),
  request_end_time: Date.now(),
  tags: ["bench"]
})

const http: Layer.Layer<HttpClient.HttpClient> = transport === "node" ? NodeHttpClient.layer() : FetchHttpClient.layer
const result = await Effect.gen(function* () {
  const tracker = yield* PromptLayerTracker.make({ concurrency })
  for (let i = 0; i < 300; i++) tracker.offer({ build: body })
  yield* tracker.flush
  if (latencyMs > 0) {
    yield* Effect.promise(() =>
      fetch(`${url}/emulator/faults`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": apiKey },
        body: JSON.stringify({ route: "/log-request", latencyMs })
      })
    )
  }
  const c = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) tracker.offer({ build: body })
  yield* tracker.flush
  const cpu = process.cpuUsage(c)
  const elapsed = performance.now() - t0
  return {
    transport,
    n,
    concurrency,
    latencyMs,
    elapsedMs: Math.round(elapsed),
    logsPerSecond: Math.round(n / (elapsed / 1000)),
    cpuUsPerLog: Math.round((cpu.user + cpu.system) / n),
    stats: tracker.statsUnsafe()
  }
}).pipe(
  Effect.scoped,
  Effect.provide(PromptLayerClient.layerWith({ apiKey, baseUrl: url }).pipe(Layer.provide(http))),
  Effect.runPromise
)
console.log(JSON.stringify(result))
child.kill("SIGTERM")

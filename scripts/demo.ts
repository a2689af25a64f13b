/**
 * `npm run demo`: runs the four examples (examples/chat.ts, completion.ts, full.ts, effect-app.ts)
 * against ONE embedded PromptLayer emulator and the local OpenAI-compatible stub — no keys, no
 * network — and prints what the emulator recorded for each. Exits with code 1 if an example fails
 * or the emulator did not record what it should.
 *
 * `npm run demo -- --serve [--port 8787]` keeps the emulator running afterwards and prints its
 * dashboard URL, until Ctrl-C.
 */
import { main as chat } from "../examples/chat.js"
import { main as completion } from "../examples/completion.js"
import { main as effectApp } from "../examples/effect-app.js"
import { main as full } from "../examples/full.js"
import { type Environment, type Recorded, setup } from "../examples/support/environment.js"
import { describeRecorded, type Example, isMain } from "../examples/support/run.js"

/** What the emulator must have recorded for an example's requests: a list of problems, empty when right. */
type Check = (requests: ReadonlyArray<Recorded>) => Array<string>

const expect = (condition: boolean, problem: string): Array<string> => (condition ? [] : [problem])

const tracked: Check = (requests) =>
  requests.flatMap((r) => [
    ...expect(r.scores.default === 100, `request ${r.id}: score ${JSON.stringify(r.scores)} is not 100`),
    ...expect(r.metadata.foo === "bar", `request ${r.id}: metadata foo is ${JSON.stringify(r.metadata.foo)}`),
    ...expect(
      r.prompt?.name === "example" && r.prompt.version === 1 && r.prompt.input_variables.product === "toasters",
      `request ${r.id}: prompt link is ${JSON.stringify(r.prompt)}`
    )
  ])

const examples: ReadonlyArray<{ readonly name: string; readonly run: Example; readonly check: Check }> = [
  {
    name: "chat",
    run: chat,
    check: (requests) =>
      requests.flatMap((r) => [
        ...expect(r.tags.includes("chatopenai"), `request ${r.id}: tags ${JSON.stringify(r.tags)}`),
        ...expect(r.provider === "openai", `request ${r.id}: provider ${r.provider}`)
      ])
  },
  {
    name: "completion",
    run: completion,
    check: (requests) =>
      requests.flatMap((r) => [
        ...expect(
          r.tags.includes("langchain") && r.tags.includes("gpt4all"),
          `request ${r.id}: tags ${JSON.stringify(r.tags)}`
        ),
        ...expect(r.input?.type === "completion", `request ${r.id}: input is not a completion prompt`)
      ])
  },
  { name: "full", run: full, check: tracked },
  { name: "effect-app", run: effectApp, check: tracked }
]

/** The outcome of one example in the demo. */
export interface Outcome {
  readonly name: string
  readonly ok: boolean
  readonly requestIds: ReadonlyArray<number>
  readonly problems: ReadonlyArray<string>
}

const runOne = async (
  env: Environment,
  example: (typeof examples)[number],
  log: (line: string) => void
): Promise<Outcome> => {
  const started = Date.now()
  try {
    const result = await example.run(env)
    const recorded = await Promise.all(result.requestIds.map((id) => env.recorded(id)))
    const found = recorded.filter((r): r is Recorded => r !== undefined)
    const problems = [
      ...expect(result.requestIds.length > 0, "no request id"),
      ...expect(found.length === result.requestIds.length, "a request id is missing from the emulator"),
      ...example.check(found)
    ]
    const status = problems.length === 0 ? "ok" : "FAILED"
    log(`${example.name}: ${status} (${Date.now() - started} ms) request ids ${result.requestIds.join(", ")}`)
    for (const request of found) for (const line of describeRecorded(request)) log(`  #${request.id} ${line}`)
    for (const problem of problems) log(`  problem: ${problem}`)
    return { name: example.name, ok: problems.length === 0, requestIds: result.requestIds, problems }
  } catch (error) {
    const problem = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    log(`${example.name}: FAILED (${Date.now() - started} ms)`)
    log(`  problem: ${problem}`)
    return { name: example.name, ok: false, requestIds: [], problems: [problem] }
  }
}

/**
 * Runs the four examples one after the other on `env` (one emulator for all) and reports each
 * through `log`; resolves the outcomes, one per example.
 */
export const runDemo = async (
  env: Environment,
  log: (line: string) => void = console.log
): Promise<ReadonlyArray<Outcome>> => {
  const where = env.local ? `embedded PromptLayer emulator at ${env.baseURL}` : `PromptLayer at ${env.baseURL}`
  log(`promptlayer-effect demo: ${where}, ${env.openai === "stub" ? "local OpenAI-compatible stub" : "OpenAI"}`)
  const outcomes: Array<Outcome> = []
  for (const example of examples) outcomes.push(await runOne(env, example, log))
  const stats = env.emulator?.stats()
  if (stats !== undefined) {
    const calls = Object.entries(stats.calls)
      .map(([route, n]) => `${route} ×${n}`)
      .join(", ")
    log(`emulator: ${stats.requests} requests recorded; calls: ${calls}`)
  }
  const failed = outcomes.filter((outcome) => !outcome.ok).length
  log(
    failed === 0 ? `demo: all ${examples.length} examples ok` : `demo: ${failed} of ${examples.length} examples FAILED`
  )
  return outcomes
}

const cli = async (): Promise<void> => {
  const args = process.argv.slice(2)
  const serve = args.includes("--serve")
  const portArg = args.indexOf("--port")
  const port = portArg >= 0 ? Number(args[portArg + 1]) : 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo: --port needs a port number, got ${JSON.stringify(args[portArg + 1])}`)
    process.exit(2)
  }
  const unknown = args.filter((arg, i) => arg !== "--serve" && arg !== "--port" && !(portArg >= 0 && i === portArg + 1))
  if (unknown.length > 0) {
    console.error(`demo: unknown arguments ${unknown.join(" ")} (usage: npm run demo [-- --serve [--port N]])`)
    process.exit(2)
  }
  const env = await setup({ promptLayer: "local", openai: "stub", port })
  let failed = 0
  try {
    failed = (await runDemo(env)).filter((outcome) => !outcome.ok).length
    if (serve) {
      console.log(`dashboard: ${env.baseURL}/  (read API: ${env.baseURL}/emulator/requests) — Ctrl-C to stop`)
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve())
        process.once("SIGTERM", () => resolve())
      })
    }
  } finally {
    await env.close()
  }
  process.exitCode = failed === 0 ? 0 : 1
}

if (isMain(import.meta.url)) await cli()

/**
 * Running an example directly (`npx tsx examples/<name>.ts`) and printing what PromptLayer recorded.
 */
import * as Fs from "node:fs"
import { pathToFileURL } from "node:url"
import { type Environment, type Recorded, setup } from "./environment.js"

/** What every example's `main` returns. */
export interface ExampleResult {
  /** The PromptLayer request ids of the model calls, in order. */
  readonly requestIds: ReadonlyArray<number>
  /** The model's answer(s). */
  readonly answers: ReadonlyArray<string>
}

/** An example: takes an environment, returns what it did. */
export type Example = (env: Environment) => Promise<ExampleResult>

/** Whether the module with this `import.meta.url` is the script node was started with. */
export const isMain = (moduleUrl: string): boolean => {
  const script = process.argv[1]
  if (script === undefined) return false
  const real = Fs.existsSync(script) ? Fs.realpathSync(script) : script
  return moduleUrl === pathToFileURL(real).href || moduleUrl === pathToFileURL(script).href
}

/** One line per fact PromptLayer recorded for a request. */
export const describeRecorded = (request: Recorded): Array<string> => {
  const lines = [
    `provider/model: ${request.provider}/${request.model}  status: ${request.status}  tokens: ${request.input_tokens} in, ${request.output_tokens} out`,
    `tags: ${JSON.stringify(request.tags)}`
  ]
  const scores = Object.entries(request.scores)
  if (scores.length > 0) lines.push(`scores: ${scores.map(([name, score]) => `${name}=${score}`).join(", ")}`)
  // LangChain's own keys (run ids, ls_*, versions) are left out of the short report.
  const metadata = Object.entries(request.metadata).filter(([key]) => !/^(langchain_|ls_|versions$)/.test(key))
  if (metadata.length > 0) lines.push(`metadata: ${metadata.map(([k, v]) => `${k}=${v}`).join(", ")}`)
  if (request.prompt !== null) {
    lines.push(
      `prompt: ${request.prompt.name} v${request.prompt.version} with ${JSON.stringify(request.prompt.input_variables)}`
    )
  }
  return lines
}

/** Prints the request ids of a result and, when local, what the emulator recorded for each. */
export const printResult = async (env: Environment, result: ExampleResult): Promise<void> => {
  for (const answer of result.answers) console.log(`answer: ${JSON.stringify(answer)}`)
  for (const id of result.requestIds) {
    console.log(`PromptLayer request id: ${id}`)
    const request = await env.recorded(id)
    if (request === undefined) {
      console.log(
        env.local
          ? "  (not found in the emulator)"
          : `  (logged to ${env.baseURL}; see it in your PromptLayer dashboard)`
      )
      continue
    }
    for (const line of describeRecorded(request)) console.log(`  ${line}`)
  }
}

/**
 * Runs an example as a script: sets up the environment, runs it, prints the result, closes
 * everything. Sets a non-zero exit code on failure.
 */
export const runExample = async (name: string, example: Example): Promise<void> => {
  const env = await setup()
  try {
    const where = env.local ? `the embedded emulator at ${env.baseURL}` : env.baseURL
    console.log(`${name}: PromptLayer = ${where}; models = ${env.openai === "stub" ? "local OpenAI stub" : "OpenAI"}`)
    await printResult(env, await example(env))
  } catch (error) {
    console.error(`${name} failed:`, error)
    process.exitCode = 1
  } finally {
    await env.close()
  }
}

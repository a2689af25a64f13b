/**
 * The package as an app installs it: `npm pack` (which builds dist/), then a fresh consumer
 * project that asks npm for `effect@latest` (and `@langchain/core`, `@langchain/openai`) installs the
 * tarball with no peer conflict, type-checks the README's quick starts (Effect, Promise bridge,
 * LangChain) copied from README.md as they are, and runs them against an embedded emulator and the
 * local OpenAI stub. The emulator's store shows what each one logged.
 *
 * This needs the npm registry (as `npm ci` does); it takes a minute, most of it in `npm install`.
 */
import { execFile } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type Environment, setup } from "../examples/support/environment.js"

const run = promisify(execFile)
const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")

/** The first ```ts block after the README heading that starts with `heading`. */
const readmeBlock = (readme: string, heading: string): string => {
  const at = readme.split("\n").findIndex((line) => line.startsWith(`## ${heading}`))
  if (at < 0) throw new Error(`README has no "## ${heading}" section`)
  const rest = readme.split("\n").slice(at + 1)
  const start = rest.findIndex((line) => line.trim() === "```ts")
  const end = rest.findIndex((line, i) => i > start && line.trim() === "```")
  if (start < 0 || end < 0) throw new Error(`README section "${heading}" has no ts block`)
  return rest.slice(start + 1, end).join("\n")
}

/** Every ```ts block of the README, in order. */
const readmeBlocks = (readme: string): Array<string> =>
  [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!)

/**
 * What the README's fragments take as given (a chat model, a chain, the handler class): declared, so
 * that every block type-checks on its own.
 */
const readmeGivens = `import type { BaseChatModel } from "@langchain/core/language_models/chat_models"
import type { Runnable } from "@langchain/core/runnables"
import type { PromptLayerCallbackHandler as Handler } from "promptlayer-effect/langchain"
declare global {
  const chat: BaseChatModel
  const ragChain: Runnable<string, unknown>
  const chain: Runnable<string, unknown>
  const input: string
  const PromptLayerCallbackHandler: typeof Handler
}
export {}
`

/** npm's own variables from the `npm test` that runs us would steer the consumer's npm: leave them out. */
const cleanEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && !/^(PROMPTLAYER|OPENAI)_/.test(key)) env[key] = value
  }
  return { ...env, ...extra }
}

const quickStarts = {
  effect: "Quick start: Effect",
  promise: "Promise bridge",
  langchain: "LangChain.js"
} as const

let dir = ""
let environment: Environment | undefined
let blocks: Array<string> = []
let installed: { effect: string; peerProblems: string } = { effect: "", peerProblems: "" }

beforeAll(async () => {
  dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "promptlayer-effect-consumer-"))
  const packed = await run("npm", ["pack", "--json", "--pack-destination", dir], {
    cwd: root,
    env: cleanEnv({}),
    maxBuffer: 64 * 1024 * 1024
  })
  const [{ filename }] = JSON.parse(packed.stdout) as Array<{ filename: string }>
  const app = Path.join(dir, "app")
  await Fs.mkdir(app)
  await Fs.writeFile(
    Path.join(app, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" })
  )
  // As the README says to install it; --strict-peer-deps turns any peer conflict into a failure.
  await run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--strict-peer-deps",
      Path.join(dir, filename!),
      "effect@latest",
      "@langchain/core@^1.2.13",
      "@langchain/openai@^1",
      "@effect/vitest@latest",
      "vitest@^5"
    ],
    { cwd: app, env: cleanEnv({}), maxBuffer: 64 * 1024 * 1024 }
  )
  const ls = await run("npm", ["ls", "--all", "--json"], {
    cwd: app,
    env: cleanEnv({}),
    maxBuffer: 64 * 1024 * 1024
  }).catch((error: { stdout: string; stderr: string }) => ({
    stdout: error.stdout,
    stderr: `npm ls failed: ${error.stderr}`
  }))
  installed = {
    effect: (JSON.parse(ls.stdout) as { dependencies: { effect: { version: string } } }).dependencies.effect.version,
    peerProblems: ls.stderr
  }

  const readme = await Fs.readFile(Path.join(root, "README.md"), "utf8")
  for (const [name, heading] of Object.entries(quickStarts)) {
    await Fs.writeFile(Path.join(app, `${name}.ts`), `${readmeBlock(readme, heading)}\n`)
  }
  await Fs.writeFile(Path.join(app, "testing.test.ts"), `${readmeBlock(readme, "Testing your app")}\n`)
  blocks = readmeBlocks(readme)
  await Fs.mkdir(Path.join(app, "readme"))
  await Fs.writeFile(Path.join(app, "readme", "givens.d.ts"), readmeGivens)
  for (const [i, block] of blocks.entries()) {
    await Fs.writeFile(Path.join(app, "readme", `block-${i + 1}.ts`), `${block}\nexport {}\n`)
  }
  await Fs.writeFile(
    Path.join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2022", "DOM"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: []
      },
      include: ["readme"]
    })
  )
  environment = await setup({ promptLayer: "local", openai: "stub" })
})

afterAll(async () => {
  await environment?.close()
  if (dir !== "") await Fs.rm(dir, { recursive: true, force: true })
})

/** Runs a quick start as a user would (tsx), against the emulator and the OpenAI stub. */
const runQuickStart = async (name: keyof typeof quickStarts) => {
  const env = environment!
  const tsx = Path.join(root, "node_modules", "tsx", "dist", "cli.mjs")
  return run(process.execPath, [tsx, `${name}.ts`], {
    cwd: Path.join(dir, "app"),
    env: cleanEnv({
      PROMPTLAYER_API_KEY: env.apiKey,
      PROMPTLAYER_BASE_URL: env.baseURL,
      OPENAI_API_KEY: "sk-local-stub",
      OPENAI_BASE_URL: env.stub!.url
    })
  })
}

/** The emulator's newest request id (0 when it holds none). */
const lastId = () => environment!.emulator!.store.requests()[0]?.id ?? 0

/** Requests logged after `before` (an id from {@link lastId}), oldest first. */
const requestsSince = (before: number) =>
  environment!
    .emulator!.store.requests()
    .filter((request) => request.id > before)
    .reverse()

describe("the packed package in an app with effect@latest", () => {
  it("installs with --strict-peer-deps: effect 4 from the registry satisfies the peer range", () => {
    assert.match(installed.effect, /^4\./)
    assert.strictEqual(installed.peerProblems, "", "npm ls --all reports no missing, invalid or extraneous package")
  })

  it("type-checks every TypeScript block of the README against the installed package", async () => {
    assert.isAtLeast(blocks.length, 8)
    const tsc = Path.join(root, "node_modules", "typescript", "bin", "tsc")
    const result = await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: Path.join(dir, "app") }).catch(
      (error: { stdout: string }) => ({ stdout: error.stdout, failed: true })
    )
    assert.isFalse("failed" in result, result.stdout)
  })

  it("runs the README's complete test with the app's own vitest and @effect/vitest", async () => {
    const vitest = Path.join(dir, "app", "node_modules", "vitest", "vitest.mjs")
    const { stdout } = await run(process.execPath, [vitest, "run", "testing.test.ts"], {
      cwd: Path.join(dir, "app"),
      env: cleanEnv({ CI: "1", NO_COLOR: "1" })
    })
    assert.match(stdout, /Tests\s+2 passed \(2\)/)
  })

  it("runs the Effect quick start: a logged request, scored and with metadata", async () => {
    const before = lastId()
    await runQuickStart("effect")
    const [request, ...more] = requestsSince(before)
    assert.lengthOf(more, 0)
    assert.strictEqual(request?.provider, "openai")
    assert.deepStrictEqual(request?.scores, { default: 100 })
    assert.deepStrictEqual(request?.metadata, { user: "42" })
  })

  it("runs the Promise quick start: logged, scored, a LangChain prompt from the registry, a typed NotFoundError", async () => {
    const before = lastId()
    const { stdout } = await runQuickStart("promise")
    const [request, ...more] = requestsSince(before)
    assert.lengthOf(more, 0)
    assert.deepStrictEqual(request?.scores, { default: 100 })
    assert.deepStrictEqual(request?.metadata, { foo: "bar" })
    assert.include(stdout, "toasters")
    assert.include(stdout, "NotFoundError")
  })

  it("runs the LangChain quick start: both models' calls logged with their plTags, the id reported", async () => {
    const before = lastId()
    const { stdout } = await runQuickStart("langchain")
    const requests = requestsSince(before)
    assert.deepStrictEqual(
      requests.map((request) => request.tags).sort(),
      [["chatopenai"], ["langchain", "gpt4all"]].sort()
    )
    const completion = requests.find((request) => request.tags?.includes("gpt4all"))
    assert.include(stdout, `PromptLayer request ${completion?.id}`)
  })
})

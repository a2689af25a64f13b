/**
 * Issue 11, point 9: the published declaration files type-check for a user who has neither
 * `@langchain/core` (an optional peer) nor `@types/node`, with `skipLibCheck: false`.
 *
 * The declarations are built from `tsconfig.build.json` into a temporary `node_modules/promptlayer-effect`
 * (with this package.json, so that the `exports` map is the published one), next to a link to `effect`
 * only (its one peer dependency: HTTP and Schema are part of `effect` 4). A consumer importing the root entry and `promptlayer-effect/promise`
 * is then type-checked with `types: []`. Both compilations run in this process with the TypeScript
 * API (one load of the compiler, parsed files shared); the build starts from the two entries the
 * consumer imports, and the consumer's diagnostics are those of its own file and of this package's
 * declarations (what `skipLibCheck: false` adds for them), not a re-check of effect's.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import ts from "typescript"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")

const consumerSource = `
import { Effect, Layer } from "effect"
import { PromptLayerClient, PromptLayerConfig, PromptLayerError, PromptLayerHttp } from "promptlayer-effect"
import { PromptLayer, RedirectError, ResponseTooLargeError } from "promptlayer-effect/promise"

export const promptlayer = new PromptLayer({ apiKey: "pl_key", maxResponseBytes: 1024 })
export const template = promptlayer.templates.get("name", { version: 1 }).then((t) => t.prompt_name)
// @ts-expect-error without promptlayer-effect/langchain there is no \`langchain: true\` overload
export const prompt = promptlayer.templates.get("name", { langchain: true })
export const client = PromptLayerClient.layerWith({ apiKey: "pl_key", maxResponseBytes: 1024 }).pipe(
  Layer.provide(PromptLayerHttp.layerNode({ agent: { keepAlive: true, maxSockets: 8 } }))
)
export const fetchClient = PromptLayerClient.layerFetch
export const limit: number = PromptLayerConfig.DEFAULT_MAX_RESPONSE_BYTES
export const handled = Effect.flatMap(PromptLayerClient.PromptLayerClient, (c) => c.group.create()).pipe(
  Effect.catchTags({
    RedirectError: (e: PromptLayerError.RedirectError) => Effect.succeed(e.status),
    ResponseTooLargeError: (e: ResponseTooLargeError) => Effect.succeed(e.maxResponseBytes)
  })
)
export const isRedirect = (u: unknown): boolean => u instanceof RedirectError
`

/** A compiler host that parses each file once for both programs (same target and module settings). */
const sharedHost = (options: ts.CompilerOptions): ts.CompilerHost => {
  const host = ts.createCompilerHost(options)
  const parsed = new Map<string, ts.SourceFile | undefined>()
  const getSourceFile: ts.CompilerHost["getSourceFile"] = (fileName, languageVersion, onError, fresh) => {
    if (!parsed.has(fileName) || fresh) parsed.set(fileName, host.getSourceFile(fileName, languageVersion, onError))
    return parsed.get(fileName)
  }
  return { ...host, getSourceFile }
}

const format = (diagnostics: ReadonlyArray<ts.Diagnostic>) =>
  ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => "\n"
  })

describe("declaration files (issue 11, point 9)", () => {
  it("the root and promise entries type-check with skipLibCheck: false, without @langchain/core or @types/node", () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "promptlayer-effect-types-"))
    try {
      const pkg = Path.join(dir, "node_modules", "promptlayer-effect")
      Fs.mkdirSync(pkg, { recursive: true })
      Fs.copyFileSync(Path.join(root, "package.json"), Path.join(pkg, "package.json"))
      Fs.symlinkSync(Path.join(root, "node_modules", "effect"), Path.join(dir, "node_modules", "effect"))

      // 1. The declarations, as `npm run build` emits them.
      const build = ts.getParsedCommandLineOfConfigFile(
        Path.join(root, "tsconfig.build.json"),
        {
          outDir: Path.join(pkg, "dist"),
          emitDeclarationOnly: true,
          declarationMap: false,
          sourceMap: false
        },
        { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(format([d])) }
      )
      if (build === undefined) return assert.fail("tsconfig.build.json could not be read")
      const host = sharedHost(build.options)
      const rootNames = ["index.ts", "promise.ts"].map((entry) => Path.join(root, "src", entry))
      const emitted = ts.createProgram({ rootNames, options: build.options, host }).emit()
      assert.strictEqual(format(emitted.diagnostics), "")
      assert.isTrue(Fs.existsSync(Path.join(pkg, "dist", "promise.d.ts")))

      // 2. A consumer without @langchain/core nor @types/node.
      Fs.writeFileSync(Path.join(dir, "package.json"), JSON.stringify({ type: "module" }))
      const consumer = Path.join(dir, "consumer.ts")
      Fs.writeFileSync(consumer, consumerSource)
      const options: ts.CompilerOptions = {
        target: ts.ScriptTarget.ES2022,
        lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        strict: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: false,
        types: [],
        noEmit: true
      }
      for (const missing of ["@langchain/core/prompts", "@types/node"]) {
        const resolved = ts.resolveModuleName(missing, consumer, options, host).resolvedModule
        assert.isUndefined(
          resolved,
          `${missing} must not be resolvable from the consumer (found ${resolved?.resolvedFileName})`
        )
      }
      const program = ts.createProgram({ rootNames: [consumer], options, host })
      const files = program.getSourceFiles().map((file) => file.fileName)
      assert.isTrue(
        files.some((file) => file.endsWith("promptlayer-effect/dist/PromptLayerPromise.d.ts")),
        "the promise bridge's declarations are checked"
      )
      assert.isFalse(
        files.some((file) => file.includes("@langchain") || file.includes("@types/node")),
        "neither @langchain/core nor @types/node is part of the consumer's program"
      )
      const ours = program
        .getSourceFiles()
        .filter((file) => file.fileName === consumer || file.fileName.startsWith(`${pkg}/`))
      assert.isAbove(ours.length, 10)
      const diagnostics = [
        ...program.getOptionsDiagnostics(),
        ...program.getGlobalDiagnostics(),
        ...ours.flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)])
      ]
      assert.strictEqual(format(diagnostics), "")
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})

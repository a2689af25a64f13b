#!/usr/bin/env node
/**
 * The `promptlayer-effect` command line.
 *
 * ```sh
 * npx promptlayer-effect emulator [--port 8787] [--host 127.0.0.1] [--data FILE] [--api-key KEY] [--seed N]
 * ```
 *
 * Prints the URL (on a line `PromptLayer emulator listening on <url>`), the key and the two
 * `export` lines; stops cleanly on SIGINT/SIGTERM.
 *
 * @since 0.1.0
 */
import { DEFAULT_PORT, startEmulator } from "./PromptLayerEmulator.js"

const USAGE = `Usage: promptlayer-effect emulator [options]

Runs a local PromptLayer-compatible server.

Options:
  --port N        port to listen on (default ${DEFAULT_PORT}; 0 = any free port)
  --host HOST     address to bind (default 127.0.0.1)
  --data FILE     persist the state to FILE (atomic writes; survives restarts)
  --api-key KEY   the accepted API key (default: a fixed, printed local key)
  --seed N        seed of fault injection
  -h, --help      this help
`

const fail = (message: string): never => {
  process.stderr.write(`promptlayer-effect: ${message}\n\n${USAGE}`)
  process.exit(2)
}

const parseArgs = (argv: ReadonlyArray<string>) => {
  const options: { port: number; host?: string; dataFile?: string; apiKey?: string; seed?: number } = {
    port: DEFAULT_PORT
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined]
    const value = () => {
      const v = inline ?? argv[++i]
      if (v === undefined || v === "") fail(`${flag} needs a value`)
      return v as string
    }
    switch (flag) {
      case "--port": {
        const v = value()
        const port = Number(v)
        if (!/^\d+$/.test(v) || port > 65535) fail(`--port: expected 0–65535, got ${v}`)
        options.port = port
        break
      }
      case "--host":
        options.host = value()
        break
      case "--data":
        options.dataFile = value()
        break
      case "--api-key":
        options.apiKey = value()
        break
      case "--seed": {
        const v = value()
        if (!/^\d+$/.test(v)) fail(`--seed: expected an integer, got ${v}`)
        options.seed = Number(v)
        break
      }
      case "-h":
      case "--help":
        process.stdout.write(USAGE)
        process.exit(0)
        break
      default:
        fail(`unknown option ${arg}`)
    }
  }
  return options
}

const main = async (argv: ReadonlyArray<string>) => {
  const [command, ...rest] = argv
  if (command === undefined || command === "-h" || command === "--help") {
    process.stdout.write(USAGE)
    return
  }
  if (command !== "emulator") fail(`unknown command ${command}`)
  const options = parseArgs(rest)
  const emulator = await startEmulator(options)
  process.stdout.write(
    [
      `PromptLayer emulator listening on ${emulator.url}`,
      `API key: ${emulator.apiKey}`,
      ...(options.dataFile ? [`Data file: ${options.dataFile}`] : []),
      `Dashboard: ${emulator.url}/`,
      "",
      `export PROMPTLAYER_BASE_URL=${emulator.url}`,
      `export PROMPTLAYER_API_KEY=${emulator.apiKey}`,
      ""
    ].join("\n")
  )
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    process.stdout.write(`Received ${signal}, shutting down\n`)
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1)
    )
  }
  process.on("SIGINT", () => stop("SIGINT"))
  process.on("SIGTERM", () => stop("SIGTERM"))
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`promptlayer-effect: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})

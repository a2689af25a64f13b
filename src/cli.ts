#!/usr/bin/env node
/**
 * The `promptlayer-effect` command line.
 *
 * ```sh
 * npx promptlayer-effect emulator [--port 8787] [--host 127.0.0.1] [--data FILE] [--api-key KEY] [--seed N]
 *   [--allowed-host HOST]... [--max-stored-bytes N]
 * ```
 *
 * Prints the URL (on a line `PromptLayer emulator listening on <url>`), the key and the two
 * `export` lines; when bound beyond loopback, the addresses it is reachable at and a warning on
 * stderr. Stops cleanly on SIGINT/SIGTERM.
 *
 * @since 0.1.0
 */
import { banner } from "./internal/emulator/banner.js"
import { DEFAULT_API_KEY, DEFAULT_LIMITS, DEFAULT_PORT, startEmulator } from "./PromptLayerEmulator.js"

const USAGE = `Usage: promptlayer-effect emulator [options]

Runs a local PromptLayer-compatible server.

Options:
  --port N        port to listen on (default ${DEFAULT_PORT}; 0 = any free port)
  --host HOST     address to bind (default 127.0.0.1; 0.0.0.0 exposes it to the network)
  --data FILE     persist the state to FILE plus its journal FILE.journal.N
                  (every change fdatasync'd before the response; compacted
                  into FILE; survives restarts and crashes)
  --api-key KEY   the accepted API key (default: a fixed, printed local key)
  --seed N        seed of fault injection
  --allowed-host HOST
                  also serve requests whose Host header is HOST (name: any port;
                  name:port: that port; * = any host); repeatable. Default: the
                  bound address, localhost, 127.0.0.1 and [::1] at the port
  --max-stored-bytes N
                  stop storing (507) past N bytes of logged JSON
                  (default ${DEFAULT_LIMITS.maxStoredBytes})
  -h, --help      this help
`

const fail = (message: string): never => {
  process.stderr.write(`promptlayer-effect: ${message}\n\n${USAGE}`)
  process.exit(2)
}

const parseArgs = (argv: ReadonlyArray<string>) => {
  const options: {
    port: number
    host?: string
    dataFile?: string
    apiKey?: string
    seed?: number
    allowedHosts: Array<string>
    maxStoredBytes?: number
  } = { port: DEFAULT_PORT, allowedHosts: [] }
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
      case "--allowed-host":
        options.allowedHosts.push(value())
        break
      case "--max-stored-bytes": {
        const v = value()
        if (!/^\d+$/.test(v) || Number(v) === 0) fail(`--max-stored-bytes: expected a positive integer, got ${v}`)
        options.maxStoredBytes = Number(v)
        break
      }
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
  const printed = banner({
    url: emulator.url,
    apiKey: emulator.apiKey,
    host: options.host ?? "127.0.0.1",
    port: Number(new URL(emulator.url).port || 80),
    dataFile: options.dataFile,
    defaultKey: emulator.apiKey === DEFAULT_API_KEY
  })
  if (printed.warning !== "") process.stderr.write(printed.warning)
  process.stdout.write(printed.out)
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

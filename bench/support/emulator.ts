/**
 * The emulator as a child process of the benchmark, so that its CPU is not counted against the
 * handler. Prints one JSON line `{ "url": ..., "apiKey": ... }` when listening; exits cleanly on
 * SIGTERM/SIGINT (so `node --cpu-prof` writes its profile).
 *
 * Usage: tsx bench/support/emulator.ts [port]
 */
import { startEmulator } from "promptlayer-effect/emulator"

const port = Number(process.argv[2] ?? 0)
// The scenarios log more than the default stored-bytes cap; no cap also keeps the emulator's cost as in earlier runs.
const emulator = await startEmulator({ port, maxStoredBytes: Number.POSITIVE_INFINITY })
process.stdout.write(`${JSON.stringify({ url: emulator.url, apiKey: emulator.apiKey })}\n`)
const stop = () => {
  void emulator.close().then(() => process.exit(0))
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)

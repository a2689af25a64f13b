/**
 * What the command line prints when the emulator starts: its URL, key and `export` lines, and,
 * when it is bound beyond loopback, the addresses it is reachable at and a warning.
 */
import * as Os from "node:os"

/** Inputs of {@link banner}. */
export interface BannerInput {
  /** The local URL (`RunningEmulator.url`). */
  readonly url: string
  readonly apiKey: string
  /** The address bound (`--host`). */
  readonly host: string
  readonly port: number
  readonly dataFile?: string | undefined
  /** True when the key is the fixed, published default. */
  readonly defaultKey: boolean
  /** Network interfaces (default `os.networkInterfaces()`). */
  readonly interfaces?: ReturnType<typeof Os.networkInterfaces> | undefined
}

/** True for an address only this machine can reach. */
export const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host)

const urlOf = (address: string, port: number) => `http://${address.includes(":") ? `[${address}]` : address}:${port}`

/** The URLs other machines may use, for a wildcard bind: every non-internal interface address. */
const reachableUrls = (input: BannerInput): Array<string> => {
  if (input.host !== "0.0.0.0" && input.host !== "::") return [urlOf(input.host, input.port)]
  const urls: Array<string> = []
  for (const list of Object.values(input.interfaces ?? Os.networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.internal || (input.host === "0.0.0.0" && info.family !== "IPv4")) continue
      urls.push(urlOf(info.address, input.port))
    }
  }
  return urls
}

/** The lines printed at start (stdout), and the warning lines (stderr; empty when bound to loopback). */
export const banner = (input: BannerInput): { readonly out: string; readonly warning: string } => {
  const exposed = !isLoopback(input.host)
  const out = [
    `PromptLayer emulator listening on ${input.url}`,
    ...(exposed
      ? [
          `Bound to ${input.host}; reachable from other machines at: ${reachableUrls(input).join(", ") || "(no other interface)"}`
        ]
      : []),
    `API key: ${input.apiKey}`,
    ...(input.dataFile ? [`Data file: ${input.dataFile}`] : []),
    `Dashboard: ${input.url}/`,
    "",
    `export PROMPTLAYER_BASE_URL=${input.url}`,
    `export PROMPTLAYER_API_KEY=${input.apiKey}`,
    ""
  ].join("\n")
  const warning = exposed
    ? [
        `WARNING: the emulator is exposed beyond this machine (--host ${input.host}). Anyone who can reach it can read`,
        "every logged prompt and response on the dashboard and read API, and change its state with the API key.",
        ...(input.defaultKey
          ? ["The API key is the fixed default that anyone can look up: pass --api-key with a secret value."]
          : []),
        "Requests naming another host than this machine's addresses or name are refused unless it is listed with --allowed-host.",
        ""
      ].join("\n")
    : ""
  return { out, warning }
}

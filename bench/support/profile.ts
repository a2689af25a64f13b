/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and returns the frames with the most self time,
 * and the files (packages) with the most self time.
 */
import * as Fs from "node:fs"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly hitCount?: number
}

interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
  readonly startTime: number
  readonly endTime: number
}

export interface Frame {
  readonly name: string
  readonly selfMs: number
  readonly share: number
}

const shortUrl = (url: string) => {
  const i = url.lastIndexOf("node_modules/")
  if (i >= 0) return url.slice(i + "node_modules/".length)
  const s = url.indexOf("/src/")
  if (s >= 0) return url.slice(s + 1)
  return url.replace(/^file:\/\//, "")
}

const packageOf = (url: string) => {
  if (url === "") return "(native / V8 / GC)"
  if (url.startsWith("node:")) return "node core"
  const i = url.lastIndexOf("node_modules/")
  if (i >= 0) {
    const rest = url.slice(i + "node_modules/".length).split("/")
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  return url.includes("/src/") ? `promptlayer-effect ${shortUrl(url)}` : shortUrl(url)
}

/** Self time per frame and per package, biggest first. */
export const topFrames = (
  file: string,
  limit = 12
): { frames: Array<Frame>; packages: Array<Frame>; totalMs: number } => {
  const profile = JSON.parse(Fs.readFileSync(file, "utf8")) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const frames = new Map<string, number>()
  const packages = new Map<string, number>()
  let total = 0
  for (const [id, micros] of self) {
    const node = byId.get(id)!
    const { functionName, url, lineNumber } = node.callFrame
    if (functionName === "(idle)" || functionName === "(program)") continue
    total += micros
    const name = url === "" ? functionName : `${functionName || "(anonymous)"} ${shortUrl(url)}:${lineNumber + 1}`
    frames.set(name, (frames.get(name) ?? 0) + micros)
    const pkg = url === "" ? `${functionName}` : packageOf(url)
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros)
  }
  const sorted = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, micros]) => ({ name, selfMs: micros / 1000, share: total === 0 ? 0 : micros / total }))
  return { frames: sorted(frames), packages: sorted(packages), totalMs: total / 1000 }
}

/**
 * Share of the profile's (non-idle) samples whose call stack contains a frame matching each
 * predicate: inclusive time, e.g. "everything under undici's fetch".
 */
export const inclusiveShares = (
  file: string,
  groups: Record<string, (frame: { functionName: string; url: string }) => boolean>
): Record<string, number> => {
  const profile = JSON.parse(Fs.readFileSync(file, "utf8")) as CpuProfile & {
    nodes: ReadonlyArray<ProfileNode & { children?: ReadonlyArray<number> }>
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const memo = new Map<number, Set<string>>()
  const groupsOf = (id: number): Set<string> => {
    const known = memo.get(id)
    if (known !== undefined) return known
    const p = parent.get(id)
    const set = new Set(p === undefined ? [] : groupsOf(p))
    const frame = byId.get(id)!.callFrame
    for (const [name, test] of Object.entries(groups)) if (test(frame)) set.add(name)
    memo.set(id, set)
    return set
  }
  const totals: Record<string, number> = Object.fromEntries(Object.keys(groups).map((k) => [k, 0]))
  let total = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    const frame = byId.get(id)!.callFrame
    if (frame.functionName === "(idle)" || frame.functionName === "(program)") continue
    const micros = profile.timeDeltas[i] ?? 0
    total += micros
    for (const g of groupsOf(id)) totals[g] = (totals[g] ?? 0) + micros
  }
  return Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, total === 0 ? 0 : v / total]))
}

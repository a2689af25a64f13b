/**
 * A loopback stand-in for the LangSmith API, for the traces benchmark (bench/traces.ts), run in a
 * process of its own so that its CPU is not counted against the tracer. It answers what
 * `LangChainTracer`'s client calls while tracing and counts the runs it receives:
 *
 * | route | |
 * | --- | --- |
 * | GET `/info` | server info: multipart ingest and gzip bodies enabled (what LangSmith's cloud announces), batch limits |
 * | POST `/runs/multipart` | multipart runs (`post.<id>`, `patch.<id>`, `….inputs`/`….outputs`), `Content-Encoding: gzip` or `zstd` accepted |
 * | POST `/runs/batch` | JSON `{ post, patch }` |
 * | POST `/runs`, PATCH `/runs/{id}` | single runs (used when batching is off) |
 * | GET `/stub/stats`, POST `/stub/reset` | the counters (not part of LangSmith) |
 *
 * A model run (`run_type` `llm`) counts as stored once its end time has arrived (in its post, or in
 * a later patch). Prints one JSON line `{ "url": ... }` when listening on 127.0.0.1; exits on SIGTERM.
 *
 * Usage: tsx bench/support/langsmithStub.ts
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Zlib from "node:zlib"

interface Counters {
  requests: number
  multipart: number
  batch: number
  single: number
  bodyBytes: number
  wireBytes: number
  posts: number
  patches: number
  unknownRoutes: number
  badBodies: number
}

const fresh = (): Counters => ({
  requests: 0,
  multipart: 0,
  batch: 0,
  single: 0,
  bodyBytes: 0,
  wireBytes: 0,
  posts: 0,
  patches: 0,
  unknownRoutes: 0,
  badBodies: 0
})

let counters = fresh()
/** Model runs seen (posted with run_type llm). */
let llmRuns = new Set<string>()
/** Runs whose end time has arrived (a post with end_time, or a patch). */
let endedRuns = new Set<string>()
let llmEnded = 0

const record = (kind: "post" | "patch", run: Record<string, unknown>, id: string) => {
  if (kind === "post") {
    counters.posts++
    if (run.run_type === "llm") {
      llmRuns.add(id)
      if (endedRuns.has(id)) llmEnded++
    }
  } else {
    counters.patches++
  }
  if (kind === "patch" || run.end_time != null) {
    if (!endedRuns.has(id)) {
      endedRuns.add(id)
      if (llmRuns.has(id)) llmEnded++
    }
  }
}

const decompress = (body: Buffer, encoding: string | undefined): Buffer => {
  if (encoding === undefined || encoding === "identity") return body
  if (encoding === "gzip") return Zlib.gunzipSync(body)
  const zstd = (Zlib as unknown as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync
  if (encoding === "zstd" && zstd !== undefined) return zstd(body)
  throw new Error(`unsupported content-encoding ${encoding}`)
}

/** The parts of a multipart/form-data body: name and data. */
const multipartParts = (body: Buffer, boundary: string): Array<{ name: string; data: Buffer }> => {
  const delimiter = Buffer.from(`--${boundary}`)
  const parts: Array<{ name: string; data: Buffer }> = []
  let at = body.indexOf(delimiter)
  while (at >= 0) {
    const start = at + delimiter.length
    if (body[start] === 45 && body[start + 1] === 45) break // "--": the closing delimiter
    const next = body.indexOf(delimiter, start)
    if (next < 0) break
    const part = body.subarray(start + 2, next - 2) // after CRLF, before CRLF
    const headerEnd = part.indexOf("\r\n\r\n")
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString("latin1")
      const name = /name="([^"]+)"/.exec(headers)?.[1]
      if (name !== undefined) parts.push({ name, data: part.subarray(headerEnd + 4) })
    }
    at = next
  }
  return parts
}

const ingestMultipart = (body: Buffer, contentType: string) => {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2]
  if (boundary === undefined) throw new Error("multipart body without a boundary")
  for (const { name, data } of multipartParts(body, boundary)) {
    const [kind, id, field] = name.split(".")
    if ((kind === "post" || kind === "patch") && id !== undefined && field === undefined) {
      record(kind, JSON.parse(data.toString("utf8")) as Record<string, unknown>, id)
    }
  }
}

const ingestBatch = (body: Buffer) => {
  const parsed = JSON.parse(body.toString("utf8")) as {
    post?: Array<Record<string, unknown>>
    patch?: Array<Record<string, unknown>>
  }
  for (const run of parsed.post ?? []) record("post", run, String(run.id))
  for (const run of parsed.patch ?? []) record("patch", run, String(run.id))
}

const info = {
  version: "0.10.0",
  license_expiration_time: null,
  batch_ingest_config: {
    use_multipart_endpoint: true,
    scale_up_qsize_trigger: 1000,
    scale_up_nthreads_limit: 16,
    scale_down_nempty_trigger: 4,
    size_limit: 100,
    size_limit_bytes: 20_971_520
  },
  instance_flags: { gzip_body_enabled: true, zstd_compression_enabled: true }
}

const send = (res: Http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  res.end(text)
}

const server = Http.createServer((req, res) => {
  const chunks: Array<Buffer> = []
  req.on("data", (chunk: Buffer) => chunks.push(chunk))
  req.on("end", () => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const path = url.pathname.replace(/\/+$/, "")
    const wire = Buffer.concat(chunks)
    if (req.method === "GET" && path === "/stub/stats") {
      return send(res, 200, { ...counters, llmRuns: llmRuns.size, llmEnded, endedRuns: endedRuns.size })
    }
    if (req.method === "POST" && path === "/stub/reset") {
      counters = fresh()
      llmRuns = new Set()
      endedRuns = new Set()
      llmEnded = 0
      return send(res, 200, { success: true })
    }
    counters.requests++
    counters.wireBytes += wire.length
    try {
      if (req.method === "GET" && path === "/info") return send(res, 200, info)
      const body = decompress(wire, req.headers["content-encoding"])
      counters.bodyBytes += body.length
      if (req.method === "POST" && path === "/runs/multipart") {
        counters.multipart++
        ingestMultipart(body, req.headers["content-type"] ?? "")
        return send(res, 202, { success: true })
      }
      if (req.method === "POST" && path === "/runs/batch") {
        counters.batch++
        ingestBatch(body)
        return send(res, 202, { success: true })
      }
      if (req.method === "POST" && path === "/runs") {
        counters.single++
        const run = JSON.parse(body.toString("utf8")) as Record<string, unknown>
        record("post", run, String(run.id))
        return send(res, 202, { success: true })
      }
      const patch = /^\/runs\/([^/]+)$/.exec(path)
      if (req.method === "PATCH" && patch !== null) {
        counters.single++
        record("patch", JSON.parse(body.toString("utf8")) as Record<string, unknown>, patch[1]!)
        return send(res, 202, { success: true })
      }
      counters.unknownRoutes++
      return send(res, 404, { detail: `not served by the stub: ${req.method} ${path}` })
    } catch (error) {
      counters.badBodies++
      return send(res, 400, { detail: error instanceof Error ? error.message : String(error) })
    }
  })
})

server.keepAliveTimeout = 60_000
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`)
})
const stop = () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)

/**
 * The emulator's guard and limits, over real loopback HTTP: JSON depth, Host and Origin checks,
 * JSON-only bodies, the key on state-changing `/emulator/*` routes, security headers, slow clients
 * and the connection cap, oversized bodies, client-chosen keys (`__proto__`, `toString`, ...), the
 * stored-bytes cap, and what the command line prints when exposed.
 */
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Zlib from "node:zlib"
import { assert, describe, it } from "@effect/vitest"
import { type PromptLayerEmulator, startEmulator } from "promptlayer-effect/emulator"
import { banner } from "../src/internal/emulator/banner.js"
import { allowedHosts, jsonDepthExceeds } from "../src/internal/emulator/guard.js"
import { chat, controlHeaders } from "./support/emulatorClient.js"

type Started = Awaited<ReturnType<typeof startEmulator>>

const withEmulator = async <A>(
  options: PromptLayerEmulator.Options,
  f: (emulator: Started) => Promise<A>
): Promise<A> => {
  const emulator = await startEmulator({ port: 0, ...options })
  try {
    return await f(emulator)
  } finally {
    await emulator.close()
  }
}

interface Reply {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly text: string
  readonly json: any
}

/** One request over `node:http`, which (unlike fetch) lets the test set `Host`. No keep-alive. */
const raw = (
  emulator: Pick<Started, "url">,
  method: string,
  path: string,
  options: { readonly headers?: Record<string, string>; readonly body?: string | Buffer } = {}
): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const url = new URL(emulator.url)
    const request = Http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent: false,
        headers: {
          ...(options.body !== undefined ? { "content-length": String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers
        }
      },
      (response) => {
        const chunks: Array<Buffer> = []
        response.on("data", (c: Buffer) => chunks.push(c))
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          let json: any
          try {
            json = JSON.parse(text)
          } catch {
            json = undefined
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json })
        })
      }
    )
    request.on("error", reject)
    request.end(options.body)
  })

const json = (emulator: Started, extra: Record<string, string> = {}) => ({
  "content-type": "application/json",
  "x-api-key": emulator.apiKey,
  ...extra
})

const logBody = (text = "hello") => ({
  provider: "openai",
  model: "gpt-4o-mini",
  input: chat("user", text),
  output: chat("assistant", "hi"),
  request_start_time: "2026-01-01T00:00:00Z",
  request_end_time: "2026-01-01T00:00:01Z"
})

const logOne = (emulator: Started, text?: string) =>
  raw(emulator, "POST", "/log-request", { headers: json(emulator), body: JSON.stringify(logBody(text)) })

const template = (name: string, text: string) => ({ prompt_name: name, prompt_template: chat("user", text) })

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`

/** The body of the issue: about 4 KB, a log request whose `parameters` nest 2 000 arrays deep. */
const deepLogBody = () => JSON.stringify(logBody()).replace(/}$/, `,"parameters":{"p":${nested(2000)}}}`)

describe("JSON depth cap", () => {
  it("counts nesting outside strings only, without recursion", () => {
    assert.isFalse(jsonDepthExceeds(nested(64), 64))
    assert.isTrue(jsonDepthExceeds(nested(65), 64))
    assert.isFalse(jsonDepthExceeds(JSON.stringify({ text: '[[[[{{{{\\"[[[[' }), 2))
    assert.isTrue(jsonDepthExceeds(`{"a":{"b":[{"c":"]]]]"}]}}`, 3))
    assert.isFalse(jsonDepthExceeds(nested(100_000).replace(/\[/g, "").replace(/\]/g, ""), 1))
  })

  it("a body nested 2 000 levels deep is 422 on every route, and the emulator keeps answering", async () => {
    await withEmulator({}, async (emulator) => {
      const deep = deepLogBody()
      assert.isBelow(deep.length, 5_000)
      for (const path of [
        "/log-request",
        "/track-request",
        "/rest/prompt-templates",
        "/v1/traces",
        "/emulator/faults"
      ]) {
        const reply = await raw(emulator, "POST", path, { headers: json(emulator), body: deep })
        assert.strictEqual(reply.status, 422, path)
        assert.strictEqual(reply.json.detail[0].type, "too_deep")
      }
      const array = await raw(emulator, "POST", "/log-request", { headers: json(emulator), body: nested(2000) })
      assert.strictEqual(array.status, 422)
      const logged = await logOne(emulator)
      assert.strictEqual(logged.status, 201)
      const again = await logOne(emulator, "second")
      assert.strictEqual(again.status, 201)
      assert.strictEqual(again.json.id, logged.json.id + 1)
      assert.lengthOf(emulator.store.requests(), 2)
      assert.strictEqual((await raw(emulator, "GET", "/emulator/requests")).status, 200)
      assert.strictEqual((await raw(emulator, "GET", "/")).status, 200)
    })
  })

  it("with a data file, a too-deep body changes nothing and later writes are acknowledged and on disk", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "emulator-depth-"))
    const dataFile = Path.join(dir, "state.json")
    try {
      const logged = await withEmulator({ dataFile }, async (emulator) => {
        const deep = await raw(emulator, "POST", "/log-request", { headers: json(emulator), body: deepLogBody() })
        assert.strictEqual(deep.status, 422)
        const reply = await logOne(emulator, "after the deep body")
        assert.strictEqual(reply.status, 201)
        return reply
      })
      // What is on disk is what a restart on the same data file loads.
      await withEmulator({ dataFile }, async (restarted) => {
        assert.deepStrictEqual(
          restarted.store.requests().map((r) => r.id),
          [logged.json.id]
        )
      })
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("maxJsonDepth is an option: depth at the limit passes, one more is 422", async () => {
    await withEmulator({ maxJsonDepth: 8 }, async (emulator) => {
      const body = (levels: number) =>
        JSON.stringify({
          ...logBody(),
          parameters: JSON.parse(`${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`)
        })
      // The body itself is one level, `parameters` the next ones.
      const ok = await raw(emulator, "POST", "/log-request", { headers: json(emulator), body: body(7) })
      assert.strictEqual(ok.status, 201, ok.text)
      const deep = await raw(emulator, "POST", "/log-request", { headers: json(emulator), body: body(8) })
      assert.strictEqual(deep.status, 422)
      assert.include(deep.json.detail[0].msg, "8")
    })
  })
})

describe("cross-site protection", () => {
  it("a Host the emulator does not serve is 403 (DNS rebinding cannot read logged prompts)", async () => {
    await withEmulator({}, async (emulator) => {
      await logOne(emulator, "a secret prompt")
      const port = new URL(emulator.url).port
      for (const host of [`attacker.example:${port}`, "attacker.example", `localhost:${Number(port) + 1}`]) {
        for (const path of ["/emulator/requests", "/", "/requests/1"]) {
          const reply = await raw(emulator, "GET", path, { headers: { host } })
          assert.strictEqual(reply.status, 403, `${host} ${path}`)
          assert.notInclude(reply.text, "a secret prompt")
        }
      }
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LOCALHOST:${port}`]) {
        const reply = await raw(emulator, "GET", "/emulator/requests", { headers: { host } })
        assert.strictEqual(reply.status, 200, host)
        assert.include(reply.text, "a secret prompt")
      }
    })
  })

  it("allowedHosts adds names (any port), name:port pairs, or * for any host", async () => {
    await withEmulator({ allowedHosts: ["emulator.test", "proxy.test:8443"] }, async (emulator) => {
      const get = (host: string) => raw(emulator, "GET", "/emulator/stats", { headers: { host } })
      assert.strictEqual((await get("emulator.test")).status, 200)
      assert.strictEqual((await get("emulator.test:1234")).status, 200)
      assert.strictEqual((await get("proxy.test:8443")).status, 200)
      assert.strictEqual((await get("proxy.test:8444")).status, 403)
      assert.strictEqual((await get("other.test")).status, 403)
    })
    await withEmulator({ allowedHosts: ["*"] }, async (emulator) => {
      const reply = await raw(emulator, "GET", "/emulator/stats", { headers: { host: "anything.example" } })
      assert.strictEqual(reply.status, 200)
    })
  })

  it("allowedHosts parses IPv6 entries, and port 80 may be omitted from Host", () => {
    const allowed = allowedHosts("127.0.0.1", 80, ["::1", "[fd00::1]:9000", "proxy.test:8443"])
    assert.isTrue(allowed("127.0.0.1"))
    assert.isTrue(allowed("127.0.0.1:80"))
    assert.isTrue(allowed("[::1]:1234"))
    assert.isTrue(allowed("[fd00::1]:9000"))
    assert.isFalse(allowed("[fd00::1]:9001"))
    assert.isFalse(allowed("proxy.test"))
    assert.isFalse(allowed("127.0.0.1:81"))
    const v6 = allowedHosts("::1", 5000)
    assert.isTrue(v6("[::1]:5000"))
    assert.isFalse(v6("[::1]:5001"))
  })

  it("a state-changing call from a foreign Origin is 403, even with the key; nothing changes", async () => {
    await withEmulator({}, async (emulator) => {
      await logOne(emulator)
      const port = new URL(emulator.url).port
      for (const origin of ["http://attacker.example", `http://attacker.example:${port}`, "null", "file://"]) {
        const reset = await raw(emulator, "POST", "/emulator/reset", { headers: json(emulator, { origin }) })
        assert.strictEqual(reset.status, 403, origin)
        const logged = await raw(emulator, "POST", "/log-request", {
          headers: json(emulator, { origin }),
          body: JSON.stringify(logBody())
        })
        assert.strictEqual(logged.status, 403, origin)
      }
      assert.lengthOf(emulator.store.requests(), 1)
      // The dashboard's own origin may change state; reads ignore Origin.
      const own = await raw(emulator, "POST", "/log-request", {
        headers: json(emulator, { origin: `http://localhost:${port}` }),
        body: JSON.stringify(logBody())
      })
      assert.strictEqual(own.status, 201)
      const read = await raw(emulator, "GET", "/emulator/stats", { headers: { origin: "http://attacker.example" } })
      assert.strictEqual(read.status, 200)
      assert.isUndefined(read.headers["access-control-allow-origin"])
    })
  })

  it("a body that is not JSON (text/plain form, no content type) is 415 and logs nothing", async () => {
    await withEmulator({}, async (emulator) => {
      const body = JSON.stringify({ ...logBody(), api_key: emulator.apiKey })
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
        const reply = await raw(emulator, "POST", "/log-request", { headers: { "content-type": type }, body })
        assert.strictEqual(reply.status, 415, type)
      }
      const untyped = await raw(emulator, "POST", "/log-request", { body })
      assert.strictEqual(untyped.status, 415)
      const template = await raw(emulator, "POST", "/rest/prompt-templates", {
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({ api_key: emulator.apiKey, prompt_template: {}, prompt_version: {} })
      })
      assert.strictEqual(template.status, 415)
      assert.lengthOf(emulator.store.requests(), 0)
      assert.lengthOf(emulator.store.templatesList(), 0)
      const typed = await raw(emulator, "POST", "/log-request", {
        headers: { "content-type": "application/json; charset=utf-8" },
        body
      })
      assert.strictEqual(typed.status, 201)
    })
  })

  it("state-changing /emulator/* routes need the key; reads do not", async () => {
    await withEmulator({ apiKey: "secret-key" }, async (emulator) => {
      await logOne(emulator)
      const rule = JSON.stringify({ route: "*", status: 500 })
      for (const headers of [{}, { "x-api-key": "pl_emulator_local_key" }, { "x-api-key": "wrong" }]) {
        const h = { "content-type": "application/json", ...headers }
        assert.strictEqual((await raw(emulator, "POST", "/emulator/reset", { headers: h })).status, 401)
        assert.strictEqual((await raw(emulator, "POST", "/emulator/faults", { headers: h, body: rule })).status, 401)
        assert.strictEqual((await raw(emulator, "DELETE", "/emulator/faults", { headers: h })).status, 401)
        const inBody = await raw(emulator, "POST", "/emulator/reset", {
          headers: h,
          body: JSON.stringify({ api_key: "wrong" })
        })
        assert.strictEqual(inBody.status, 401)
      }
      assert.lengthOf(emulator.store.requests(), 1)
      assert.lengthOf(emulator.faults.list(), 0)
      assert.strictEqual((await raw(emulator, "GET", "/emulator/requests")).status, 200)
      assert.strictEqual((await raw(emulator, "GET", "/emulator/faults")).status, 200)
      const reset = await raw(emulator, "POST", "/emulator/reset", { headers: controlHeaders(emulator) })
      assert.strictEqual(reset.status, 200)
      assert.lengthOf(emulator.store.requests(), 0)
    })
  })

  it("the dashboard and the API send a Content Security Policy and nosniff", async () => {
    await withEmulator({}, async (emulator) => {
      await logOne(emulator)
      for (const path of ["/", "/requests/1", "/requests/99", "/emulator/requests", "/no-such-route"]) {
        const reply = await raw(emulator, "GET", path)
        assert.strictEqual(reply.headers["x-content-type-options"], "nosniff", path)
        assert.include(reply.headers["content-security-policy"], "default-src 'none'", path)
        assert.include(reply.headers["content-security-policy"], "frame-ancestors 'none'", path)
      }
      const refused = await raw(emulator, "GET", "/", { headers: { host: "attacker.example" } })
      assert.strictEqual(refused.headers["x-content-type-options"], "nosniff")
    })
  })
})

/** A raw socket that sends `data` and records what comes back until the server closes it. */
const slowSocket = (port: number, data: string) =>
  new Promise<{ readonly socket: Net.Socket; readonly closed: Promise<string> }>((resolve, reject) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    let received = ""
    const closed = new Promise<string>((done) => {
      socket.on("data", (c: Buffer) => {
        received += c.toString("latin1")
      })
      socket.on("close", () => done(received))
    })
    socket.on("error", () => undefined)
    socket.once("connect", () => {
      socket.write(data)
      resolve({ socket, closed })
    })
    socket.once("error", reject)
  })

describe("slow clients and connection limits", () => {
  it("clients slow to send headers or a body get 408 and are closed; the cap refuses extra connections", async () => {
    const limits = { headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 3 }
    await withEmulator(limits, async (emulator) => {
      const port = Number(new URL(emulator.url).port)
      const host = `127.0.0.1:${port}`
      const slowHeaders = await slowSocket(port, `POST /log-request HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `)
      const slowHeaders2 = await slowSocket(port, `GET / HTTP/1.1\r\nHost: ${host}\r\n`)
      const slowBody = await slowSocket(
        port,
        `POST /log-request HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"provider":`
      )
      // All three slots are taken: one more connection is closed without an answer.
      const extra = await slowSocket(port, `GET /emulator/stats HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
      assert.strictEqual(await extra.closed, "")
      // Each slow client is answered 408 and closed by the server, not kept open.
      for (const slow of [slowHeaders, slowHeaders2, slowBody]) {
        const answer = await slow.closed
        assert.match(answer, /^HTTP\/1\.1 408 /)
      }
      assert.lengthOf(emulator.store.requests(), 0)
      const after = await logOne(emulator as Started)
      assert.strictEqual(after.status, 201)
    })
  }, 30_000)

  it("a body over maxBodyBytes is answered 413 (declared, chunked or gzipped), not reset", async () => {
    await withEmulator({ maxBodyBytes: 4096 }, async (emulator) => {
      const big = JSON.stringify({ ...logBody(), metadata: { big: "x".repeat(64 * 1024) } })
      const declared = await raw(emulator, "POST", "/log-request", { headers: json(emulator), body: big })
      assert.strictEqual(declared.status, 413)
      assert.include(declared.json.message, "maxBodyBytes")
      const viaFetch = await fetch(`${emulator.url}/log-request`, {
        method: "POST",
        headers: json(emulator),
        body: big
      })
      assert.strictEqual(viaFetch.status, 413)
      const chunked = await new Promise<number>((resolve, reject) => {
        const url = new URL(emulator.url)
        const request = Http.request(
          {
            host: url.hostname,
            port: url.port,
            method: "POST",
            path: "/log-request",
            agent: false,
            headers: json(emulator)
          },
          (response) => {
            response.resume()
            response.on("end", () => resolve(response.statusCode ?? 0))
          }
        )
        request.on("error", reject)
        for (let i = 0; i < 16; i++) request.write(big.slice(i * 4096, (i + 1) * 4096))
        request.end()
      })
      assert.strictEqual(chunked, 413)
      const bomb = Zlib.gzipSync(Buffer.from(big))
      assert.isBelow(bomb.length, 4096)
      const gzipped = await raw(emulator, "POST", "/log-request", {
        headers: json(emulator, { "content-encoding": "gzip" }),
        body: bomb
      })
      assert.strictEqual(gzipped.status, 413)
      assert.lengthOf(emulator.store.requests(), 0)
      assert.strictEqual((await logOne(emulator)).status, 201)
    })
  })
})

describe("client-chosen keys: __proto__, constructor, toString, hasOwnProperty", () => {
  const keys = ["__proto__", "toString", "hasOwnProperty", "constructor"]

  it("release labels are kept and resolved, never 500 or dropped", async () => {
    await withEmulator({}, async (emulator) => {
      const publish = (labels: ReadonlyArray<string>) =>
        raw(emulator, "POST", "/rest/prompt-templates", {
          headers: json(emulator),
          body: JSON.stringify({
            prompt_template: template("labels", "Hi"),
            prompt_version: template("labels", "Hi"),
            release_labels: labels
          })
        })
      assert.strictEqual((await publish(keys)).status, 201)
      assert.strictEqual((await publish(["prod"])).status, 201)
      for (const label of keys) {
        const got = await raw(emulator, "GET", `/prompt-templates/labels?label=${encodeURIComponent(label)}`, {
          headers: json(emulator)
        })
        assert.strictEqual(got.status, 200, label)
        assert.strictEqual(got.json.version, 1, label)
        const posted = await raw(emulator, "POST", "/prompt-templates/labels", {
          headers: json(emulator),
          body: JSON.stringify({ label })
        })
        assert.strictEqual(posted.json.version, 1, label)
      }
      const unknown = await raw(emulator, "GET", "/prompt-templates/labels?label=valueOf", { headers: json(emulator) })
      assert.strictEqual(unknown.status, 404)
      const listed = await raw(emulator, "GET", "/prompt-templates?label=__proto__", { headers: json(emulator) })
      assert.strictEqual(listed.status, 200)
      assert.sameMembers(listed.json.items[0].release_labels, keys)
      assert.sameMembers(Object.keys(emulator.store.templatesList()[0]!.labels), [...keys, "prod"])
    })
  })

  it("metadata keys are stored, merged and shown, never dropped", async () => {
    await withEmulator({}, async (emulator) => {
      const metadata = `{${keys.map((k) => `"${k}":"${k}-value"`).join(",")}}`
      const body = JSON.stringify(logBody()).replace(/}$/, `,"metadata":${metadata}}`)
      const logged = await raw(emulator, "POST", "/log-request", { headers: json(emulator), body })
      assert.strictEqual(logged.status, 201, logged.text)
      const id = logged.json.id
      const tracked = await raw(emulator, "POST", "/library-track-metadata", {
        headers: json(emulator),
        body: `{"request_id":${id},"metadata":{"__proto__":"merged","valueOf":"new"}}`
      })
      assert.strictEqual(tracked.status, 200, tracked.text)
      const stored = await raw(emulator, "GET", `/emulator/requests/${id}`)
      const own = stored.json.metadata as Record<string, unknown>
      assert.deepStrictEqual(Object.keys(own).sort(), [...keys, "valueOf"].sort())
      assert.strictEqual(Object.getOwnPropertyDescriptor(own, "__proto__")?.value, "merged")
      assert.strictEqual(own.toString as unknown, "toString-value")
      const page = await raw(emulator, "GET", `/requests/${id}`)
      assert.include(page.text, "constructor=constructor-value")
      assert.include(page.text, "__proto__=merged")
    })
  })

  it("an input variable named {constructor} or {toString} is missing (422) unless given, then rendered", async () => {
    await withEmulator({}, async (emulator) => {
      const t = template("vars", "A {constructor} B {toString}")
      await raw(emulator, "POST", "/rest/prompt-templates", {
        headers: json(emulator),
        body: JSON.stringify({ prompt_template: t, prompt_version: t })
      })
      const missing = await raw(emulator, "POST", "/prompt-templates/vars", {
        headers: json(emulator),
        body: JSON.stringify({ input_variables: { other: "x" } })
      })
      assert.strictEqual(missing.status, 422)
      assert.include(missing.json.message, "constructor, toString")
      const given = await raw(emulator, "POST", "/prompt-templates/vars", {
        headers: json(emulator),
        body: JSON.stringify({ input_variables: { constructor: "c", toString: "t" } })
      })
      assert.strictEqual(given.status, 200, given.text)
      assert.strictEqual(given.json.prompt_template.messages[0].content[0].text, "A c B t")
    })
  })
})

describe("stored-bytes cap", () => {
  it("past maxStoredBytes a write is 507 with a clear message; reads work; reset frees the space", async () => {
    await withEmulator({ maxStoredBytes: 20_000 }, async (emulator) => {
      const statuses: Array<number> = []
      let refused: Reply | undefined
      for (let i = 0; i < 40 && refused === undefined; i++) {
        const reply = await logOne(emulator, "x".repeat(2_000))
        statuses.push(reply.status)
        if (reply.status !== 201) refused = reply
      }
      assert.isDefined(refused)
      assert.strictEqual(refused!.status, 507)
      assert.include(refused!.json.message, "maxStoredBytes")
      assert.isAbove(statuses.length, 5)
      assert.lengthOf(emulator.store.requests(), statuses.length - 1)
      assert.isAtMost(emulator.store.bytesStored, 20_000)
      const published = await raw(emulator, "POST", "/rest/prompt-templates", {
        headers: json(emulator),
        body: JSON.stringify({
          prompt_template: template("big", "y".repeat(10_000)),
          prompt_version: template("big", "y".repeat(10_000))
        })
      })
      assert.strictEqual(published.status, 507)
      assert.strictEqual((await raw(emulator, "GET", "/emulator/requests")).status, 200)
      const reset = await raw(emulator, "POST", "/emulator/reset", { headers: controlHeaders(emulator) })
      assert.strictEqual(reset.status, 200)
      assert.strictEqual((await logOne(emulator)).status, 201)
    })
  })
  it("after a restart on a data file, what was loaded counts against maxStoredBytes", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "emulator-cap-"))
    const dataFile = Path.join(dir, "state.json")
    try {
      await withEmulator({ dataFile, maxStoredBytes: 1_000_000 }, async (emulator) => {
        for (let i = 0; i < 5; i++) assert.strictEqual((await logOne(emulator, "w".repeat(2_000))).status, 201)
      })
      await withEmulator({ dataFile, maxStoredBytes: 1_000_000 }, async (restarted) => {
        assert.lengthOf(restarted.store.requests(), 5)
        assert.isAtLeast(restarted.store.bytesStored, 5 * 2_000)
      })
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("a /spans-bulk batch counts against maxStoredBytes as a whole: refused whole (507), never half stored", async () => {
    await withEmulator({ maxStoredBytes: 20_000 }, async (emulator) => {
      const ns = "1700000000000000000"
      const span = (i: number) => ({
        name: `s${i}`,
        context: { trace_id: "a".repeat(32), span_id: i.toString(16).padStart(16, "0"), trace_state: "" },
        kind: "SpanKind.CLIENT",
        parent_id: null,
        start_time: ns,
        end_time: ns,
        status: { status_code: "StatusCode.OK" },
        attributes: { big: "z".repeat(1_000) },
        resource: { attributes: {}, schema_url: "" },
        log_request: logBody("q".repeat(1_000))
      })
      const send = (count: number) =>
        raw(emulator, "POST", "/spans-bulk", {
          headers: json(emulator),
          body: JSON.stringify({ spans: Array.from({ length: count }, (_, i) => span(i + 1)) })
        })
      assert.strictEqual((await send(2)).status, 201)
      const before = { requests: emulator.store.requests().length, bytes: emulator.store.bytesStored }
      const refused = await send(12)
      assert.strictEqual(refused.status, 507)
      assert.include(refused.json.message, "maxStoredBytes")
      assert.lengthOf(emulator.store.requests(), before.requests)
      assert.strictEqual(emulator.store.bytesStored, before.bytes)
      assert.isAtMost(emulator.store.bytesStored, 20_000)
    })
  })
})

describe("limit options", () => {
  it("a limit that is not a positive number is an EmulatorError(Options)", async () => {
    for (const options of [{ maxJsonDepth: 0 }, { maxStoredBytes: -1 }, { requestTimeoutMs: Number.NaN }]) {
      const error = await startEmulator({ port: 0, ...options }).then(
        () => assert.fail("started"),
        (e: unknown) => e as PromptLayerEmulator.EmulatorError
      )
      assert.strictEqual(error.reason, "Options")
      assert.include(error.message, Object.keys(options)[0]!)
    }
  })
})

describe("command line banner", () => {
  const interfaces = {
    lo: [{ address: "127.0.0.1", family: "IPv4", internal: true }],
    eth0: [
      { address: "192.0.2.10", family: "IPv4", internal: false },
      { address: "2001:db8::10", family: "IPv6", internal: false }
    ]
  } as any

  it("bound to 0.0.0.0: prints the reachable addresses and warns, stronger with the default key", () => {
    const printed = banner({
      url: "http://127.0.0.1:8787",
      apiKey: "pl_emulator_local_key",
      host: "0.0.0.0",
      port: 8787,
      defaultKey: true,
      interfaces
    })
    assert.include(printed.out, "PromptLayer emulator listening on http://127.0.0.1:8787")
    assert.include(printed.out, "Bound to 0.0.0.0; reachable from other machines at: http://192.0.2.10:8787")
    assert.notInclude(printed.out, "2001:db8")
    assert.include(printed.warning, "WARNING")
    assert.include(printed.warning, "--api-key")
    const withKey = banner({ url: "http://[::1]:1", apiKey: "k", host: "::", port: 1, defaultKey: false, interfaces })
    assert.include(withKey.out, "http://[2001:db8::10]:1")
    assert.include(withKey.warning, "WARNING")
    assert.notInclude(withKey.warning, "--api-key")
  })

  it("bound to loopback: no warning", () => {
    for (const host of ["127.0.0.1", "localhost", "::1"]) {
      const printed = banner({ url: "http://127.0.0.1:1", apiKey: "k", host, port: 1, defaultKey: true })
      assert.strictEqual(printed.warning, "")
      assert.notInclude(printed.out, "Bound to")
    }
  })
})

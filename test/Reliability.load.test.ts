/**
 * The emulator under concurrent load: 10 000 mixed API calls at concurrency 64 over real HTTP on
 * loopback. Every call is answered, and the read API shows exactly what was acknowledged — no more
 * (refused calls leave no trace) and no less (every acknowledged write is visible).
 */
import * as Http from "node:http"
import { assert, describe, it } from "@effect/vitest"
import { startEmulator } from "promptlayer-effect/emulator"
import type { StartedEmulator } from "../src/PromptLayerEmulator.js"

const CALLS = 10_000
const CONCURRENCY = 64

type Kind = "log" | "bad-log" | "score" | "metadata" | "group" | "track-group" | "template-get" | "stats"

/** Deterministic mix: the kind of call number `i`. */
const kindOf = (i: number): Kind => {
  const r = (i * 2654435761) % 100
  if (r < 45) return "log"
  if (r < 50) return "bad-log"
  if (r < 65) return "score"
  if (r < 80) return "metadata"
  if (r < 85) return "group"
  if (r < 92) return "track-group"
  if (r < 97) return "template-get"
  return "stats"
}

const agents: Array<Http.Agent> = []

const message = (role: string, text: string) => ({ role, content: [{ type: "text", text }] })

describe("Reliability: emulator under load", () => {
  it(`answers all ${CALLS} mixed calls at concurrency ${CONCURRENCY}; the read API shows exactly what was acknowledged`, async () => {
    const emulator: StartedEmulator = await startEmulator({
      port: 0,
      templates: [
        {
          prompt_name: "load",
          prompt_template: { type: "chat", input_variables: [], messages: [message("user", "hi")] }
        } as never
      ]
    })
    try {
      // node:http with a keep-alive pool of CONCURRENCY sockets: a cheaper client than fetch, so the
      // test's time goes to the emulator.
      const agent = new Http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
      agents.push(agent)
      const request = (method: "GET" | "POST", path: string, body?: unknown) =>
        new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
          const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
          const req = Http.request(
            `${emulator.url}${path}`,
            {
              method,
              agent,
              headers: {
                "x-api-key": emulator.apiKey,
                ...(payload === undefined
                  ? {}
                  : { "content-type": "application/json", "content-length": String(payload.length) })
              }
            },
            (res) => {
              const chunks: Array<Buffer> = []
              res.on("data", (c: Buffer) => chunks.push(c))
              res.on("end", () => {
                try {
                  resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) })
                } catch (error) {
                  reject(error)
                }
              })
              res.on("error", reject)
            }
          )
          req.on("error", reject)
          req.end(payload)
        })
      const post = (path: string, body: unknown) => request("POST", path, body)

      // What the emulator acknowledged, per request id.
      const logged = new Map<number, { seq: number }>()
      const scores = new Map<number, Map<string, number>>()
      const metadata = new Map<number, Record<string, string>>()
      const groupsCreated: Array<number> = []
      const groupLinks = new Map<number, Set<number>>()
      const statuses: Record<string, number> = {}
      let answered = 0
      let refusedWrites = 0

      const loggedIds: Array<number> = []
      const someRequest = (i: number): number | undefined =>
        loggedIds.length === 0 ? undefined : loggedIds[i % loggedIds.length]

      const one = async (i: number) => {
        const kind = kindOf(i)
        let result: { status: number; body: Record<string, unknown> }
        switch (kind) {
          case "log": {
            const t = Date.UTC(2026, 0, 1, 0, 0, 0, i)
            result = await post("/log-request", {
              provider: "openai",
              model: "gpt-4o-mini",
              input: { type: "chat", messages: [message("user", `call ${i}`)] },
              output: { type: "chat", messages: [message("assistant", `answer ${i}`)] },
              request_start_time: new Date(t).toISOString(),
              request_end_time: new Date(t + 5).toISOString(),
              tags: ["load"],
              metadata: { seq: String(i) }
            })
            if (result.status === 201) {
              logged.set(result.body.id as number, { seq: i })
              loggedIds.push(result.body.id as number)
            } else refusedWrites++
            break
          }
          case "bad-log": {
            result = await post("/log-request", { provider: "openai", model: "gpt-4o-mini", metadata: { seq: i } })
            if (result.status === 201) logged.set(result.body.id as number, { seq: i })
            else refusedWrites++
            break
          }
          case "score": {
            const id = someRequest(i) ?? 999_999
            // Unique keys: acknowledgements on different connections may arrive out of order.
            const name = `s${i}`
            result = await post("/library-track-score", { request_id: id, score: i % 101, name })
            if (result.status === 200) {
              const m = scores.get(id) ?? new Map<string, number>()
              m.set(name, i % 101)
              scores.set(id, m)
            } else refusedWrites++
            break
          }
          case "metadata": {
            const id = someRequest(i) ?? 999_999
            result = await post("/library-track-metadata", { request_id: id, metadata: { [`k${i}`]: `v${i}` } })
            if (result.status === 200) metadata.set(id, { ...metadata.get(id), [`k${i}`]: `v${i}` })
            else refusedWrites++
            break
          }
          case "group": {
            result = await post("/create-group", {})
            if (result.status === 200) groupsCreated.push(result.body.id as number)
            else refusedWrites++
            break
          }
          case "track-group": {
            const id = someRequest(i) ?? 999_999
            const group = groupsCreated.length > 0 ? groupsCreated[i % groupsCreated.length]! : 999_999
            result = await post("/track-group", { request_id: id, group_id: group })
            if (result.status === 200) groupLinks.set(id, (groupLinks.get(id) ?? new Set()).add(group))
            else refusedWrites++
            break
          }
          case "template-get":
            result = await post("/prompt-templates/load", {})
            break
          case "stats":
            result = await request("GET", "/emulator/stats")
            break
        }
        statuses[`${kind} ${result.status}`] = (statuses[`${kind} ${result.status}`] ?? 0) + 1
        answered++
      }

      let next = 0
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < CALLS) await one(next++)
        })
      )

      assert.strictEqual(answered, CALLS, "every call was answered")
      // Only the expected statuses: writes succeed or are refused with 404/422, never a 5xx.
      for (const key of Object.keys(statuses)) {
        assert.match(
          key,
          /^(log 201|bad-log 422|score (200|404)|metadata (200|404)|group 200|track-group (200|404)|template-get 200|stats 200)$/
        )
      }
      assert.isAbove(logged.size, CALLS * 0.4)
      assert.isAbove(refusedWrites, 0)

      // The read API holds exactly the acknowledged requests, with their acknowledged changes.
      const listed = (await (await fetch(`${emulator.url}/emulator/requests`)).json()) as {
        items: Array<{
          id: number
          metadata: Record<string, string>
          scores: Record<string, number>
          group_ids: Array<number>
          tags: Array<string>
        }>
      }
      assert.deepStrictEqual(
        listed.items.map((r) => r.id).sort((a, b) => a - b),
        [...logged.keys()].sort((a, b) => a - b)
      )
      for (const row of listed.items) {
        const expected = logged.get(row.id)!
        assert.deepStrictEqual(row.metadata, { seq: String(expected.seq), ...metadata.get(row.id) })
        assert.deepStrictEqual(row.scores, Object.fromEntries(scores.get(row.id) ?? new Map()))
        assert.deepStrictEqual(
          [...row.group_ids].sort((a, b) => a - b),
          [...(groupLinks.get(row.id) ?? new Set())].sort((a, b) => a - b)
        )
        assert.deepStrictEqual(row.tags, ["load"])
      }
      const stats = emulator.stats()
      assert.strictEqual(stats.requests, logged.size)
      assert.strictEqual(stats.groups, groupsCreated.length)
      assert.strictEqual(
        Object.values(stats.statuses).reduce((a, b) => a + b, 0),
        CALLS - (statuses["stats 200"] ?? 0),
        "the emulator counted one answer per API call"
      )
    } finally {
      for (const agent of agents) agent.destroy()
      await emulator.close()
    }
  })
})

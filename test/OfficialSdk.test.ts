/**
 * The official `promptlayer` npm SDK (a client we did not write), pointed at the emulator with
 * `baseURL`: every operation succeeds and the read API shows what it did.
 */
import { assert, describe, it } from "@effect/vitest"
import { PromptLayer } from "promptlayer"
import { startEmulator } from "promptlayer-effect/emulator"

const text = (role: string, value: string) => ({ role, content: [{ type: "text", text: value }] })

describe("official promptlayer SDK against the emulator", () => {
  it("track.*, group.create, templates.publish/get/all and logRequest succeed; the read API shows the results", async () => {
    const emulator = await startEmulator({ port: 0 })
    try {
      const pl = new PromptLayer({ apiKey: emulator.apiKey, baseURL: emulator.url, throwOnError: true })

      const published = await pl.templates.publish({
        prompt_name: "sdk-template",
        prompt_template: {
          type: "chat",
          input_variables: ["city"],
          messages: [text("system", "You are terse."), text("user", "Weather in {city}?")]
        } as never,
        tags: ["sdk"],
        commit_message: "first",
        release_labels: ["prod"]
      })
      assert.strictEqual((published as { prompt_name?: string }).prompt_name, "sdk-template")

      const got = await pl.templates.get("sdk-template", { label: "prod", input_variables: { city: "Oslo" } })
      const messages = (got!.prompt_template as { messages: Array<{ content: Array<{ text: string }> }> }).messages
      assert.strictEqual(messages[1]!.content[0]!.text, "Weather in Oslo?")
      assert.strictEqual(got?.version, 1)

      const all = await pl.templates.all({ page: 1, per_page: 10 })
      assert.deepStrictEqual(
        all.map((t) => t.prompt_name),
        ["sdk-template"]
      )

      const start = Date.now()
      const log = await pl.logRequest({
        provider: "openai",
        model: "gpt-4o-mini",
        input: { type: "chat", messages: [text("user", "Weather in Oslo?")] } as never,
        output: { type: "chat", messages: [text("assistant", "Cold.")] } as never,
        request_start_time: start,
        request_end_time: start + 800,
        tags: ["sdk"],
        input_tokens: 9,
        output_tokens: 2
      })
      assert.isNotNull(log)
      const id = log!.id
      assert.isNumber(id)

      assert.isTrue(await pl.track.score({ request_id: id, score: 95 }))
      assert.isTrue(await pl.track.score({ request_id: id, score: 40, name: "tone" } as never))
      assert.isTrue(await pl.track.metadata({ request_id: id, metadata: { user: "u-1", plan: "free" } }))
      assert.isTrue(await pl.track.metadata({ request_id: id, metadata: { plan: "pro" } }))
      assert.isTrue(
        await pl.track.prompt({
          request_id: id,
          prompt_name: "sdk-template",
          prompt_input_variables: { city: "Oslo" },
          label: "prod"
        })
      )
      const group = await pl.group.create()
      assert.isNumber(group)
      assert.isTrue(await pl.track.group({ request_id: id, group_id: group as number }))

      // The emulator's read API shows it all.
      const listed = (await (await fetch(`${emulator.url}/emulator/requests`)).json()) as {
        items: Array<{ id: number }>
      }
      assert.deepStrictEqual(
        listed.items.map((r) => r.id),
        [id]
      )
      const stored = (await (await fetch(`${emulator.url}/emulator/requests/${id}`)).json()) as Record<string, any>
      assert.deepStrictEqual(stored.scores, { default: 95, tone: 40 })
      assert.deepStrictEqual(stored.metadata, { user: "u-1", plan: "pro" })
      assert.deepStrictEqual(stored.tags, ["sdk"])
      assert.deepStrictEqual(stored.group_ids, [group])
      assert.strictEqual(stored.prompt.name, "sdk-template")
      assert.strictEqual(stored.prompt.version, 1)
      assert.strictEqual(stored.tokens, 11)
      assert.strictEqual(stored.latency_ms, 800)
      assert.strictEqual(stored.output.messages[0].content[0].text, "Cold.")
      const stats = (await (await fetch(`${emulator.url}/emulator/stats`)).json()) as Record<string, any>
      assert.strictEqual(stats.templates, 1)
      assert.strictEqual(stats.groups, 1)
      // Each SDK call reached its route once, with no retries.
      for (const route of [
        "POST /rest/prompt-templates",
        "POST /prompt-templates/sdk-template",
        "GET /prompt-templates",
        "POST /log-request",
        "POST /library-track-prompt",
        "POST /create-group",
        "POST /track-group"
      ]) {
        assert.strictEqual(stats.calls[route], 1, route)
      }
      assert.strictEqual(stats.calls["POST /library-track-score"], 2)
      assert.strictEqual(stats.calls["POST /library-track-metadata"], 2)
    } finally {
      await emulator.close()
    }
  })
})

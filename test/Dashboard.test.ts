/**
 * The dashboard in a real browser: headless Debian Chromium driven by playwright-core loads `/`,
 * finds a request this test logged, opens its detail, and saves screenshots in test-output/.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { chromium } from "playwright-core"
import { startEmulator } from "promptlayer-effect/emulator"

const CHROMIUM = "/usr/bin/chromium"
const hasChromium = Fs.existsSync(CHROMIUM)
if (!hasChromium) console.warn(`Dashboard test skipped: ${CHROMIUM} is missing (install Debian's chromium package)`)

const outputDir = fileURLToPath(new URL("../test-output/", import.meta.url))

const text = (role: string, value: string) => ({ role, content: [{ type: "text", text: value }] })

describe("dashboard", () => {
  it.skipIf(!hasChromium)("lists the logged request, opens its detail, shows the registry", async () => {
    const emulator = await startEmulator({
      port: 0,
      templates: [
        { prompt_name: "dash-template", prompt_template: { type: "chat", messages: [text("user", "v1 {x}")] } }
      ]
    })
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync"
      ]
    })
    try {
      const h = { "content-type": "application/json", "x-api-key": emulator.apiKey }
      const post = async (path: string, body: unknown) =>
        (
          await fetch(`${emulator.url}${path}`, { method: "POST", headers: h, body: JSON.stringify(body) })
        ).json() as any
      await post("/rest/prompt-templates", {
        prompt_template: {
          prompt_name: "dash-template",
          prompt_template: { type: "chat", messages: [text("user", "v2")] }
        },
        prompt_version: {
          prompt_name: "dash-template",
          prompt_template: { type: "chat", messages: [text("user", "v2")] }
        },
        release_labels: ["prod"]
      })
      const other = await post("/track-request", {
        function_name: "anthropic.messages.create",
        provider_type: "anthropic",
        kwargs: { model: "claude-3-haiku", messages: [{ role: "user", content: "older" }] },
        request_response: { type: "message", content: [{ type: "text", text: "older answer" }] },
        request_start_time: 1767225600,
        request_end_time: 1767225601
      })
      const logged = await post("/log-request", {
        provider: "openai",
        model: "gpt-4o-mini",
        input: {
          type: "chat",
          messages: [text("system", "Be brief."), text("user", "Is <script>alert(1)</script> safe?")]
        },
        output: { type: "chat", messages: [text("assistant", "It is escaped & shown as text.")] },
        request_start_time: "2026-01-01T00:00:00.000Z",
        request_end_time: "2026-01-01T00:00:00.420Z",
        tags: ["dashboard-test", "<b>bold</b>"],
        input_tokens: 12,
        output_tokens: 8
      })
      const id = logged.id as number
      await post("/library-track-score", { request_id: id, score: 87, name: "quality" })

      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
      const dialogs: Array<string> = []
      page.on("dialog", (dialog) => {
        dialogs.push(dialog.message())
        void dialog.dismiss()
      })
      await page.goto(`${emulator.url}/`)
      const rows = page.locator("#requests tbody tr")
      assert.deepStrictEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-request-id"))), [
        String(id),
        String(other.request_id)
      ])
      const row = page.locator(`tr[data-request-id="${id}"]`)
      const cells = await row.locator("td").allInnerTexts()
      assert.strictEqual(cells[2], "openai/gpt-4o-mini")
      assert.include(cells[3], "dashboard-test")
      assert.include(cells[3], "<b>bold</b>") // shown as text, not markup
      assert.strictEqual(cells[4], "SUCCESS")
      assert.strictEqual(cells[5], "20")
      assert.strictEqual(cells[6], "420 ms")
      assert.strictEqual(cells[7], "quality: 87")
      const registry = (await page.locator('#templates tr[data-template-id="1"]').textContent()) ?? ""
      assert.include(registry, "dash-template")
      assert.include(registry, "v2")
      assert.include(registry, "prod")
      assert.include(registry, "v1")
      Fs.mkdirSync(outputDir, { recursive: true })
      await page.screenshot({ path: Path.join(outputDir, "dashboard-index.png"), fullPage: true })

      await row.locator("a").click()
      await page.waitForURL(`**/requests/${id}`)
      assert.strictEqual((await page.locator("#request-title").textContent()) ?? "", `Request #${id}`)
      const input = (await page.locator("#input").textContent()) ?? ""
      assert.include(input, "Be brief.")
      assert.include(input, "Is <script>alert(1)</script> safe?")
      assert.include((await page.locator("#output").textContent()) ?? "", "It is escaped & shown as text.")
      assert.strictEqual(await page.locator("#input script").count(), 0)
      await page.screenshot({ path: Path.join(outputDir, "dashboard-request.png"), fullPage: true })
      assert.deepStrictEqual(dialogs, [])
      assert.isTrue(Fs.statSync(Path.join(outputDir, "dashboard-request.png")).size > 0)
    } finally {
      await browser.close()
      await emulator.close()
    }
  })
})

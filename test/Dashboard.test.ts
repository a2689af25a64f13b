/**
 * The dashboard in a real browser: headless Debian Chromium driven by playwright-core loads `/`,
 * finds a request this test logged, opens its detail; loads the traces page and a trace's
 * waterfall, follows a span to its request log and back; saves screenshots in test-output/.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { chromium } from "playwright-core"
import { startEmulator } from "promptlayer-effect/emulator"
import { PromptLayerCallbackHandler } from "promptlayer-effect/langchain"
import { weatherAgent } from "./support/weatherAgent.js"

const CHROMIUM = "/usr/bin/chromium"
const hasChromium = Fs.existsSync(CHROMIUM)
if (!hasChromium) console.warn(`Dashboard test skipped: ${CHROMIUM} is missing (install Debian's chromium package)`)

const outputDir = fileURLToPath(new URL("../test-output/", import.meta.url))

const text = (role: string, value: string) => ({ role, content: [{ type: "text", text: value }] })

const launch = () =>
  chromium.launch({
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

describe("dashboard", () => {
  it.skipIf(!hasChromium)("lists the logged request, opens its detail, shows the registry", async () => {
    const emulator = await startEmulator({
      port: 0,
      templates: [
        { prompt_name: "dash-template", prompt_template: { type: "chat", messages: [text("user", "v1 {x}")] } }
      ]
    })
    const browser = await launch()
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

describe("dashboard traces", () => {
  const TRACE = "0af7651916cd43dd8448eb211c80319c"
  /** 2026-01-01T00:00:00Z + `ms`, in nanoseconds (a decimal string). */
  const at = (ms: number) => (1_767_225_600_000_000_000n + BigInt(ms) * 1_000_000n).toString()
  const span = (
    id: string,
    name: string,
    parent: string | null,
    start: number,
    end: number,
    extra: Record<string, unknown> = {}
  ) => ({
    name,
    context: { trace_id: TRACE, span_id: id, trace_state: "" },
    kind: "SpanKind.INTERNAL",
    parent_id: parent,
    start_time: at(start),
    end_time: at(end),
    status: { status_code: "StatusCode.OK" },
    attributes: { "lc.run_type": "chain" },
    resource: { attributes: { "service.name": "dashboard-test" }, schema_url: "" },
    ...extra
  })
  const llm = (question: string, answer: string, tokens: [number, number]) => ({
    provider: "openai",
    model: "gpt-4o-mini",
    input: { type: "chat", messages: [text("user", question)] },
    output: { type: "chat", messages: [text("assistant", answer)] },
    input_tokens: tokens[0],
    output_tokens: tokens[1]
  })

  it.skipIf(!hasChromium)(
    "lists traces, shows one as a waterfall, links spans and request logs both ways",
    async () => {
      const emulator = await startEmulator({ port: 0 })
      const browser = await launch()
      try {
        const h = { "content-type": "application/json", "x-api-key": emulator.apiKey }
        const post = async (body: unknown) => {
          const response = await fetch(`${emulator.url}/spans-bulk`, {
            method: "POST",
            headers: h,
            body: JSON.stringify(body)
          })
          assert.strictEqual(response.status, 201)
          return (await response.json()) as any
        }
        // Children first, as LangChain ends them; the root arrives in a later batch.
        const first = await post({
          spans: [
            span("00000000000000b1", "ChatOpenAI", "00000000000000a1", 100, 400, {
              kind: "SpanKind.CLIENT",
              log_request: llm("Weather in Paris?", "Calling get_weather.", [30, 10])
            }),
            span("00000000000000b2", "get_weather <img src=x onerror=alert(1)>", "00000000000000a1", 450, 700, {
              status: { status_code: "StatusCode.ERROR", description: "city not found" },
              attributes: {
                "lc.run_type": "tool",
                "lc.inputs": { city: "Paris" },
                "lc.outputs": "error: city not found"
              },
              events: [{ name: "retry", attributes: { attempt: 1 } }]
            }),
            span("00000000000000b3", "ChatOpenAI", "00000000000000a1", 750, 950, {
              kind: "SpanKind.CLIENT",
              log_request: llm("Answer without the tool", "It is probably mild.", [40, 8])
            })
          ]
        })
        await post({ spans: [span("00000000000000a1", "AgentExecutor", null, 0, 1000)] })
        const firstLog = first.request_logs.find((l: any) => l.span_id === "00000000000000b1").id as number

        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
        const dialogs: Array<string> = []
        page.on("dialog", (dialog) => {
          dialogs.push(dialog.message())
          void dialog.dismiss()
        })
        await page.goto(`${emulator.url}/`)
        await page.locator("header a", { hasText: "Traces" }).click()
        await page.waitForURL("**/traces")
        const row = page.locator(`#traces tr[data-trace-id="${TRACE}"]`)
        const cells = await row.locator("td").allInnerTexts()
        assert.include(cells[0], "AgentExecutor")
        assert.strictEqual(cells[1], "2026-01-01T00:00:00.000Z")
        assert.strictEqual(cells[2], "1000 ms")
        assert.strictEqual(cells[3], "OK (1 error)")
        assert.strictEqual(cells[4], "4")
        assert.strictEqual(cells[5], "88")
        Fs.mkdirSync(outputDir, { recursive: true })
        await page.screenshot({ path: Path.join(outputDir, "dashboard-traces.png"), fullPage: true })

        await row.locator("a").click()
        await page.waitForURL(`**/traces/${TRACE}`)
        assert.strictEqual((await page.locator("#trace-title").textContent()) ?? "", "AgentExecutor")
        const spans = page.locator("#waterfall details.span")
        assert.deepStrictEqual(
          await spans.evaluateAll((ds) =>
            ds.map((d) => [d.getAttribute("data-span-id"), d.getAttribute("data-depth")])
          ),
          [
            ["00000000000000a1", "0"],
            ["00000000000000b1", "1"],
            ["00000000000000b2", "1"],
            ["00000000000000b3", "1"]
          ]
        )
        const tool = page.locator('details[data-span-id="00000000000000b2"]')
        const bar = (await tool.locator(".wf-bar").getAttribute("style")) ?? ""
        assert.include(bar, "left:45.000%")
        assert.include(bar, "width:25.000%")
        assert.include((await tool.locator("summary").textContent()) ?? "", "get_weather <img src=x onerror=alert(1)>")
        assert.strictEqual((await tool.locator("summary .wf-dur").textContent()) ?? "", "250 ms")
        assert.strictEqual((await tool.locator("summary .wf-status").textContent()) ?? "", "ERROR")
        await tool.locator("summary").click()
        const detail = (await tool.locator(".span-detail").textContent()) ?? ""
        assert.include(detail, "city not found")
        assert.include(detail, '"city": "Paris"')
        assert.include(detail, "error: city not found")
        assert.include(detail, "retry")
        assert.include(detail, "service.name")
        assert.strictEqual(await tool.locator(".span-io").count(), 2)
        const model = page.locator('details[data-span-id="00000000000000b1"]')
        await model.locator("summary").click()
        assert.include((await model.locator(".span-input").textContent()) ?? "", "Weather in Paris?")
        assert.include((await model.locator(".span-output").textContent()) ?? "", "Calling get_weather.")
        await page.screenshot({ path: Path.join(outputDir, "dashboard-trace.png"), fullPage: true })

        await model.locator("a.request-log-link").click()
        await page.waitForURL(`**/requests/${firstLog}`)
        assert.include((await page.locator("#trace-link").textContent()) ?? "", TRACE)
        await page.locator("#trace-link a").click()
        await page.waitForURL(`**/traces/${TRACE}#span-00000000000000b1`)
        assert.strictEqual(await page.locator(":target").getAttribute("data-span-id"), "00000000000000b1")
        assert.deepStrictEqual(dialogs, [])
        assert.strictEqual(await page.locator("#waterfall img").count(), 0)

        const missing = await fetch(`${emulator.url}/traces/unknown`)
        assert.strictEqual(missing.status, 404)
        assert.isTrue(Fs.statSync(Path.join(outputDir, "dashboard-trace.png")).size > 0)
      } finally {
        await browser.close()
        await emulator.close()
      }
    }
  )
})

describe("dashboard traces, from the handler", () => {
  it.skipIf(!hasChromium)(
    "a LangGraph agent traced by PromptLayerCallbackHandler: the waterfall shows its tree, the model spans link their logs (the README's screenshot)",
    async () => {
      const emulator = await startEmulator({ port: 0 })
      const browser = await launch()
      const handler = new PromptLayerCallbackHandler({
        apiKey: emulator.apiKey,
        baseURL: emulator.url,
        plTags: ["readme"],
        serviceName: "weather-agent"
      })
      try {
        const { graph, input } = weatherAgent("Lyon", "It is sunny in Lyon, 24 °C.")
        const runId = crypto.randomUUID()
        await graph.invoke(input, { callbacks: [handler], runId, configurable: { thread_id: "thread-42" } })
        await handler.flush()
        const traceId = await handler.traceIdFor(runId)
        assert.strictEqual(traceId, runId.replaceAll("-", ""))

        const page = await browser.newPage({ viewport: { width: 1100, height: 620 } })
        await page.goto(`${emulator.url}/traces`)
        const row = page.locator(`#traces tr[data-trace-id="${traceId}"]`)
        assert.include((await row.locator("td").allInnerTexts())[0], "LangGraph")
        await row.locator("a").click()
        await page.waitForURL(`**/traces/${traceId}`)
        const spans = await page
          .locator("#waterfall details.span")
          .evaluateAll((ds) =>
            ds.map(
              (d) => `${d.getAttribute("data-depth")}:${d.querySelector("summary .wf-name")?.firstChild?.textContent}`
            )
          )
        // The graph, its two agent steps (each with its model call) and the tools node with the tool.
        assert.deepStrictEqual(
          spans.filter((n) => /agent|tools|LangGraph|ScriptedToolModel|get_weather/.test(n)),
          [
            "0:LangGraph",
            "1:agent",
            "2:ScriptedToolModel",
            "1:tools",
            "2:get_weather",
            "1:agent",
            "2:ScriptedToolModel"
          ]
        )
        const modelSpans = page.locator("#waterfall details.span", { hasText: "ScriptedToolModel" })
        await modelSpans.last().locator("summary").first().click()
        assert.strictEqual(await modelSpans.last().locator("a.request-log-link").count(), 1)
        Fs.mkdirSync(outputDir, { recursive: true })
        await page.screenshot({ path: Path.join(outputDir, "readme-trace.png"), fullPage: false })
        assert.isTrue(Fs.statSync(Path.join(outputDir, "readme-trace.png")).size > 0)
      } finally {
        await handler.shutdown()
        await browser.close()
        await emulator.close()
      }
    }
  )
})

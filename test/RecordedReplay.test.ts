/**
 * Every recorded exchange (test/fixtures/promptlayer-recorded-exchanges.json) replayed against
 * the emulator: the recorded status, a response that decodes with the client's schema, and at least
 * the recorded top-level fields (for the workflow routes, the recorded body itself, ids mapped).
 *
 * Rewrites: the sanitized key becomes the emulator's; recorded request, group, workflow and
 * execution ids become the ids the emulator gave what the replay created; templates fetched before
 * they are published in the recording are seeded from the recorded template; workflows are seeded
 * with the recorded node outputs, and an execution the recording reads without running it (717) is
 * run once before it is read.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import { PromptLayerSchema as S } from "promptlayer-effect"
import { startEmulator } from "promptlayer-effect/emulator"
import { loadReferenceJson } from "./support/reference.js"

interface Exchange {
  readonly cassette: string
  readonly index: number
  readonly method: string
  readonly path: string
  readonly query: string
  readonly auth: "body" | "header"
  readonly request: any
  readonly status: number
  readonly response: any
}

const exchanges = (loadReferenceJson("promptlayer-recorded-exchanges.json") as { exchanges: Array<Exchange> }).exchanges

/** The client's schema for each route the emulator serves. */
const schemaFor = (e: Exchange): Schema.Decoder<unknown> | undefined => {
  if (e.method === "POST" && e.path === "/track-request") return S.TrackRequestResponse
  if (e.method === "POST" && e.path === "/log-request") return S.LogRequestResponse
  if (
    e.method === "POST" &&
    ["/library-track-score", "/library-track-metadata", "/library-track-prompt", "/track-group"].includes(e.path)
  )
    return S.SuccessResponse
  if (e.method === "POST" && e.path === "/create-group") return S.CreateGroupResponse
  if (e.method === "GET" && e.path === "/prompt-templates") return S.ListTemplatesResponse
  if (e.method === "POST" && e.path.startsWith("/prompt-templates/")) return S.GetTemplateResponse
  if (e.method === "POST" && e.path === "/rest/prompt-templates") return S.PublishTemplateResponse
  if (e.method === "GET" && /^\/workflows\/[^/]+$/.test(e.path)) return S.WorkflowResponse
  if (e.method === "POST" && /^\/workflows\/[^/]+\/run$/.test(e.path)) return S.RunWorkflowResponse
  if (e.method === "GET" && e.path === "/workflow-version-execution-results") return S.WorkflowResultsResponse
  if (e.method === "POST" && e.path === "/ws-token-request-library") return S.WsTokenResponse
  return undefined
}

const isWorkflowRoute = (e: Exchange) =>
  e.path.startsWith("/workflows/") ||
  e.path === "/workflow-version-execution-results" ||
  e.path === "/ws-token-request-library"

/** Top-level fields the real server returns that the emulator deliberately leaves out. */
const omitted: Record<string, ReadonlyArray<string>> = {
  // #25's GET echoes an internal request_id (a hex string) that is in no documented schema.
  "POST /prompt-templates/{name}": ["request_id"]
}

const routeKey = (e: Exchange) =>
  e.method === "POST" && e.path.startsWith("/prompt-templates/")
    ? "POST /prompt-templates/{name}"
    : `${e.method} ${e.path}`

describe("recorded exchanges replayed against the emulator", () => {
  it("every exchange has a route the emulator serves and a client schema", () => {
    assert.deepStrictEqual(
      exchanges.filter((e) => schemaFor(e) === undefined).map((e) => `${e.method} ${e.path}`),
      []
    )
    assert.strictEqual(exchanges.length, 35)
    assert.strictEqual(exchanges.filter(isWorkflowRoute).length, 7)
  })

  it(`all ${exchanges.length} exchanges get the recorded status and a response the client decodes`, async () => {
    // Seed the templates that the recording reads before (or without) publishing them.
    const published = new Set<string>()
    const seeds: Array<S.PublishTemplateInput> = []
    for (const e of exchanges) {
      if (e.path === "/rest/prompt-templates") published.add(e.request.prompt_template.prompt_name)
      if (e.method === "POST" && e.path.startsWith("/prompt-templates/")) {
        const name = decodeURIComponent(e.path.slice("/prompt-templates/".length))
        if (!published.has(name) && !seeds.some((s) => s.prompt_name === name)) {
          seeds.push({
            prompt_name: name,
            prompt_template: e.response.prompt_template,
            tags: e.response.tags ?? [],
            commit_message: e.response.commit_message,
            metadata: e.response.metadata
          })
        }
      }
    }
    // The recording's workflow (analyze_1) with the node outputs its results show ("Node 1": "AAA").
    const workflowNames = exchanges
      .filter((e) => e.method === "GET" && e.path.startsWith("/workflows/"))
      .map((e) => decodeURIComponent(e.path.slice("/workflows/".length)))
    const nodeOutputs: Record<string, unknown> = {}
    for (const e of exchanges.filter((e) => e.path === "/workflow-version-execution-results")) {
      if (new URLSearchParams(e.query).get("return_all_outputs") !== "true") continue
      for (const [node, result] of Object.entries(e.response as Record<string, { value: unknown }>))
        nodeOutputs[node] = result.value
    }
    assert.deepStrictEqual(workflowNames, ["analyze_1"])
    const emulator = await startEmulator({
      port: 0,
      templates: seeds,
      workflows: workflowNames.map((name) => ({ name, outputs: nodeOutputs }))
    })
    try {
      const requestIds = new Map<number, number>()
      const groupIds = new Map<number, number>()
      const workflowIds = new Map<number, number>()
      const executionIds = new Map<number, number>()
      /** The emulator's execution for a recorded one; runs the seeded workflow for one never run in the recording. */
      const executionFor = async (recorded: number) => {
        if (!executionIds.has(recorded)) {
          const run = await fetch(`${emulator.url}/workflows/${workflowNames[0]}/run`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-api-key": emulator.apiKey },
            body: JSON.stringify({ input_variables: {} })
          })
          assert.strictEqual(run.status, 201)
          executionIds.set(recorded, ((await run.json()) as S.RunWorkflowResponse).workflow_version_execution_id)
        }
        return executionIds.get(recorded)!
      }
      const mappedWorkflow = (recorded: string) => {
        const id = workflowIds.get(Number(recorded))
        assert.isDefined(id, `workflow ${recorded} was not fetched earlier in the recording`)
        return String(id)
      }
      const results: Array<string> = []
      for (const e of exchanges) {
        // The recording shows a call without a body as null or "".
        const body = e.request === null || e.request === "" ? undefined : structuredClone(e.request)
        if (body && typeof body === "object") {
          if ("api_key" in body) body.api_key = emulator.apiKey
          if (typeof body.request_id === "number") {
            const mapped = requestIds.get(body.request_id)
            assert.isDefined(mapped, `#${e.index}: request ${body.request_id} was not created earlier in the recording`)
            body.request_id = mapped
          }
          if (typeof body.group_id === "number" && e.path === "/track-group")
            body.group_id = groupIds.get(body.group_id)
        }
        let path = e.path.replace(
          /^\/workflows\/(\d+)\/run$/,
          (_, id: string) => `/workflows/${mappedWorkflow(id)}/run`
        )
        const query = new URLSearchParams(e.query)
        const capability = query.get("capability")
        if (capability !== null)
          query.set(
            "capability",
            capability.replace(/^workflows:(\d+):/, (_, id: string) => `workflows:${mappedWorkflow(id)}:`)
          )
        const execution = query.get("workflow_version_execution_id")
        if (execution !== null)
          query.set("workflow_version_execution_id", String(await executionFor(Number(execution))))
        if (query.size > 0) path += `?${query}`
        const headers: Record<string, string> = { "content-type": "application/json" }
        if (e.auth === "header") headers["x-api-key"] = emulator.apiKey
        const response = await fetch(`${emulator.url}${path}`, {
          method: e.method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) })
        })
        const json = await response.json()
        const label = `#${exchanges.indexOf(e)} ${e.method} ${e.path} (${e.cassette})`
        assert.strictEqual(response.status, e.status, `${label}: ${JSON.stringify(json).slice(0, 300)}`)
        const decoded = Schema.decodeUnknownResult(schemaFor(e)!)(json)
        assert.isTrue(
          Result.isSuccess(decoded),
          `${label} does not decode: ${String(Result.isFailure(decoded) && decoded.failure)}`
        )
        if (typeof e.response === "object" && e.response !== null) {
          const missing = Object.keys(e.response).filter(
            (key) => !(key in json) && !(omitted[routeKey(e)] ?? []).includes(key)
          )
          assert.deepStrictEqual(missing, [], `${label}: fields the real server returns`)
        }
        if (e.path === "/track-request") requestIds.set(e.response.request_id, json.request_id)
        if (e.path === "/log-request") requestIds.set(e.response.id, json.id)
        if (e.path === "/create-group") groupIds.set(e.response.id, json.id)
        if (e.method === "GET" && e.path.startsWith("/workflows/")) {
          workflowIds.set(e.response.workflow.id, json.workflow.id)
          assert.deepStrictEqual(json, { ...e.response, workflow: { ...e.response.workflow, id: json.workflow.id } })
        }
        if (e.path.endsWith("/run")) {
          executionIds.set(e.response.workflow_version_execution_id, json.workflow_version_execution_id)
          assert.deepStrictEqual(json, {
            ...e.response,
            workflow_version_execution_id: json.workflow_version_execution_id
          })
        }
        if (e.path === "/workflow-version-execution-results") assert.deepStrictEqual(json, e.response, label)
        if (e.path === "/ws-token-request-library") {
          assert.deepStrictEqual(Object.keys(json.token_details).sort(), Object.keys(e.response.token_details).sort())
          assert.deepStrictEqual(
            json.token_details.capability,
            Object.fromEntries(
              Object.entries(e.response.token_details.capability).map(([channel, ops]) => [
                channel.replace(/^workflows:(\d+):/, (_, id: string) => `workflows:${mappedWorkflow(id)}:`),
                ops
              ])
            )
          )
          assert.strictEqual(
            json.token_details.expires - json.token_details.issued,
            e.response.token_details.expires - e.response.token_details.issued
          )
        }
        results.push(label)
      }
      assert.strictEqual(results.length, exchanges.length)
      // The replay left the state the recording implies.
      const scored = emulator.store.requests().find((r) => r.scores.accuracy === 10)
      assert.deepStrictEqual(scored?.metadata, { test: "test" })
      assert.strictEqual(scored?.group_ids.length, 1)
      const runs = emulator.store.workflowExecutions()
      assert.deepStrictEqual(
        runs.map((r) => [r.workflow_name, r.input_variables]),
        [
          ["analyze_1", {}],
          ["analyze_1", { var1: "value1" }]
        ]
      )
    } finally {
      await emulator.close()
    }
  })
})

/**
 * The examples of examples/ run here, each against its own embedded emulator and OpenAI stub, and
 * the tests check what the emulator recorded through its read API. The scripts are also run as a
 * user runs them (`tsx examples/<name>.ts`, `tsx scripts/demo.ts`), with no PromptLayer or OpenAI
 * key in their environment, so that they stay on 127.0.0.1.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { afterEach } from "vitest"
import { main as chat } from "../examples/chat.js"
import { main as completion } from "../examples/completion.js"
import { main as effectApp } from "../examples/effect-app.js"
import { main as full } from "../examples/full.js"
import { type Environment, exampleTemplate, type Recorded, setup } from "../examples/support/environment.js"
import { answerFor, startOpenAIStub, usageFor } from "../examples/support/openaiStub.js"
import { startEmulator } from "promptlayer-effect/emulator"
import { runDemo } from "../scripts/demo.js"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")

const environments: Array<Environment> = []

afterEach(async () => {
  await Promise.all(environments.splice(0).map((env) => env.close()))
})

const localEnv = async () => {
  const env = await setup({ promptLayer: "local", openai: "stub" })
  environments.push(env)
  return env
}

/** The one request the emulator holds, read back through its HTTP read API. */
const onlyRecorded = async (env: Environment, requestIds: ReadonlyArray<number>): Promise<Recorded> => {
  assert.strictEqual(env.emulator!.store.requests().length, 1, "the emulator holds exactly one request")
  assert.strictEqual(requestIds.length, 1)
  const recorded = await env.recorded(requestIds[0]!)
  assert.isDefined(recorded)
  return recorded!
}

const messagesOf = (prompt: Recorded["input"]) => {
  assert.strictEqual(prompt?.type, "chat")
  return (prompt as Extract<NonNullable<Recorded["input"]>, { type: "chat" }>).messages.map((message) => ({
    role: message.role,
    text: (message.content ?? []).map((block) => block.text ?? "").join("")
  }))
}

/** The one request the OpenAI stub received. */
const onlyModelCall = (env: Environment) => {
  assert.strictEqual(env.stub!.requests.length, 1, "the model was called once")
  return env.stub!.requests[0]!
}

const templateId = (env: Environment) =>
  env.emulator!.store.templatesList().find((t) => t.prompt_name === "example")!.id

/** What the full featured example must leave behind: score, metadata, prompt link, the prompt's messages. */
const assertFullFeatured = (env: Environment, request: Recorded, answer: string) => {
  assert.deepStrictEqual(request.scores, { default: 100 })
  assert.strictEqual(request.metadata.foo, "bar")
  assert.deepStrictEqual(request.prompt, {
    name: "example",
    id: templateId(env),
    version: 1,
    label: null,
    input_variables: { product: "toasters" }
  })
  assert.strictEqual(request.provider, "openai")
  assert.strictEqual(request.model, "gpt-4o-mini")
  assert.strictEqual(request.status, "SUCCESS")
  const expectedInput = [
    { role: "system", text: "You are a helpful assistant." },
    { role: "user", text: "What is a good name for a company that makes toasters?" }
  ]
  assert.deepStrictEqual(messagesOf(request.input), expectedInput)
  assert.deepStrictEqual(messagesOf(request.output), [{ role: "assistant", text: answer }])
  // The model received the rendered template.
  const call = onlyModelCall(env)
  assert.strictEqual(call.path, "/v1/chat/completions")
  assert.deepStrictEqual(
    (call.body.messages as Array<{ role: string; content: string }>).map((m) => ({ role: m.role, text: m.content })),
    expectedInput
  )
  assert.strictEqual(answer, answerFor(call.body))
  const usage = usageFor(call.body)
  assert.strictEqual(request.input_tokens, usage.prompt_tokens)
  assert.strictEqual(request.output_tokens, usage.completion_tokens)
  // One call of each tracking endpoint, and the template fetched once from the registry.
  const calls = env.emulator!.stats().calls
  assert.strictEqual(calls["POST /prompt-templates/example"], 1)
  assert.strictEqual(calls["POST /library-track-score"], 1)
  assert.strictEqual(calls["POST /library-track-metadata"], 1)
  assert.strictEqual(calls["POST /library-track-prompt"], 1)
}

describe("examples, in process", () => {
  it("chat.ts: ChatOpenAI with plTags chatopenai, two human messages in one request", async () => {
    const env = await localEnv()
    const result = await chat(env)
    const request = await onlyRecorded(env, result.requestIds)
    assert.strictEqual(request.kind, "log-request")
    assert.strictEqual(request.provider, "openai")
    assert.strictEqual(request.model, "gpt-4o-mini")
    assert.strictEqual(request.status, "SUCCESS")
    assert.deepStrictEqual(request.tags, ["chatopenai"])
    assert.deepStrictEqual(messagesOf(request.input), [
      { role: "user", text: "What comes after 1,2,3 ?" },
      { role: "user", text: "Tell me another joke?" }
    ])
    const call = onlyModelCall(env)
    assert.strictEqual(call.path, "/v1/chat/completions")
    assert.strictEqual(call.body.temperature, 0)
    assert.deepStrictEqual(result.answers, [answerFor(call.body)])
    assert.deepStrictEqual(messagesOf(request.output), [{ role: "assistant", text: result.answers[0]! }])
    assert.strictEqual((request.body.parameters as { temperature?: number }).temperature, 0)
    assert.strictEqual(request.input_tokens, usageFor(call.body).prompt_tokens)
    assert.strictEqual(request.output_tokens, usageFor(call.body).completion_tokens)
    assert.deepStrictEqual(request.scores, {})
    assert.isNull(request.prompt)
  })

  it("completion.ts: a completion model, tags langchain + gpt4all, callbacks given at invoke time", async () => {
    const env = await localEnv()
    const result = await completion(env)
    const request = await onlyRecorded(env, result.requestIds)
    assert.strictEqual(request.provider, "openai")
    assert.strictEqual(request.model, "gpt-3.5-turbo-instruct")
    assert.deepStrictEqual(request.tags, ["langchain", "gpt4all"])
    assert.deepStrictEqual(request.input, {
      type: "completion",
      content: [{ type: "text", text: "Once upon a time, " }]
    })
    const call = onlyModelCall(env)
    assert.strictEqual(call.path, "/v1/completions")
    assert.deepStrictEqual(result.answers, [answerFor(call.body)])
    assert.deepStrictEqual(request.output, {
      type: "completion",
      content: [{ type: "text", text: result.answers[0]! }]
    })
    assert.strictEqual(request.input_tokens, usageFor(call.body).prompt_tokens)
    assert.strictEqual(request.output_tokens, usageFor(call.body).completion_tokens)
  })

  it("full.ts: registry template as a LangChain prompt; plIdCallback scores 100, metadata foo=bar, prompt link", async () => {
    const env = await localEnv()
    const result = await full(env)
    const request = await onlyRecorded(env, result.requestIds)
    assertFullFeatured(env, request, result.answers[0]!)
    assert.deepStrictEqual(request.tags, [])
  })

  it("effect-app.ts: layers, scoped handler, requestIds piped into the scoring pipeline", async () => {
    const env = await localEnv()
    const result = await effectApp(env)
    const request = await onlyRecorded(env, result.requestIds)
    assertFullFeatured(env, request, result.answers[0]!)
    assert.deepStrictEqual(request.tags, ["effect-app"])
  })

  it("the demo reports an example whose tracking fails as FAILED (the script then exits 1)", async () => {
    const env = await localEnv()
    env.emulator!.faults.add([{ route: "/library-track-score", status: 400 }])
    const lines: Array<string> = []
    const outcomes = await runDemo(env, (line) => lines.push(line))
    assert.deepStrictEqual(
      outcomes.map((outcome) => [outcome.name, outcome.ok]),
      [
        ["chat", true],
        ["completion", true],
        ["full", false],
        ["effect-app", false]
      ]
    )
    for (const outcome of outcomes.filter((o) => !o.ok)) assert.match(outcome.problems[0]!, /InvalidRequestError/)
    assert.include(lines, "demo: 2 of 4 examples FAILED")
    assert.isTrue(lines.some((line) => /^full: FAILED \(\d+ ms\)$/.test(line)))
    // The examples that passed were recorded all the same.
    assert.deepStrictEqual(outcomes[0]!.requestIds, [1])
    assert.deepStrictEqual((await env.recorded(1))!.tags, ["chatopenai"])
  })

  it("full.ts fails (does not pass silently) when the template is missing from the registry", async () => {
    const env = await localEnv()
    env.emulator!.store.reset()
    const error = await full(env).then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(error, Error)
    assert.strictEqual((error as { _tag?: string })._tag, "NotFoundError")
    assert.strictEqual(env.emulator!.store.requests().length, 0)
  })
})

// ---------------------------------------------------------------------------
// As scripts
// ---------------------------------------------------------------------------

const tsx = Path.join(root, "node_modules", ".bin", "tsx")

/** The environment of a script: no key, so it never leaves 127.0.0.1. */
const offlineEnv = () => {
  const env = { ...process.env }
  for (const name of ["PROMPTLAYER_API_KEY", "PROMPTLAYER_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"]) {
    delete env[name]
  }
  return env
}

interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

const collect = (child: ChildProcess, timeoutMs: number, name: string) => {
  let stdout = ""
  let stderr = ""
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk
  })
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const finished = new Promise<Finished>((resolve, reject) => {
    // A script that does not exit by itself (a handle left open) fails here.
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${name} did not exit within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`))
    }, timeoutMs)
    child.on("error", reject)
    // "close", not "exit": at "exit" the script's last output may still be unread in the pipe.
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return { finished, stdout: () => stdout }
}

const runScript = (file: string, args: ReadonlyArray<string> = [], extraEnv: Record<string, string> = {}) =>
  collect(spawn(tsx, [file, ...args], { cwd: root, env: { ...offlineEnv(), ...extraEnv } }), 90_000, file).finished

// Each script starts its own emulator and stub on free ports: the scripts run side by side.
describe.concurrent("examples, as scripts", () => {
  const cases: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
    ["examples/chat.ts", ['tags: ["chatopenai"]', "provider/model: openai/gpt-4o-mini"]],
    ["examples/completion.ts", ['tags: ["langchain","gpt4all"]', "provider/model: openai/gpt-3.5-turbo-instruct"]],
    [
      "examples/full.ts",
      ["scores: default=100", "metadata: foo=bar", 'prompt: example v1 with {"product":"toasters"}']
    ],
    [
      "examples/effect-app.ts",
      ["scores: default=100", "metadata: foo=bar", 'prompt: example v1 with {"product":"toasters"}']
    ]
  ]
  for (const [file, expected] of cases) {
    it(`npx tsx ${file}: prints the request id and what the emulator recorded, then exits 0`, async () => {
      const { code, stdout, stderr } = await runScript(file)
      assert.strictEqual(code, 0, stderr)
      assert.include(stdout, "the embedded emulator at http://127.0.0.1:")
      assert.include(stdout, "PromptLayer request id: 1\n")
      for (const line of expected) assert.include(stdout, line)
    })
  }

  it("npm run demo: the four examples against one emulator, a report, exit 0", async () => {
    const { code, stdout, stderr } = await runScript("scripts/demo.ts")
    assert.strictEqual(code, 0, stderr)
    // One emulator: the request ids continue from one example to the next.
    assert.match(stdout, /^chat: ok \(\d+ ms\) request ids 1$/m)
    assert.match(stdout, /^completion: ok \(\d+ ms\) request ids 2$/m)
    assert.match(stdout, /^full: ok \(\d+ ms\) request ids 3$/m)
    assert.match(stdout, /^effect-app: ok \(\d+ ms\) request ids 4$/m)
    assert.include(stdout, '#2 tags: ["langchain","gpt4all"]')
    assert.include(stdout, "#3 scores: default=100")
    assert.include(stdout, "#4 metadata: foo=bar")
    assert.include(stdout, "emulator: 4 requests recorded")
    assert.include(stdout, "demo: all 4 examples ok")
    assert.notInclude(stdout, "dashboard:")
  })

  it("npm run demo -- --serve: keeps the emulator up with its dashboard until SIGINT, then exits 0", async () => {
    // Node itself, not the tsx CLI: tsx relays a signal to its child and, if the child has not
    // acknowledged it within 30 ms (a loaded machine), kills it and exits 130.
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/demo.ts", "--serve"], {
      cwd: root,
      env: offlineEnv()
    })
    const run = collect(child, 90_000, "demo --serve")
    const url = await new Promise<string>((resolve, reject) => {
      const poll = setInterval(() => {
        const match = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/m.exec(run.stdout())
        if (match !== null) {
          clearInterval(poll)
          resolve(match[1]!)
        }
      }, 50)
      run.finished.then(
        (f) => {
          clearInterval(poll)
          reject(new Error(`demo --serve exited early (${f.code}): ${f.stdout} ${f.stderr}`))
        },
        (error) => {
          clearInterval(poll)
          reject(error)
        }
      )
    })
    const dashboard = await fetch(url)
    assert.strictEqual(dashboard.status, 200)
    assert.include(dashboard.headers.get("content-type") ?? "", "text/html")
    const requests = (await (await fetch(`${url}emulator/requests`)).json()) as { items: Array<Recorded> }
    assert.deepStrictEqual(
      requests.items.map((r) => r.id).sort((a, b) => a - b),
      [1, 2, 3, 4]
    )
    child.kill("SIGINT")
    const { code } = await run.finished
    assert.strictEqual(code, 0)
  })

  it("npm run demo with a bad argument exits 2 without starting anything", async () => {
    const { code, stderr } = await runScript("scripts/demo.ts", ["--bogus"])
    assert.strictEqual(code, 2)
    assert.include(stderr, "unknown arguments --bogus")
  })

  it("with PROMPTLAYER_API_KEY and OPENAI_API_KEY set, full.ts uses those services (loopback stand-ins here)", async () => {
    // A separately started emulator stands in for the real PromptLayer, the stub for the real OpenAI:
    // the script must start neither itself and use the keys and base URLs of its environment.
    const promptLayer = await startEmulator({ port: 0, apiKey: "pl_stand_in_key", templates: [exampleTemplate] })
    const openai = await startOpenAIStub()
    try {
      const { code, stdout, stderr } = await runScript("examples/full.ts", [], {
        PROMPTLAYER_API_KEY: "pl_stand_in_key",
        PROMPTLAYER_BASE_URL: promptLayer.url,
        OPENAI_API_KEY: "sk-stand-in",
        OPENAI_BASE_URL: openai.url
      })
      assert.strictEqual(code, 0, stderr)
      assert.include(stdout, `full: PromptLayer = ${promptLayer.url}; models = OpenAI`)
      assert.include(stdout, `(logged to ${promptLayer.url}; see it in your PromptLayer dashboard)`)
      const [request, ...others] = promptLayer.store.requests()
      assert.strictEqual(others.length, 0)
      assert.include(stdout, `PromptLayer request id: ${request!.id}\n`)
      assert.deepStrictEqual(request!.scores, { default: 100 })
      assert.strictEqual(request!.metadata.foo, "bar")
      assert.deepStrictEqual(request!.prompt?.input_variables, { product: "toasters" })
      assert.strictEqual(openai.requests.length, 1)
      assert.strictEqual(openai.requests[0]!.body.model, "gpt-4o-mini")
    } finally {
      await Promise.all([promptLayer.close(), openai.close()])
    }
  })
})

/**
 * The redaction walk on bodies (internal/redaction.ts): which fields are masked, with which path
 * and kind, which are kept, how hide options apply to each field, and how it fails closed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Redactor } from "../src/internal/redaction.js"
import type { MaskInfo, RedactionOptions } from "../src/PromptLayerRedaction.js"
import type * as S from "../src/PromptLayerSchema.js"

const log: S.LogRequestInput = {
  provider: "openai",
  model: "gpt-4o-mini",
  input: {
    type: "chat",
    messages: [
      { role: "system", content: [{ type: "text", text: "secret rules" }] },
      {
        role: "assistant",
        name: "bot",
        content: [],
        tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"secret"}' } }]
      },
      { role: "tool", tool_call_id: "call_1", content: [{ type: "text", text: "secret result" }] }
    ]
  },
  output: { type: "completion", content: [{ type: "text", text: "secret answer" }] },
  request_start_time: 1_733_325_591_000,
  request_end_time: 1_733_325_592_000,
  parameters: { temperature: 0.2, user: "secret user", stop: ["secret stop"] },
  tags: ["secret-tag"],
  metadata: { customer: "secret customer", langchain_run_id: "run-1", time_to_first_token_ms: "12" },
  prompt_name: "secret prompt name",
  prompt_input_variables: { question: "secret question", nested: { deep: ["secret"] } },
  status: "ERROR",
  error_type: "PROVIDER_ERROR",
  error_message: "secret failure"
}

/** A redactor whose masker upper-cases and records `path kind` per call; failures counted. */
const recording = (options: Omit<RedactionOptions, "mask"> = {}) => {
  const calls: Array<string> = []
  const counter = { failures: 0 }
  const redactor = Redactor.make(
    {
      ...options,
      mask: (text: string, info: MaskInfo) => {
        calls.push(`${info.path} ${info.kind}`)
        return text.toUpperCase()
      }
    },
    () => {
      counter.failures++
    }
  )!
  return { redactor, calls, counter }
}

describe("Redactor on a /log-request body", () => {
  it("masks content, tool arguments, parameters, template variables, metadata and errors, each with its path and kind", () => {
    const { calls, counter, redactor } = recording()
    const out = redactor.logRequest(log)
    assert.deepStrictEqual(calls.sort(), [
      "error_message error",
      "input.messages[0].content[0].text input",
      "input.messages[1].tool_calls[0].function.arguments input",
      "input.messages[2].content[0].text input",
      "metadata.customer metadata",
      "output.content[0].text output",
      "parameters.stop[0] parameters",
      "parameters.user parameters",
      "prompt_input_variables.nested.deep[0] input",
      "prompt_input_variables.question input"
    ])
    const input = out.input as unknown as { messages: Array<Record<string, unknown>> }
    assert.deepStrictEqual(input.messages[1], {
      role: "assistant",
      name: "bot",
      content: [],
      tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: '{"Q":"SECRET"}' } }]
    })
    assert.strictEqual(input.messages[2]!.tool_call_id, "call_1")
    assert.deepStrictEqual(out.tags, ["secret-tag"], "tags are not masked")
    assert.strictEqual(out.prompt_name, "secret prompt name", "names are not masked")
    assert.strictEqual(out.model, "gpt-4o-mini")
    assert.strictEqual(out.error_message, "SECRET FAILURE")
    assert.deepStrictEqual(
      out.metadata,
      { customer: "SECRET CUSTOMER", langchain_run_id: "run-1", time_to_first_token_ms: "12" },
      "the handler's own metadata keys are not masked"
    )
    assert.deepStrictEqual(out.parameters, { temperature: 0.2, user: "SECRET USER", stop: ["SECRET STOP"] })
    assert.strictEqual(counter.failures, 0)
    assert.strictEqual(
      (log.input as unknown as { messages: Array<{ content: Array<{ text?: string }> }> }).messages[0]!.content[0]!
        .text,
      "secret rules",
      "the body given is not changed"
    )
  })

  it("hideInputs: true hides the prompt (same type) and drops the template variables; outputs are kept", () => {
    const redactor = Redactor.make({ hideInputs: true }, () => {})!
    const out = redactor.logRequest(log)
    assert.deepStrictEqual(out.input, {
      type: "chat",
      messages: [{ role: "user", content: [{ type: "text", text: "[hidden]" }] }]
    })
    assert.isUndefined(out.prompt_input_variables)
    assert.deepStrictEqual(out.output, log.output)
    assert.deepStrictEqual(out.metadata, log.metadata, "no mask: metadata as is")
  })

  it("hideOutputs: true keeps a completion a completion", () => {
    const out = Redactor.make({ hideOutputs: true }, () => {})!.logRequest(log)
    assert.deepStrictEqual(out.output, { type: "completion", content: [{ type: "text", text: "[hidden]" }] })
  })

  it("a hide function is called per input field; template variables must stay an object", () => {
    let failures = 0
    const seen: Array<unknown> = []
    const redactor = Redactor.make(
      {
        hideInputs: (value) => {
          seen.push(value)
          return (value as { type?: string }).type === "chat" ? value : "not an object"
        }
      },
      () => {
        failures++
      }
    )!
    const out = redactor.logRequest(log)
    assert.deepStrictEqual(seen, [log.input, log.prompt_input_variables])
    assert.deepStrictEqual(out.input, log.input)
    assert.deepStrictEqual(out.prompt_input_variables, {}, "an invalid result sends nothing of the raw value")
    assert.strictEqual(failures, 1)
  })

  it("a value nested too deep fails closed instead of being sent", () => {
    let deep: unknown = "secret"
    for (let i = 0; i < 100; i++) deep = { deep }
    let failures = 0
    const redactor = Redactor.make({ mask: (text) => text }, () => {
      failures++
    })!
    const out = redactor.logRequest({ ...log, parameters: { deep } })
    assert.strictEqual(out.parameters, "[redaction failed]" as unknown as typeof out.parameters)
    assert.strictEqual(failures, 1)
  })

  it("objects with toJSON are masked as JSON.stringify would write them", () => {
    const { redactor } = recording()
    const when = new Date(0)
    const out = redactor.logRequest({ ...log, parameters: { when, custom: { toJSON: () => ({ a: "x" }) } } })
    assert.deepStrictEqual(out.parameters, { when: "1970-01-01T00:00:00.000Z", custom: { a: "X" } })
  })

  it("no option set: no redactor at all (nothing to pay)", () => {
    assert.isUndefined(Redactor.make({}, () => {}))
    assert.isUndefined(Redactor.make({ hideInputs: false, hideOutputs: false }, () => {}))
  })
})

const span: S.SpanInput = {
  name: "secret-named chain",
  context: { trace_id: "0".repeat(32), span_id: "1".repeat(16), trace_state: "" },
  kind: "SpanKind.INTERNAL",
  parent_id: null,
  start_time: "1",
  end_time: "2",
  status: { status_code: "StatusCode.ERROR", description: "Error: secret" },
  attributes: {
    "langchain.run_id": "run-secret",
    "langchain.name": "secret-named chain",
    "langchain.tags": ["secret"],
    "langchain.metadata.user": "secret user",
    "session.id": "secret session",
    function_input: JSON.stringify({ question: "secret question" }),
    function_output: `"secret answer${"x".repeat(10)}…[cut] 5 more characters`,
    "exception.message": "Error: secret"
  },
  events: [
    {
      name: "agent_action",
      timestamp: "t",
      attributes: { tool: "search", tool_input: '{"q":"secret"}', log: "secret log" }
    }
  ],
  links: [],
  resource: { attributes: { "service.name": "secret-service" }, schema_url: "" }
}

describe("Redactor on a span", () => {
  it("masks inputs, outputs, metadata, session keys, errors, status and events; ids, names and tags are kept", () => {
    const { calls, redactor } = recording()
    const out = redactor.span(span)
    assert.deepStrictEqual(
      calls.sort(),
      [
        "attributes.exception.message error",
        "attributes.function_input.question input",
        "attributes.function_output output",
        "attributes.langchain.metadata.user metadata",
        "attributes.session.id metadata",
        "events[0].attributes.log event",
        "events[0].attributes.tool_input.q event",
        "events[0].attributes.tool event",
        "status.description error"
      ].sort()
    )
    assert.strictEqual(out.attributes.function_input, '{"question":"SECRET QUESTION"}')
    assert.strictEqual(
      out.attributes.function_output,
      `"SECRET ANSWER${"X".repeat(10)}…[CUT] 5 MORE CHARACTERS`,
      "a cut (not JSON) value is masked as one text"
    )
    assert.strictEqual(out.attributes["langchain.run_id"], "run-secret")
    assert.deepStrictEqual(out.attributes["langchain.tags"], ["secret"])
    assert.strictEqual(out.name, "secret-named chain")
    assert.deepStrictEqual(out.resource, span.resource)
    assert.strictEqual(out.status.description, "ERROR: SECRET")
    assert.deepStrictEqual(out.events?.[0]?.attributes, {
      tool: "SEARCH",
      tool_input: '{"q":"SECRET"}',
      log: "SECRET LOG"
    })
  })

  it("hides a span's input and output as JSON texts of the marker", () => {
    const out = Redactor.make({ hideInputs: true, hideOutputs: true }, () => {})!.span(span)
    assert.strictEqual(out.attributes.function_input, '"[hidden]"')
    assert.strictEqual(out.attributes.function_output, '"[hidden]"')
    assert.strictEqual(out.attributes["langchain.metadata.user"], "secret user", "hiding is not masking")
  })

  it("a masker that throws fails only its field closed", () => {
    let failures = 0
    const redactor = Redactor.make(
      {
        mask: (text) => {
          if (text.includes("question")) throw "not even an Error"
          return text
        }
      },
      () => {
        failures++
      }
    )!
    const out = redactor.span(span)
    assert.strictEqual(out.attributes.function_input, '"[redaction failed]"')
    assert.strictEqual(out.attributes["langchain.metadata.user"], "secret user")
    assert.strictEqual(failures, 1)
  })

  it("a span's log_request is redacted with its path", () => {
    const { calls, redactor } = recording()
    redactor.span({ ...span, attributes: {}, events: [], status: { status_code: "StatusCode.OK" }, log_request: log })
    assert.include(calls, "log_request.input.messages[0].content[0].text input")
    assert.include(calls, "log_request.metadata.customer metadata")
  })

  it("a hide function's large result is cut to the span's value limit", () => {
    const out = Redactor.make({ hideOutputs: () => "x".repeat(100_000) }, () => {})!.span(span)
    const text = String(out.attributes.function_output)
    assert.isBelow(text.length, 33_000)
    assert.include(text, "more characters")
  })
})

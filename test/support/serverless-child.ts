/**
 * Child process of test/Serverless.test.ts: a "serverless function" that answers requests with a
 * LangChain chain (prompt → `FakeListChatModel` → `RunnableLambda`) traced by a
 * PromptLayerCallbackHandler (traces mode, `deliverOnRootEnd`, a one-hour `batchDelay`: without
 * the option or a flush, nothing would be sent while a test lasts), and a simulated platform that
 * freezes it between requests (the test sends SIGSTOP, then SIGCONT).
 *
 * Usage: tsx test/support/serverless-child.ts <url> <apiKey> <pattern> <attemptTimeoutMs> [traces|requests]
 * (the handler's mode; traces by default).
 *
 * `pattern` is how the function hands its traces over before the platform may freeze it:
 * - `await-flush`: `await handler.flush()` before the function returns its response;
 * - `wait-until`: the function returns at once and hands `handler.flush()` to the platform's
 *   `waitUntil`, which the platform awaits after sending the response (as Vercel, Netlify and
 *   Cloudflare do);
 * - `none`: nothing: only `deliverOnRootEnd` sends the trace, and the platform may freeze the
 *   process while it is in flight.
 *
 * Commands on stdin, one per line:
 * - `invoke <n>`: handles request n; prints `RESPONSE <n> <answer>` when the response is sent, then
 *   `RETURNED <n> {stats}` when the platform would freeze the process (its `waitUntil` promises
 *   settled);
 * - `exit`: awaits `handler.shutdown()`, prints `DONE {stats}` and ends.
 */
import * as Readline from "node:readline"
import { ChatPromptTemplate } from "@langchain/core/prompts"
import { RunnableLambda } from "@langchain/core/runnables"
import { FakeListChatModel } from "@langchain/core/utils/testing"
import { PromptLayerCallbackHandler } from "promptlayer-effect/langchain"

const [url = "", apiKey = "", pattern = "await-flush", attemptTimeoutArg = "2000", mode = "traces"] =
  process.argv.slice(2)

const handler = new PromptLayerCallbackHandler({
  mode: mode === "requests" ? "requests" : "traces",
  apiKey,
  baseURL: url,
  plTags: ["serverless", pattern],
  deliverOnRootEnd: true,
  batchDelay: "1 hour",
  retry: {
    maxAttempts: 10,
    initialDelay: "50 millis",
    maxDelay: "500 millis",
    attemptTimeout: Number(attemptTimeoutArg),
    deadline: "10 minutes"
  }
})

const chain = ChatPromptTemplate.fromMessages([
  ["system", "You are terse."],
  ["human", "{question}"]
])
  .pipe(new FakeListChatModel({ responses: ["an answer"] }))
  .pipe(RunnableLambda.from((message: { content: unknown }) => String(message.content).toUpperCase()))

/** The platform's `waitUntil`: promises it awaits after the response, before it may freeze the process. */
const pending: Array<Promise<unknown>> = []
const waitUntil = (promise: Promise<unknown>): void => {
  pending.push(promise)
}

/** The function: one request, one trace. */
const handle = async (n: number): Promise<string> => {
  const answer = await chain.invoke({ question: `question ${n}` }, { callbacks: [handler], metadata: { n: String(n) } })
  if (pattern === "await-flush") await handler.flush()
  if (pattern === "wait-until") waitUntil(handler.flush())
  return answer
}

const print = (line: string) => process.stdout.write(`${line}\n`)

const lines = Readline.createInterface({ input: process.stdin })
lines.on("line", (line) => {
  const [command, arg] = line.trim().split(" ")
  if (command === "invoke") {
    const n = Number(arg)
    void handle(n).then(async (answer) => {
      print(`RESPONSE ${n} ${answer}`)
      await Promise.all(pending.splice(0))
      print(`RETURNED ${n} ${JSON.stringify(handler.stats())}`)
    })
  } else if (command === "exit") {
    lines.close()
    process.stdin.destroy()
    void handler.shutdown().then(() => print(`DONE ${JSON.stringify(handler.stats())}`))
  }
})

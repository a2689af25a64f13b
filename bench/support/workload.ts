/**
 * The traces benches' shared workload and probe: `prompt | model | parser` with 1 KB in and out,
 * and a timer of a handler's own callbacks.
 */
import type { BaseCallbackHandler } from "@langchain/core/callbacks/base"
import { StringOutputParser } from "@langchain/core/output_parsers"
import { ChatPromptTemplate } from "@langchain/core/prompts"
import { FakeListChatModel } from "@langchain/core/utils/testing"

/** `bytes` of text starting with `seed`, with `extra` (e.g. personal data to mask) in every unit. */
export const payload = (bytes: number, seed: string, extra = " "): string => {
  const unit = `${seed} lorem ipsum dolor sit amet, consectetur adipiscing elit.${extra}`
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes)
}

/** `prompt | model | parser` over 1 KB answers, and its 1 KB input (`extra` as in {@link payload}). */
export const benchChain = (extra?: string) => {
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "You are a benchmark."],
    ["human", "{question}"]
  ])
  const model = new FakeListChatModel({
    responses: Array.from({ length: 4 }, (_, i) => payload(1024, `answer-${i}`, extra))
  })
  return { chain: prompt.pipe(model).pipe(new StringOutputParser()), input: { question: payload(1024, "q", extra) } }
}

const CALLBACKS = [
  "handleChainStart",
  "handleChainEnd",
  "handleChainError",
  "handleChatModelStart",
  "handleLLMStart",
  "handleLLMNewToken",
  "handleLLMEnd",
  "handleLLMError"
] as const

/**
 * Wraps the handler's callbacks (on the instance, where LangChain looks them up) to add up the time
 * each takes until it returns: the handler's own work, without what runs later in the background.
 * Returns the total so far, in µs.
 */
export const timeOwnCallbacks = (handler: BaseCallbackHandler): (() => number) => {
  let totalNs = 0n
  const target = handler as unknown as Record<string, (...args: Array<unknown>) => unknown>
  for (const name of CALLBACKS) {
    const original = target[name]
    if (typeof original !== "function") continue
    target[name] = (...args: Array<unknown>) => {
      const s = process.hrtime.bigint()
      try {
        return original.apply(handler, args)
      } finally {
        totalNs += process.hrtime.bigint() - s
      }
    }
  }
  return () => Number(totalNs) / 1000
}

/**
 * A LangGraph agent for tests: a `StateGraph` over `MessagesAnnotation` with an `agent` node (a
 * scripted tool-calling model) and a `tools` node (`ToolNode` with `get_weather`), routed by
 * `toolsCondition`. With the default script the model asks for the weather in `city`, then answers; the tool
 * fails for "Atlantis".
 */
import { HumanMessage } from "@langchain/core/messages"
import { tool } from "@langchain/core/tools"
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph"
import { ToolNode, toolsCondition } from "@langchain/langgraph/prebuilt"
import { z } from "zod"
import { ScriptedToolModel } from "./scriptedToolModel.js"

/** The graph, its model (to count calls) and the question that starts it. */
export const weatherAgent = (city: string, answer = "Sunny.") => {
  const getWeather = tool(
    async ({ city }: { city: string }) => {
      // A failing tool call, for tests of errors inside a graph (ToolNode catches it).
      if (city === "Atlantis") throw new Error("no such city")
      return `Sunny in ${city}`
    },
    {
      name: "get_weather",
      description: "The weather in a city",
      schema: z.object({ city: z.string() })
    }
  )
  const model = new ScriptedToolModel([{ toolCalls: [{ name: "get_weather", args: { city } }] }, { text: answer }])
  const graph = new StateGraph(MessagesAnnotation)
    .addNode("agent", async (state: typeof MessagesAnnotation.State, config) => ({
      messages: [await model.invoke(state.messages, config)]
    }))
    .addNode("tools", new ToolNode([getWeather]))
    .addEdge(START, "agent")
    .addConditionalEdges("agent", toolsCondition, ["tools", END])
    .addEdge("tools", "agent")
    .compile()
  return { graph, model, input: { messages: [new HumanMessage(`Weather in ${city}?`)] } }
}

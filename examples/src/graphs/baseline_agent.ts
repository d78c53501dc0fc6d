/**
 * The baseline for the dev-server load bench (libs/bench/src/devserver_load.ts): the same scripted
 * model and system prompt as "memory_agent", with the same window of recent turns, and no memory
 * at all. Run side by side in one dev server, the difference between the two is Engram's share of
 * a run. Not listed in langgraph.json: the bench adds it to its own copy of the config.
 */
import { SystemMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { exampleModel } from "./model.js";

const model = exampleModel();
const systemPrompt = "You are a helpful assistant with long-term memory of this user.";

export const graph = new StateGraph(MessagesAnnotation)
  .addNode("model", async (state) => {
    // The last 6 turns (12 messages), as memory_agent's window keeps.
    const recent = state.messages.slice(-12);
    return { messages: [await model.invoke([new SystemMessage(systemPrompt), ...recent])] };
  })
  .addEdge(START, "model")
  .addEdge("model", END)
  .compile();

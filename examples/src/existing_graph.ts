/**
 * Adding Engram to a LangGraph graph you already have. The chatbot below was a one-node
 * `StateGraph(MessagesAnnotation)`; the lines marked `// +` give it long-term memory across
 * threads: recall before the model, the importance edge and remember after it. Quoted by
 * docs/graph.md and run by existing_graph.int.test.ts.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { SystemMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { END, START, StateGraph, type BaseCheckpointSaver } from "@langchain/langgraph";
import {
  buildSystemPrompt,
  createRecallNode,
  createRememberNode,
  createScoreNode,
  HeuristicImportanceScorer,
  MemoryState,
  routeByImportance,
  type Memory,
} from "engram";

export function buildChatbot(memory: Memory, model: BaseChatModel, checkpointer: BaseCheckpointSaver) {
  async function chatbot(state: typeof MemoryState.State, config: RunnableConfig) {
    const system = buildSystemPrompt({ procedures: state.procedures, summary: state.summary, recalled: state.recalled }); // +
    return { messages: [await model.invoke([new SystemMessage(system), ...state.messages], config)] };
  }
  return new StateGraph(MemoryState) // was: new StateGraph(MessagesAnnotation)
    .addNode("recall", createRecallNode({ memory })) // +
    .addNode("chatbot", chatbot)
    .addNode("score", createScoreNode({ scorer: new HeuristicImportanceScorer() })) // +
    .addNode("remember", createRememberNode({ memory })) // +
    .addEdge(START, "recall") // was: .addEdge(START, "chatbot")
    .addEdge("recall", "chatbot") // +
    .addEdge("chatbot", "score") // was: .addEdge("chatbot", END)
    .addConditionalEdges("score", routeByImportance(0.3), { remember: "remember", consolidate: END }) // +
    .addEdge("remember", END) // +
    .compile({ checkpointer });
}

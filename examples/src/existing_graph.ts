/**
 * Adding Engram to a LangGraph graph you already have. The chatbot below was a one-node
 * `StateGraph(MessagesAnnotation)`; the lines marked `// +` give it long-term memory across
 * threads: recall before the model, the importance edge and remember after it. Quoted by
 * docs/graph.md and run by existing_graph.int.test.ts.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { SystemMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { Annotation, END, MessagesAnnotation, MessagesValue, START, StateGraph, StateSchema, type BaseCheckpointSaver } from "@langchain/langgraph";
import { HeuristicImportanceScorer, type Memory } from "engram";
import {
  buildSystemPrompt,
  createRecallNode,
  createRememberNode,
  createScoreNode,
  EngramAnnotation,
  engramStateFields,
  MemoryState,
  routeByImportance,
} from "engram/graph";
import { z } from "zod";

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

/** A state of your own with Engram's channels merged in: either form works with the nodes above. */
export const SchemaState = new StateSchema({ messages: MessagesValue, ...engramStateFields, topic: z.string().default("") });
export const AnnotationState = Annotation.Root({ ...MessagesAnnotation.spec, ...EngramAnnotation.spec, topic: Annotation<string> });

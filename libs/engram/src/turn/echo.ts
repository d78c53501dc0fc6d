import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import { stripEngramContext, type EngramContext } from "./engram_context.js";
import { isAi, textOf } from "./messages.js";

/** What a graph state showed the model, as far as the state holds it (any channel may be absent). */
export function contextOf(state: { summary?: string; procedures?: EngramContext["procedures"]; recalled?: EngramContext["recalled"] }): EngramContext {
  return {
    ...(state.summary !== undefined ? { summary: state.summary } : {}),
    ...(state.procedures !== undefined ? { procedures: state.procedures } : {}),
    ...(state.recalled !== undefined ? { recalled: state.recalled } : {}),
  };
}

/**
 * The messages with what Engram put into the prompt taken out of the model's replies (a model may
 * echo its prompt: fakes do, some real models partly do), so it is never stored as a new memory.
 * A reply left with no text is dropped; human messages are what the user said and stay as they are.
 */
export function withoutEngramContext(messages: readonly BaseMessage[], context: EngramContext): BaseMessage[] {
  return messages.flatMap((message) => {
    if (!isAi(message)) return [message];
    const text = textOf(message);
    const kept = stripEngramContext(text, context);
    if (kept === text) return [message];
    if (kept === "") return [];
    return [new AIMessage({ content: kept, ...(message.id !== undefined ? { id: message.id } : {}) })];
  });
}

import type { BaseMessage } from "@langchain/core/messages";
import { SystemMessage } from "@langchain/core/messages";
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import type { RunnableConfig, RunnableInterface } from "@langchain/core/runnables";
import { describeValue } from "../../core/describe.js";
import { EngramError } from "../../core/errors.js";
import { buildSystemPrompt, DEFAULT_SYSTEM_PROMPT } from "../prompt.js";
import { checkRunOwner, requireChannels } from "../channels.js";
import type { MemoryStateUpdate, StateWith } from "../state.js";

/** A chat model, or one with tools bound (`model.bindTools(...)`): anything that maps messages to a message. */
export type ChatModelLike = RunnableInterface<BaseLanguageModelInput, BaseMessage>;

export interface ModelNodeOptions {
  model: ChatModelLike;
  /** Your instructions, first in the system prompt. @default DEFAULT_SYSTEM_PROMPT */
  systemPrompt?: string;
}

/**
 * The `model` node: one call with the system prompt (instructions, core blocks, learned
 * instructions, running summary, recalled memories) and the window of messages. The window is the
 * state's messages: consolidation at the end of each turn keeps them to the window, so the model
 * sees the kept turns plus the turn in progress.
 */
export function createModelNode(options: ModelNodeOptions) {
  if (options?.model === null || typeof options?.model !== "object" || typeof options.model.invoke !== "function") {
    throw new EngramError("INVALID_OPTIONS", "model must be a chat model (or a Runnable from messages to a message).");
  }
  if (options.systemPrompt !== undefined && typeof options.systemPrompt !== "string") {
    throw new EngramError("INVALID_OPTIONS", `systemPrompt must be a string, got ${describeValue(options.systemPrompt)}.`);
  }
  return async function model(state: StateWith<"messages" | "procedures" | "summary" | "recalled">, config?: RunnableConfig): Promise<MemoryStateUpdate> {
    requireChannels(state, "model", ["messages", "procedures", "summary", "recalled"]);
    // A resumed run starts here, not at recall: the thread's window is shown to its owner only.
    checkRunOwner(state, config, "The memory graph");
    // System messages in the state (a user's own) join the one system prompt: several system
    // messages, or one that is not first, are refused by some providers.
    // A client that sends its system message with every request adds a copy each turn: each
    // text is given once.
    const own = [...new Set(state.messages.filter((m) => m.getType() === "system").map((m) => m.text.trim()).filter(Boolean))];
    const system = buildSystemPrompt({
      base: [options.systemPrompt ?? DEFAULT_SYSTEM_PROMPT, ...own].join("\n\n"),
      procedures: state.procedures,
      summary: state.summary,
      recalled: state.recalled,
    });
    const conversation = state.messages.filter((m) => m.getType() !== "system");
    const reply = await options.model.invoke([new SystemMessage(system), ...conversation], config);
    return { messages: [reply] };
  };
}

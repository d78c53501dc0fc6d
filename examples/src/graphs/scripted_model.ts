import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";

/** How every scripted reply starts, so nobody mistakes it for a real model's answer. */
export const SCRIPTED_PREFIX = "[scripted reply: no model configured]";

/**
 * A stand-in chat model for running the example graphs offline (Studio, tests, demos) when no
 * real model is configured. It writes no free text of its own: each reply says it is scripted,
 * echoes the user's message, and lists what the memory put in its prompt (the running summary and
 * the recalled memories), so you can watch the memory work without an LLM.
 */
export class ScriptedChatModel extends BaseChatModel {
  static override lc_name(): string {
    return "ScriptedChatModel";
  }

  _llmType(): string {
    return "scripted";
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const text = scriptedReply(messages);
    return { generations: [{ text, message: new AIMessage(text) }] };
  }
}

/** The reply the scripted model gives to these messages. */
export function scriptedReply(messages: readonly BaseMessage[]): string {
  const system = messages.filter((m) => m.getType() === "system").map((m) => m.text).join("\n");
  const lastHuman = [...messages].reverse().find((m) => m.getType() === "human")?.text ?? "";
  const recalled = section(system, /<recalled_memories>\n([\s\S]*?)\n<\/recalled_memories>/)
    .split("\n")
    .filter((line) => line.startsWith("- "))
    .map((line) => line.slice(2));
  const summary = section(system, /Summary of the earlier conversation[^\n]*:\n([\s\S]*?)(?:\n\n|$)/);
  const lines = [`${SCRIPTED_PREFIX} You said: "${lastHuman}".`];
  lines.push(recalled.length > 0 ? `I recall:\n${recalled.map((r) => `- ${r}`).join("\n")}` : "I recall nothing relevant yet.");
  if (summary !== "") lines.push(`Earlier in this conversation: ${summary}`);
  return lines.join("\n");
}

function section(text: string, pattern: RegExp): string {
  return pattern.exec(text)?.[1]?.trim() ?? "";
}

import type { BaseMessage } from "@langchain/core/messages";

/** Text of a message (text parts of multimodal content joined), "" when it has none. */
export function textOf(message: BaseMessage): string {
  return message.text;
}

export function isHuman(message: BaseMessage): boolean {
  return message.getType() === "human";
}

export function isAi(message: BaseMessage): boolean {
  return message.getType() === "ai";
}

/** Index of the latest human message, -1 when there is none. */
export function lastHumanIndex(messages: readonly BaseMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (isHuman(messages[i]!)) return i;
  return -1;
}

/**
 * A human message that is not the user's: the summary `summarizationMiddleware` (langchain) puts
 * in place of the messages it summarized ("Here is a summary of the conversation to date: ..."),
 * marked `additional_kwargs.lc_source: "summarization"`, under the id of the first one it replaced.
 */
export function isConversationSummary(message: BaseMessage): boolean {
  return isHuman(message) && message.additional_kwargs?.lc_source === "summarization";
}

/**
 * The current exchange: the latest human message and the AI replies after it that carry text
 * (tool-call-only steps and tool results are left out: they are plumbing, not conversation).
 * None when the latest human message is a conversation summary: the user's message of the turn
 * was summarized away (a summarization step inside the run), and the summary is a model's text,
 * not the user's words; stored as the exchange, it was filed as what the user said.
 */
export function lastExchange(messages: readonly BaseMessage[]): BaseMessage[] {
  const start = lastHumanIndex(messages);
  if (start < 0 || isConversationSummary(messages[start]!)) return [];
  return messages.slice(start).filter((m, i) => (i === 0 || isAi(m)) && textOf(m).trim() !== "");
}

const ROLES: Record<string, string> = { human: "user", ai: "assistant", system: "system", tool: "tool" };

/** `user: ...\nassistant: ...`, the shape the importance scorers read. */
export function exchangeText(messages: readonly BaseMessage[]): string {
  return messages
    .filter((m) => textOf(m).trim() !== "")
    .map((m) => `${ROLES[m.getType()] ?? m.getType()}: ${textOf(m).trim()}`)
    .join("\n");
}

/**
 * Ids of the system messages whose text an earlier system message of the conversation has. System
 * messages never leave the window, so a client that sends its system message with every request
 * would pile a copy per turn into the thread for ever: the doors remove the repeats at the end of
 * a turn, keeping the first of each text.
 */
export function repeatedSystemIds(messages: readonly BaseMessage[]): string[] {
  const seen = new Set<string>();
  const repeated: string[] = [];
  for (const message of messages) {
    if (message.getType() !== "system") continue;
    const text = message.text.trim();
    if (seen.has(text) && typeof message.id === "string") repeated.push(message.id);
    seen.add(text);
  }
  return repeated;
}

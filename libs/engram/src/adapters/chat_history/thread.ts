import type { BaseMessage } from "@langchain/core/messages";
import { deterministicId } from "../../core/ids.js";
import { textOf } from "../../turn/messages.js";

/**
 * Messages of a thread with an id each. A chat history may keep messages without ids (a
 * `RunnableWithMessageHistory` turn has none) or drop them; a list history is append-only, so a
 * message's position, role and text identify it, the same in every process that reads the list.
 */
export interface IdentifiedMessage {
  message: BaseMessage;
  id: string;
}

export function identify(messages: readonly BaseMessage[], userId: string, threadId: string): IdentifiedMessage[] {
  return messages.map((message, index) => ({
    message,
    id:
      typeof message.id === "string" && message.id !== ""
        ? message.id
        : deterministicId("engram-chat-history", userId, threadId, String(index), message.getType(), textOf(message)),
  }));
}

/**
 * The thread's exchanges: each human message with the AI replies that carry text after it, up to
 * the next human message. An exchange without a reply yet is left out (it is still in progress).
 */
export function exchanges(messages: readonly IdentifiedMessage[]): IdentifiedMessage[][] {
  const out: IdentifiedMessage[][] = [];
  let current: IdentifiedMessage[] | undefined;
  for (const item of messages) {
    const type = item.message.getType();
    if (type === "human") {
      if (current && current.length > 1) out.push(current);
      current = [item];
    } else if (type === "ai" && current && textOf(item.message).trim() !== "") {
      current.push(item);
    }
  }
  if (current && current.length > 1) out.push(current);
  return out;
}

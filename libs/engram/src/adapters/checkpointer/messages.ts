import { isDeltaSnapshot } from "@langchain/langgraph-checkpoint";
import { shortHash } from "../../core/ids.js";
import { contentText } from "../../working/message_text.js";

/** A human or AI message of a checkpoint, in the shape `Memory.add` takes. */
export type FilableMessage = {
  /** What makes the message unique in its thread: its id, or a hash of role and text. */
  key: string;
  role: "user" | "assistant";
  content: string;
  id?: string;
};

/** The parts of a LangChain message read here (structural, so serialized forms work too). */
interface MessageLike {
  content?: unknown;
  id?: unknown;
  type?: unknown;
  getType?: () => string;
  _getType?: () => string;
}

const ROLE_BY_TYPE: Record<string, FilableMessage["role"]> = {
  human: "user",
  ai: "assistant",
  AIMessageChunk: "assistant",
};

/**
 * The human and AI messages with text in a checkpoint's messages channel, in order. System and
 * tool messages, tool-call-only AI messages and non-text parts are left out: long-term memory is
 * for what the user and the assistant said. The channel's value may be a plain array or a
 * `DeltaSnapshot` (LangGraph's experimental `DeltaChannel`); anything else gives nothing.
 */
export function filableMessages(channelValue: unknown): FilableMessage[] {
  const value = isDeltaSnapshot(channelValue) ? channelValue.value : channelValue;
  if (!Array.isArray(value)) return [];
  const out: FilableMessage[] = [];
  for (const item of value as unknown[]) {
    if (item === null || typeof item !== "object") continue;
    const message = item as MessageLike;
    const type = message.getType?.() ?? message._getType?.() ?? message.type;
    const role = typeof type === "string" ? ROLE_BY_TYPE[type] : undefined;
    if (role === undefined) continue;
    const content = contentText(message.content).trim();
    if (content.length === 0) continue;
    const id = typeof message.id === "string" && message.id.length > 0 ? message.id : undefined;
    // Without an id, role and text identify the message (Memory derives its record id the same way).
    const key = id !== undefined ? `id:${id}` : `text:${role}:${shortHash(content)}`;
    out.push(id === undefined ? { key, role, content } : { key, role, content, id });
  }
  return out;
}

/**
 * Normalises chat messages (mem0's `{ role, content }` or LangChain messages) into the texts `add`
 * stores.
 */
import { EngramError } from "../core/errors.js";
import { isBlank, repairText } from "../core/text.js";

/** A chat message as mem0 users pass it, or any LangChain `BaseMessage`. */
export interface ChatMessageInput {
  role: string;
  content: string | ReadonlyArray<Record<string, unknown>>;
  id?: string;
}

/** The parts of a LangChain `BaseMessage` this module reads (kept structural: no import needed). */
interface LangChainMessageLike {
  content: unknown;
  id?: string;
  getType?: () => string;
  _getType?: () => string;
}

export interface NormalizedMessage {
  role: string;
  text: string;
  id?: string;
}

const ROLE_BY_TYPE: Record<string, string> = {
  human: "user",
  ai: "assistant",
  system: "system",
  tool: "tool",
  function: "tool",
  generic: "user",
};

/**
 * Turns chat messages into (role, text) pairs. Multimodal content keeps its text parts; images,
 * audio and other parts are skipped and reported in `warnings`, never silently dropped.
 */
export function normalizeMessages(messages: ReadonlyArray<unknown>): { messages: NormalizedMessage[]; warnings: string[] } {
  const out: NormalizedMessage[] = [];
  const warnings: string[] = [];
  messages.forEach((message, index) => {
    if (message === null || typeof message !== "object") {
      throw new EngramError("INVALID_CONTENT", `Message ${index} is not a chat message object.`);
    }
    const like = message as LangChainMessageLike & Partial<ChatMessageInput>;
    const type = like.getType?.() ?? like._getType?.();
    const given = type !== undefined ? ROLE_BY_TYPE[type] ?? type : like.role;
    // A role is stored as metadata: made safe like any metadata text (core/text.ts).
    const role = typeof given === "string" ? repairText(given).trim() : given;
    if (typeof role !== "string" || role.length === 0) {
      throw new EngramError("INVALID_CONTENT", `Message ${index} has no role.`);
    }
    const { text, skipped } = textOf(like.content, index);
    if (skipped.length > 0) {
      warnings.push(`Message ${index}: skipped non-text content (${skipped.join(", ")}); text parts kept.`);
    }
    // A message of invisible characters only (or one broken emoji) is skipped, not refused: its
    // batch-mates are stored.
    if (isBlank(repairText(text))) {
      warnings.push(`Message ${index}: no text content; nothing stored for it.`);
      return;
    }
    const normalized: NormalizedMessage = { role, text };
    if (typeof like.id === "string" && like.id.length > 0) normalized.id = like.id;
    out.push(normalized);
  });
  return { messages: out, warnings };
}

function textOf(content: unknown, index: number): { text: string; skipped: string[] } {
  if (typeof content === "string") return { text: content, skipped: [] };
  if (!Array.isArray(content)) {
    throw new EngramError("INVALID_CONTENT", `Message ${index} content must be a string or an array of content parts.`);
  }
  const texts: string[] = [];
  const skipped: string[] = [];
  for (const part of content as unknown[]) {
    if (typeof part === "string") texts.push(part);
    else if (part && typeof part === "object" && (part as { type?: unknown }).type === "text") {
      const text = (part as { text?: unknown }).text;
      if (typeof text === "string") texts.push(text);
    } else {
      skipped.push(String((part as { type?: unknown } | null)?.type ?? "unknown"));
    }
  }
  return { text: texts.join("\n"), skipped };
}

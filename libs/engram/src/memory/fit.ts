/**
 * Fits `add`'s input to the content limit: one item per text or message, or linked parts of a long
 * one (`oversize: "split"`).
 */
import { EngramError } from "../core/errors.js";
import { deterministicId } from "../core/ids.js";
import { safeContent, splitText } from "../core/text.js";
import type { Metadata, Scope } from "../core/types.js";
import { validateContent } from "../core/validate.js";
import { describeValue } from "../core/describe.js";

/** What `add` stores for one text or message: one item, or several linked parts of it. */
export interface FittedItem {
  text: string;
  role?: string;
  messageId?: string;
  /** 1-based position of this part and how many parts the message made; absent when it was not cut. */
  part?: { index: number; count: number };
}

/** `add`'s `oversize` option, checked. */
export function validateOversize(value: unknown): "refuse" | "split" {
  if (value === undefined) return "refuse";
  if (value === "refuse" || value === "split") return value;
  throw new EngramError("INVALID_OPTIONS", `oversize must be "refuse" or "split", got ${describeValue(value)}.`);
}

/**
 * Makes one text safe to store (core/text.ts) and, when it is longer than `maxChars`, refuses it
 * (`CONTENT_TOO_LARGE`) or cuts it into parts, as `oversize` says.
 */
export function fitText(
  item: { text: unknown; role?: string; messageId?: string },
  maxChars: number,
  oversize: "refuse" | "split",
): FittedItem[] {
  const base = {
    ...(item.role !== undefined ? { role: item.role } : {}),
    ...(item.messageId !== undefined ? { messageId: item.messageId } : {}),
  };
  if (oversize === "refuse") return [{ ...base, text: validateContent(item.text, maxChars) }];
  const text = safeContent(item.text);
  if (text.length <= maxChars) return [{ ...base, text }];
  const parts = splitText(text, maxChars);
  return parts.map((part, i) => ({ ...base, text: part, part: { index: i + 1, count: parts.length } }));
}

/**
 * The deterministic id of a stored item: from the message id when there is one (the same message
 * of the same thread is the same record); for a summary that names the messages it summarizes
 * (`source.messageIds`), from those (a summary model words the same turns differently each time it
 * runs: a turn run again after a crash must not file them twice); else from the content and the
 * caller's metadata, when it has any (a replay passes the same; the same words filed under
 * `{ project: "apollo" }` and `{ project: "gemini" }` are two memories: with the content alone the
 * second add was taken for a replay, returned its metadata as if stored and stored nothing). A part
 * adds its position, so the parts of one message are distinct records and a replay finds each again.
 */
export function itemId(scope: Scope, kind: string, item: FittedItem, summarizes?: readonly string[], metadata: Metadata = {}): string {
  const part = item.part === undefined ? [] : [`part ${item.part.index}/${item.part.count}`];
  if (item.messageId) return deterministicId("message", scope.userId, scope.agentId, scope.threadId, item.messageId, ...part);
  if (kind === "summary" && summarizes !== undefined && summarizes.length > 0) {
    return deterministicId("summary", scope.userId, scope.agentId, scope.threadId, JSON.stringify(summarizes), ...part);
  }
  // No metadata, no extra part: the ids of such records are those earlier versions gave them.
  const keys = Object.keys(metadata).sort();
  const tagged = keys.length === 0 ? [] : [JSON.stringify(keys.map((key) => [key, metadata[key]]))];
  return deterministicId("content", scope.userId, scope.agentId, scope.threadId, kind, item.role, item.text, ...part, ...tagged);
}

/** The metadata of a part: `part` and `parts` link it to its siblings (the same source). */
export function partMetadata(metadata: Metadata, item: FittedItem): Metadata {
  return item.part === undefined ? metadata : { ...metadata, part: item.part.index, parts: item.part.count };
}

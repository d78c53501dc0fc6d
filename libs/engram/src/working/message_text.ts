import type { BaseMessage } from "@langchain/core/messages";

/**
 * The text of a message's content: the string itself, or the text parts of a multimodal array
 * joined by newlines. Images and other non-text parts are left out (providers price them
 * separately, and long-term memory keeps what was said). Read structurally, so serialized
 * messages (a checkpoint's plain objects) work as well as `BaseMessage` instances.
 */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const texts: string[] = [];
  for (const part of content as unknown[]) {
    if (typeof part === "string") texts.push(part);
    else if (part !== null && typeof part === "object" && (part as { type?: unknown }).type === "text") {
      const text = (part as { text?: unknown }).text;
      if (typeof text === "string") texts.push(text);
    }
  }
  return texts.join("\n");
}

/** The text of a message: `contentText` of its content. */
export function messageText(message: BaseMessage): string {
  return contentText((message as { content: unknown }).content);
}

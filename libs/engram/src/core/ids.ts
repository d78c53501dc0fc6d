import { createHash } from "node:crypto";

/**
 * A UUID-shaped id derived from its parts, so that the same input (same user, thread and message,
 * or the same user and content) always gives the same id: replays and retries never duplicate.
 */
export function deterministicId(...parts: Array<string | undefined>): string {
  const hash = createHash("sha256");
  // A separator that cannot appear inside JSON-escaped parts keeps ("ab","c") apart from ("a","bc").
  hash.update(parts.map((part) => JSON.stringify(part ?? null)).join("\u0000"));
  const hex = hash.digest("hex");
  // Shape it as a version-5-style UUID so it passes any UUID validation downstream.
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Short stable hash, for collection names derived from user ids. */
export function shortHash(text: string, length = 32): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

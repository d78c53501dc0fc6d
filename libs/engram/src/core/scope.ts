import { EngramError } from "./errors.js";
import { MEMORY_KINDS, type MemoryKind, type Scope } from "./types.js";
import { shortHash } from "./ids.js";
import { checkIdText } from "./text.js";
import { describeValue } from "./describe.js";
import { isArray, validateOptionObject } from "./validate.js";

/** Longest accepted user, agent or thread id. */
export const MAX_ID_LENGTH = 256;

/**
 * Checks a scope and returns a clean copy. The one gate every read and write passes: a missing,
 * empty or non-string id, or an operator-shaped value meant to widen a filter (`{ $ne: "x" }`),
 * is refused here, before anything reaches the store.
 */
export function validateScope(input: unknown): Scope {
  if (input === null || typeof input !== "object") {
    throw new EngramError("INVALID_USER_ID", "A scope with a userId is required on every call, e.g. { userId: \"alice\" }.");
  }
  const raw = readScope(input as Record<string, unknown>);
  const userId = checkId(raw.userId, "userId", "INVALID_USER_ID");
  const scope: Scope = { userId };
  if (raw.agentId !== undefined) scope.agentId = checkId(raw.agentId, "agentId", "INVALID_SCOPE");
  if (raw.threadId !== undefined) scope.threadId = checkId(raw.threadId, "threadId", "INVALID_SCOPE");
  return scope;
}

/**
 * The options of a call that takes a scope and nothing else (`get`, `update`, `delete`,
 * `deleteAll`, `history`), or a scope and `extra` keys (`forget`'s rules): a key it does not know
 * is refused, not ignored. `deleteAll({ userId, thread_id })` (a typo for `threadId`, which
 * deleteAll refuses) used to erase every agent and thread of the user.
 */
export function validateScopeOptions(input: unknown, name: string, extra: readonly string[] = []): Scope {
  if (input === null || typeof input !== "object") return validateScope(input);
  validateOptionObject(input, `${name} options`, [...SCOPE_KEYS, ...extra], '{ userId: "alice" }');
  return validateScope(input);
}

const SCOPE_KEYS = ["userId", "agentId", "threadId"] as const;

/** The three fields, read once: a getter or Proxy trap that throws becomes a typed error. */
function readScope(raw: Record<string, unknown>): { userId: unknown; agentId: unknown; threadId: unknown } {
  try {
    return { userId: raw.userId, agentId: raw.agentId, threadId: raw.threadId };
  } catch (error) {
    throw new EngramError("INVALID_USER_ID", `The scope could not be read: ${error instanceof Error ? error.message : describeValue(error)}.`, {
      cause: error,
    });
  }
}

function checkId(value: unknown, name: string, code: "INVALID_USER_ID" | "INVALID_SCOPE"): string {
  if (value === undefined || value === null) {
    throw new EngramError(code, `${name} is required.`);
  }
  if (typeof value !== "string") {
    throw new EngramError(
      code,
      `${name} must be a string, got ${isArray(value) ? "an array" : typeof value}` +
        (typeof value === "object" ? " (filter operators are not accepted as ids)" : "") + ".",
    );
  }
  if (value.trim().length === 0) throw new EngramError(code, `${name} must not be empty.`);
  if (value.length > MAX_ID_LENGTH) {
    throw new EngramError(code, `${name} is longer than ${MAX_ID_LENGTH} characters.`);
  }
  // Refused, not repaired: two ids that differ only in a broken character must not become one user.
  return checkIdText(value, name, code);
}

export function validateKind(value: unknown): MemoryKind {
  if (typeof value === "string" && (MEMORY_KINDS as readonly string[]).includes(value)) return value as MemoryKind;
  throw new EngramError("INVALID_OPTIONS", `kind must be one of ${MEMORY_KINDS.join(", ")}, got ${describeValue(value)}.`);
}

/** Valid Chroma collection name characters for the prefix. */
const PREFIX_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/;

export function validatePrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new EngramError(
      "INVALID_OPTIONS",
      `prefix must be 1-63 characters of letters, digits, "_" or "-", starting with a letter or digit; got ${describeValue(prefix)}.`,
    );
  }
  return prefix;
}

/**
 * Where a user's memories live: one Chroma collection per user. Recall then touches only that
 * user's vectors, so its cost does not grow with the number of other users (a filtered query over
 * one shared collection does; docs/store-layout.md has the measurements). The name hashes the user
 * id: ids may hold characters Chroma refuses, and names should not reveal who a user is.
 */
export function collectionNameFor(prefix: string, userId: string): string {
  return `${prefix}-u-${shortHash(userId)}`;
}

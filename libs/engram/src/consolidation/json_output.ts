import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { z } from "zod";
import { EngramError, isEngramError } from "../core/errors.js";
import { reportUsage, type UsageHook } from "../core/token_usage.js";

/** Options of {@link invokeForJson}. */
export interface JsonCallOptions {
  /** Names the call in errors, e.g. "fact extraction". */
  what: string;
  /** Aborts the model call (the memory is closing). */
  signal?: AbortSignal;
  /** Further attempts after an unusable reply, each told what was wrong. @default 1 */
  retries?: number;
  /** Told the tokens of every call, retries included (`memory.usage()`). */
  onUsage?: UsageHook;
}

export type JsonParse<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Asks a chat model for JSON and returns it validated by `schema`. Works with any chat model,
 * tool calling or not: the prompt asks for JSON, and the reply is read even when the model wraps
 * it in prose, in a code fence or after a `<think>` block. An unusable reply (no JSON, or JSON the
 * schema refuses) is sent back once with the reason; a second unusable reply is refused with
 * `MODEL_OUTPUT_INVALID`. Nothing is written by this function, so a refusal leaves no partial
 * state behind.
 */
export async function invokeForJson<S extends z.ZodType>(
  model: BaseChatModel,
  messages: BaseMessage[],
  schema: S,
  options: JsonCallOptions,
): Promise<z.output<S>> {
  const retries = options.retries ?? 1;
  const conversation = [...messages];
  let lastError = "";
  let lastReply = "";
  for (let attempt = 0; attempt <= retries; attempt += 1) {
    const reply = await callModel(model, conversation, options);
    const parsed = parseJsonOutput(reply, schema);
    if (parsed.ok) return parsed.value;
    lastError = parsed.error;
    lastReply = reply;
    conversation.push(
      new AIMessage(echoOf(reply)),
      new HumanMessage(
        `That reply could not be used: ${parsed.error}\n` +
          "Answer again with only the JSON object, exactly in the format asked for, and nothing else.",
      ),
    );
  }
  throw new EngramError(
    "MODEL_OUTPUT_INVALID",
    `The model's ${options.what} output was unusable after ${retries + 1} attempts: ${lastError}`,
    { details: { what: options.what, reply: lastReply.slice(0, 2_000), error: lastError } },
  );
}

/**
 * Most characters of an unusable reply sent back with the retry. A reply a model looped on until
 * its token limit, sent back whole, could overflow the retry's context (a model error, retried
 * later, looping again): the retry gets its beginning, which holds whatever it meant, and a note.
 * Well above any usable answer (50 facts of 500 characters with their entities).
 */
const MAX_ECHO_CHARS = 50_000;

function echoOf(reply: string): string {
  if (reply.length <= MAX_ECHO_CHARS) return reply;
  return `${reply.slice(0, MAX_ECHO_CHARS)}\n[... the rest of this reply, ${reply.length - MAX_ECHO_CHARS} more characters, is left out]`;
}

/**
 * Finds the JSON value in a model's reply and validates it. Candidates, in order: fenced code
 * blocks, the whole reply, then each balanced `{...}` or `[...]` span. The first candidate that
 * parses and passes the schema wins; otherwise the error names what was wrong with the first
 * candidate that parsed (the schema's complaint is what helps a model on a retry).
 */
export function parseJsonOutput<S extends z.ZodType>(text: string, schema: S): JsonParse<z.output<S>> {
  let firstSchemaError: string | undefined;
  for (const candidate of jsonCandidates(text)) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      continue;
    }
    const result = schema.safeParse(value);
    if (result.success) return { ok: true, value: result.data };
    firstSchemaError ??= z.prettifyError(result.error);
  }
  if (firstSchemaError !== undefined) return { ok: false, error: `the JSON does not match the format:\n${firstSchemaError}` };
  return { ok: false, error: "no JSON object was found in the reply." };
}

/**
 * Characters the search for balanced spans may scan in all, per character of the reply. A span is
 * scanned from each bracket, so a degenerate reply (a model looping on "{{{{" or "[[[[" until its
 * token limit, or JSON cut off mid-way) cost the square of its length: 50,000 characters held
 * the event loop, and every user's turn with it, for over 40 s. The JSON a model means is found
 * within a few passes over its reply; past the budget, the reply counts as having no JSON.
 */
const SCAN_PER_CHAR = 16;
const MIN_SCAN = 100_000;

/** Texts that may hold the JSON, most likely first, without duplicates. */
export function jsonCandidates(text: string): string[] {
  const cleaned = withoutThinking(text).trim();
  const candidates: string[] = [];
  const seen = new Set<string>();
  const push = (candidate: string): void => {
    const trimmed = candidate.trim();
    if (trimmed.length > 0 && !seen.has(trimmed)) {
      seen.add(trimmed);
      candidates.push(trimmed);
    }
  };
  for (const match of cleaned.matchAll(/```[a-zA-Z0-9_-]*[ \t]*\r?\n?([\s\S]*?)```/g)) push(match[1] ?? "");
  push(cleaned);
  const budget = { left: Math.max(MIN_SCAN, SCAN_PER_CHAR * cleaned.length) };
  for (let start = 0; start < cleaned.length && budget.left > 0; start += 1) {
    const char = cleaned[start];
    if (char !== "{" && char !== "[") continue;
    const end = matchingClose(cleaned, start, budget);
    if (end !== -1) push(cleaned.slice(start, end + 1));
  }
  return candidates;
}

/**
 * The reply without its `<think>...</think>` blocks, in one pass (a lazy regular expression
 * rescans to the end from every unclosed `<think>`: quadratic). An unclosed block is kept.
 */
function withoutThinking(text: string): string {
  const lower = text.toLowerCase();
  let out = "";
  let from = 0;
  for (;;) {
    const open = lower.indexOf("<think>", from);
    const close = open === -1 ? -1 : lower.indexOf("</think>", open + 7);
    if (close === -1) return out + text.slice(from);
    out += text.slice(from, open);
    from = close + 8;
  }
}

/**
 * Index of the bracket closing the one at `start`, skipping brackets inside JSON strings; -1 if
 * none, or if the scan used up what is `left` of the budget (each character scanned costs one).
 */
function matchingClose(text: string, start: number, budget: { left: number }): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i += 1) {
    if ((budget.left -= 1) < 0) return -1;
    const char = text[i]!;
    if (inString) {
      if (char === "\\") i += 1;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === "{") stack.push("}");
    else if (char === "[") stack.push("]");
    else if (char === "}" || char === "]") {
      if (stack.pop() !== char) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

async function callModel(model: BaseChatModel, messages: BaseMessage[], options: JsonCallOptions): Promise<string> {
  try {
    const call = model.invoke(messages, options.signal ? { signal: options.signal } : undefined);
    // A model that ignores the signal (a provider SDK that never answers) is left behind at once:
    // the call's own settling, later, is swallowed.
    const reply = options.signal ? await untilAborted(call, options.signal) : await call;
    reportUsage(options.onUsage, reply);
    return reply.text;
  } catch (cause) {
    if (isEngramError(cause)) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new EngramError("MODEL_ERROR", `The model call for ${options.what} failed: ${message}`, { cause, details: { what: options.what } });
  }
}

/** `promise`, or the signal's reason as soon as it aborts, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      promise.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

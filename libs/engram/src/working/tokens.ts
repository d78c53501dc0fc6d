import type { BaseMessage } from "@langchain/core/messages";
import { Tiktoken } from "js-tiktoken/lite";
import cl100kBase from "js-tiktoken/ranks/cl100k_base";
import { describeValue } from "../core/describe.js";
import { EngramError } from "../core/errors.js";
import { contentText } from "./message_text.js";
import { TextCounts } from "./text_counts.js";

/**
 * Tokens a chat API spends on each message besides its text: the start and end markers, the role
 * and a separator. OpenAI's published counting recipe for cl100k-era chat models uses 3 per
 * message plus 1 for a name; 4 keeps the role in and errs on the side of a fuller prompt.
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;

let encoder: Tiktoken | undefined;

/**
 * The cl100k_base encoder, built on first use: its ranks ship inside js-tiktoken (nothing is
 * downloaded), but parsing them takes a noticeable moment, so importing this module stays cheap.
 */
function getEncoder(): Tiktoken {
  encoder ??= new Tiktoken(cl100kBase);
  return encoder;
}

/**
 * Counts of recently seen texts. BPE in JavaScript costs about 0.2 ms per 100 characters, and the
 * same texts come back on every turn (the running summary, its sentences), so a bounded cache pays
 * for itself. Bounded in characters too (text_counts.ts): 2,000,000 characters, 4 MB at most.
 */
export const textCounts = new TextCounts(10_000, 2_000_000, 20_000);

/** Token count of plain text. Special-token strings ("<|endoftext|>") count as ordinary text. */
function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  const cached = textCounts.get(text);
  if (cached !== undefined) return cached;
  // Empty allowed/disallowed lists: user text that happens to contain a special token's spelling
  // must be counted, not rejected.
  const tokens = getEncoder().encode(text, [], []).length;
  textCounts.set(text, tokens);
  return tokens;
}

/** The structural parts of a message that cost tokens (read without trusting the class). */
interface MessageParts {
  content: unknown;
  name?: unknown;
  tool_calls?: ReadonlyArray<{ name?: unknown; args?: unknown }>;
  invalid_tool_calls?: ReadonlyArray<{ name?: unknown; args?: unknown }>;
}

/** Tool calls as the model wrote them: the tool's name and its JSON arguments. */
function toolCallText(message: MessageParts): string {
  const calls = [...(message.tool_calls ?? []), ...(message.invalid_tool_calls ?? [])];
  if (calls.length === 0) return "";
  return calls
    .map((call) => {
      const args = typeof call.args === "string" ? call.args : JSON.stringify(call.args ?? {});
      return `${typeof call.name === "string" ? call.name : ""}${args}`;
    })
    .join("\n");
}

interface CachedCount {
  content: unknown;
  toolCalls: unknown;
  invalidToolCalls: unknown;
  name: unknown;
  tokens: number;
}

/**
 * The window re-counts the same messages on every turn; a message's count is cached for as long
 * as its content, name and tool calls are the same values (a mutated message is counted again).
 */
const cache = new WeakMap<object, CachedCount>();

function countMessageTokens(message: BaseMessage): number {
  const parts = message as unknown as MessageParts;
  const cached = cache.get(message);
  if (
    cached !== undefined &&
    cached.content === parts.content &&
    cached.toolCalls === parts.tool_calls &&
    cached.invalidToolCalls === parts.invalid_tool_calls &&
    cached.name === parts.name
  ) {
    return cached.tokens;
  }
  let tokens =
    MESSAGE_OVERHEAD_TOKENS + countTextTokens(contentText(parts.content)) + countTextTokens(reasoningText(parts.content)) + countTextTokens(toolCallText(parts));
  if (typeof parts.name === "string" && parts.name.length > 0) tokens += countTextTokens(parts.name);
  cache.set(message, {
    content: parts.content,
    toolCalls: parts.tool_calls,
    invalidToolCalls: parts.invalid_tool_calls,
    name: parts.name,
    tokens,
  });
  return tokens;
}

/**
 * The reasoning a model sent back in its content: Anthropic's `thinking` blocks and LangChain's
 * standard `reasoning` blocks. Long-term memory leaves it out (it is not what was said), but a
 * provider bills it as input when the message is sent again, so the window counts it.
 */
function reasoningText(content: unknown): string {
  if (!Array.isArray(content)) return "";
  const texts: string[] = [];
  for (const part of content as unknown[]) {
    if (part === null || typeof part !== "object") continue;
    const { type, thinking, reasoning } = part as { type?: unknown; thinking?: unknown; reasoning?: unknown };
    if (type === "thinking" && typeof thinking === "string") texts.push(thinking);
    else if (type === "reasoning" && typeof reasoning === "string") texts.push(reasoning);
  }
  return texts.join("\n");
}

/**
 * Tokens of a text, or of chat messages as a chat model would be sent them, with the cl100k_base
 * encoding (GPT-4 / GPT-3.5; other models' tokenizers differ by a few percent, which a budget
 * tolerates). For messages: each message's text content, its name, the names and JSON arguments
 * of its tool calls, plus `MESSAGE_OVERHEAD_TOKENS` per message. Runs offline.
 */
export function countTokens(input: string | readonly BaseMessage[]): number {
  if (typeof input === "string") return countTextTokens(input);
  // A public function: a wrong value (one message, not a list of them; undefined) is a typed
  // error, not a TypeError from deep inside the loop.
  if (!Array.isArray(input)) {
    throw new EngramError("INVALID_CONTENT", `countTokens takes a text or an array of chat messages; got ${describeValue(input)}.`);
  }
  let total = 0;
  input.forEach((message: unknown, index) => {
    if (message === null || typeof message !== "object") {
      throw new EngramError("INVALID_CONTENT", `countTokens: message ${index} is not a chat message; got ${describeValue(message)}.`);
    }
    total += countMessageTokens(message as BaseMessage);
  });
  return total;
}

import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { EngramError } from "../core/errors.js";
import { isBlank, repairText } from "../core/text.js";
import { reportUsage, type UsageHook } from "../core/token_usage.js";
import { HeuristicImportanceScorer } from "../scoring/importance/heuristic.js";
import { tokenize } from "../scoring/tokenize.js";
import { messageText } from "../working/message_text.js";
import { countTokens } from "../working/tokens.js";
import { describeValue } from "../core/describe.js";
import { quotedLine } from "./framing.js";

/** What `summarize` folds together. */
export interface SummarizeInput {
  /** The running summary so far; "" when there is none. */
  previousSummary: string;
  /** Turns leaving the window, oldest first. System messages among them are ignored. */
  evicted: readonly BaseMessage[];
  /** Writes the new summary. Without one the summary is extractive (no model call). */
  model?: BaseChatModel;
  /** Budget of the running summary, in tokens (cl100k_base). @default 400 */
  maxTokens?: number;
  /** Told the tokens of the model call (`memory.usage()`). @default undefined */
  onUsage?: UsageHook;
}

export const DEFAULT_SUMMARY_MAX_TOKENS = 400;

/**
 * The prompt that folds evicted turns into the running summary (LangChain's progressive
 * summary, told what is worth keeping). `{summary}`, `{lines}` and `{maxWords}` are filled in.
 */
export const SUMMARY_PROMPT = `Progressively summarize the lines of conversation below, adding onto the previous summary, and return the new summary.
Keep what is worth remembering about the user: who they are, what they like and dislike, their plans, important dates, names, numbers, and anything they asked to be remembered. Keep facts from the previous summary unless the new lines change them. Drop small talk. Write plain sentences, at most {maxWords} words. Return only the summary.

Previous summary:
<<<
{summary}
>>>

New lines of conversation:
<<<
{lines}
>>>

New summary:`;

/** Tool results and a tool call's arguments can be whole documents; the summary prompt gets their beginning only. */
const MAX_TOOL_RESULT_CHARS = 1_000;

/** Assistant sentences rank at this fraction of their importance: the summary is about the user. */
const ASSISTANT_FACTOR = 0.5;

/** A sentence with no importance feature and fewer content words than this is filler ("ok thanks"). */
const MIN_FILLER_WORDS = 3;

const userScorer = new HeuristicImportanceScorer();
/** "I'd be happy to help", "I can check": an assistant talking about itself says nothing about the user. */
const assistantScorer = new HeuristicImportanceScorer({ weights: { selfDisclosure: 0 } });

/**
 * Folds the turns that left the window into the running summary, within `maxTokens`.
 *
 * With a `model`: one call with `SUMMARY_PROMPT`; an answer over budget is cut down extractively.
 * Without: an extractive summary. The previous summary and the evicted messages are split into
 * sentences, each ranked by heuristic importance (assistant sentences at half weight and without
 * the self-disclosure feature; tool results and tool calls left out; filler dropped), and the best that fit the budget are kept,
 * in their original order, one line per source (`user: ...`, `assistant: ...`). Deterministic:
 * ties go to the newer sentence. With nothing evicted and a summary within budget, the previous
 * summary is returned unchanged.
 */
export async function summarize(input: SummarizeInput): Promise<string> {
  const { previousSummary, evicted, model, maxTokens } = validateInput(input);
  const conversational = evicted.filter((m) => !isSystem(m));
  if (conversational.length === 0 && linesTokens(previousSummary.split("\n")) <= maxTokens) return previousSummary;
  if (model !== undefined && conversational.length > 0) {
    const written = await summarizeWithModel(model, previousSummary, conversational, maxTokens, input.onUsage);
    return countTokens(written) <= maxTokens ? written : extractiveSummary(written, [], maxTokens);
  }
  return extractiveSummary(previousSummary, conversational, maxTokens);
}

function validateInput(input: SummarizeInput): Required<Omit<SummarizeInput, "model" | "onUsage">> & { model: BaseChatModel | undefined } {
  if (input === null || typeof input !== "object") {
    throw new EngramError("INVALID_OPTIONS", "summarize expects { previousSummary, evicted, model?, maxTokens? }.");
  }
  const previousSummary = input.previousSummary ?? "";
  if (typeof previousSummary !== "string") {
    throw new EngramError("INVALID_CONTENT", `previousSummary must be a string ("" when there is none); got ${typeof previousSummary}.`);
  }
  if (!Array.isArray(input.evicted)) {
    throw new EngramError("INVALID_CONTENT", "evicted must be an array of chat messages.");
  }
  input.evicted.forEach((message, index) => {
    if (message === null || typeof message !== "object" || typeof (message as { getType?: unknown }).getType !== "function") {
      throw new EngramError("INVALID_CONTENT", `evicted[${index}] is not a LangChain chat message.`);
    }
  });
  const maxTokens = input.maxTokens ?? DEFAULT_SUMMARY_MAX_TOKENS;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new EngramError("INVALID_OPTIONS", `maxTokens must be a whole number of at least 1; got ${describeValue(input.maxTokens)}.`);
  }
  if (input.model !== undefined && typeof (input.model as { invoke?: unknown }).invoke !== "function") {
    throw new EngramError("INVALID_OPTIONS", "model must be a LangChain chat model.");
  }
  return { previousSummary, evicted: input.evicted, model: input.model, maxTokens };
}

function isSystem(message: BaseMessage): boolean {
  const type = message.getType();
  return type === "system" || type === "developer";
}

// ---- With a model ---------------------------------------------------------------------------------

async function summarizeWithModel(
  model: BaseChatModel,
  previousSummary: string,
  evicted: readonly BaseMessage[],
  maxTokens: number,
  onUsage: UsageHook | undefined,
): Promise<string> {
  // One pass over the template: filled one after another, a placeholder written inside the
  // summary or the turns ("{lines}") was taken for the template's own. A function replacement
  // keeps `$&`-like text in the conversation literal.
  const values: Record<string, string> = {
    maxWords: String(Math.max(1, Math.floor(maxTokens * 0.75))),
    summary: previousSummary.trim() === "" ? "(none yet)" : quotedLine(previousSummary.trim()),
    lines: transcript(evicted),
  };
  const prompt = SUMMARY_PROMPT.replace(/\{(maxWords|summary|lines)\}/g, (_match, name: string) => values[name]!);
  let output: string;
  try {
    const reply = await model.invoke([new HumanMessage(prompt)]);
    reportUsage(onUsage, reply);
    output = reply.text;
  } catch (error) {
    throw new EngramError("MODEL_ERROR", `The summary model failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  // A model's words are made safe like any content (core/text.ts): the running summary is kept in
  // the thread's checkpoint, where PostgreSQL refuses a NUL, and the record in the store.
  const summary = repairText(output)
    .replace(/^```[a-z]*\s*|\s*```$/gi, "")
    .replace(/^\s*(?:new\s+)?summary\s*:\s*/i, "")
    .trim();
  if (isBlank(summary)) {
    throw new EngramError("MODEL_OUTPUT_INVALID", "The summary model returned an empty summary.", { details: { output } });
  }
  return summary;
}

/** The evicted turns as `role: text` lines, tool calls and (shortened) results included. */
function transcript(messages: readonly BaseMessage[]): string {
  const lines: string[] = [];
  for (const message of messages) {
    const text = messageText(message).trim();
    const type = message.getType();
    // Every part of a line that the conversation wrote goes through quotedLine, the tool calls
    // too: a model's arguments repeat what the user asked for (a query holding ">>>" closed the
    // block early, and what followed it read as the prompt's own instructions).
    if (type === "tool") {
      const name = typeof message.name === "string" && message.name !== "" ? ` (${quotedLine(message.name)})` : "";
      const shown = text.length > MAX_TOOL_RESULT_CHARS ? `${text.slice(0, MAX_TOOL_RESULT_CHARS)}…` : text;
      lines.push(`tool result${name}: ${quotedLine(shown)}`);
      continue;
    }
    const role = quotedLine(roleLabel(message));
    if (text !== "") lines.push(`${role}: ${quotedLine(text)}`);
    for (const call of (message as { tool_calls?: ReadonlyArray<{ name?: string; args?: unknown }> }).tool_calls ?? []) {
      // Arguments can be whole documents too (a file to write, a page to post): their beginning only.
      const args = JSON.stringify(call.args ?? {});
      const shown = args.length > MAX_TOOL_RESULT_CHARS ? `${args.slice(0, MAX_TOOL_RESULT_CHARS)}…` : args;
      lines.push(`${role} called ${quotedLine(`${call.name ?? "a tool"}(${shown})`)}`);
    }
  }
  return lines.join("\n");
}

function roleLabel(message: BaseMessage): string {
  const type = message.getType();
  if (type === "human") return "user";
  if (type === "ai") return "assistant";
  const role = (message as { role?: unknown }).role;
  return typeof role === "string" && role !== "" ? role : type;
}

// ---- Extractive -----------------------------------------------------------------------------------

interface Sentence {
  text: string;
  /** The line it is rendered on (a line of the previous summary, or one message). */
  group: number;
  label: string;
  /** Position in the original order. */
  order: number;
  score: number;
  tokens: number;
}

const LABEL = /^(user|assistant):\s+/i;

function extractiveSummary(previousSummary: string, evicted: readonly BaseMessage[], maxTokens: number): string {
  const sources: Array<{ label: string; text: string }> = [];
  for (const line of previousSummary.split(/\r?\n/)) {
    const label = LABEL.exec(line);
    sources.push(label ? { label: label[1]!.toLowerCase(), text: line.slice(label[0].length) } : { label: "", text: line });
  }
  for (const message of evicted) {
    const type = message.getType();
    // Tool calls and results are the agent's mechanics; what they found is in the replies.
    if (type === "tool") continue;
    sources.push({ label: roleLabel(message), text: messageText(message) });
  }

  const sentences: Sentence[] = [];
  const seen = new Set<string>();
  sources.forEach((source, group) => {
    for (const text of splitSentences(source.text)) {
      const key = text.toLowerCase().replace(/[\s.!?]+/g, " ").trim();
      if (key === "" || seen.has(key)) continue;
      seen.add(key);
      const assistant = source.label === "assistant";
      const importance = sentenceImportance(text, assistant);
      if (importance === 0 && tokenize(text).length < MIN_FILLER_WORDS) continue;
      const score = assistant ? importance * ASSISTANT_FACTOR : importance;
      // A sentence longer than the whole budget is cut to fit it: left whole it could never be
      // picked, and when it was all there was (a model's one long sentence over budget, a long
      // message without a full stop) the summary came back empty, the running summary was lost
      // and the turns it stood for reached no summary record.
      const room = maxTokens - 3 - countTokens(source.label);
      const fitted = room >= 1 && countTokens(text) > room ? cutToTokens(text, room) : text;
      if (fitted === "") continue;
      sentences.push({ text: fitted, group, label: source.label, order: sentences.length, score, tokens: countTokens(fitted) });
    }
  });

  const ranked = [...sentences].sort((a, b) => b.score - a.score || b.order - a.order);
  // Greedy by rank with an estimate (a separator per sentence, a label per new line), then a count
  // of the rendered lines, dropping the lowest-ranked picks until it fits.
  const chosen: Sentence[] = [];
  const groups = new Set<number>();
  let estimate = 0;
  for (const sentence of ranked) {
    const labelCost = groups.has(sentence.group) ? 0 : countTokens(sentence.label) + 2;
    const cost = sentence.tokens + 1 + labelCost;
    if (estimate + cost > maxTokens) continue;
    chosen.push(sentence);
    groups.add(sentence.group);
    estimate += cost;
  }
  let lines = renderLines(chosen);
  while (chosen.length > 0 && linesTokens(lines) > maxTokens) {
    chosen.pop();
    lines = renderLines(chosen);
  }
  return lines.join("\n");
}

/**
 * Tokens of the lines joined by line breaks, counted line by line (each line's count is cached,
 * and most lines come back unchanged from the previous summary) plus one per break. BPE never
 * merges across a line break except into a single `.\n`-like token, so this never undercounts.
 */
function linesTokens(lines: readonly string[]): number {
  return lines.reduce((sum, line) => sum + countTokens(line), Math.max(0, lines.length - 1));
}

/**
 * A sentence's heuristic importance. Not cached: a process-wide cache held sentences of every
 * user's conversations (up to 10,000) for a saving of about 11 µs a sentence (a running summary
 * of 400 tokens is some 30 sentences).
 */
function sentenceImportance(text: string, assistant: boolean): number {
  return (assistant ? assistantScorer : userScorer).scoreSync({ text }).value;
}

function renderLines(chosen: readonly Sentence[]): string[] {
  const inOrder = [...chosen].sort((a, b) => a.order - b.order);
  const lines: string[] = [];
  let group = -1;
  for (const sentence of inOrder) {
    if (sentence.group !== group) {
      lines.push(sentence.label === "" ? sentence.text : `${sentence.label}: ${sentence.text}`);
      group = sentence.group;
    } else {
      lines[lines.length - 1] += ` ${sentence.text}`;
    }
  }
  return lines;
}

/**
 * The longest beginning of `text` within `limit` tokens, cut after a whole word where there is
 * one and marked with "…" ("" when not even that fits). Searched over a prefix of at most 10
 * characters a token, so a very long text costs a few counts of a bounded length.
 */
function cutToTokens(text: string, limit: number): string {
  const fits = (length: number) => countTokens(`${text.slice(0, length)}…`) <= limit;
  let low = 0;
  let high = Math.min(text.length, limit * 10);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  let cut = text.slice(0, low);
  // Never half a character (a lone surrogate) nor, when there is a space, half a word.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  const space = cut.search(/\s\S*$/);
  if (space > 0 && low < text.length && !/\s/.test(text.charAt(low))) cut = cut.slice(0, space);
  cut = cut.trimEnd();
  return cut === "" ? "" : `${cut}…`;
}

/** Sentences: split after `.`, `!` or `?` followed by a space, and at line breaks. */
function splitSentences(text: string): string[] {
  return text
    .split(/\r?\n|(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The LLM-judge ("J") protocol of the Mem0 paper (Chhikara et al., 2025; its evaluation/ folder),
 * for a run's rankings, when an OpenAI-compatible server is configured:
 *
 * 1. Answer: a reader model gets the question and the top-k retrieved turns, each with the time it
 *    was said, and answers in a few words (temperature 0), converting relative dates against the
 *    turn's date.
 * 2. Judge: a model gets the question, the gold answer and the generated answer, is told to be
 *    generous (same topic, same date in another format: CORRECT), and returns
 *    `{"label": "CORRECT"}` or `{"label": "WRONG"}` (JSON mode, temperature 0).
 * 3. J = the share of CORRECT, per category (1-4; adversarial questions are not asked) and overall.
 *
 * The prompts are this repository's wording of that protocol, not the paper's text: J figures here
 * compare the systems of one run with each other, not with the paper's table. Not part of
 * `npm test` (it needs a server); judge.test.ts runs it against a local fake server.
 */
import type { BaseMessageLike } from "@langchain/core/messages";
import { CATEGORY_IDS, type Category } from "./data.js";

/** One question to judge: what was asked, the gold answer, and what the system retrieved. */
export interface JudgeItem {
  question: string;
  gold: string;
  category: Category;
  /** The top-k retrieved turns, best first: the time they were said and their text. */
  memories: ReadonlyArray<{ time: string; text: string }>;
}

/** The part of a LangChain chat model the judge uses (ChatOpenAI in practice). */
export interface ChatLike {
  invoke(messages: BaseMessageLike[], options?: Record<string, unknown>): Promise<{ content: unknown; text?: string }>;
}

export type Label = "CORRECT" | "WRONG";

export interface JudgedItem {
  answer: string;
  label: Label;
  /** The judge's reply could not be read as a label (counted as WRONG). */
  unreadable?: boolean;
}

export interface JudgeScores {
  /** Share of CORRECT (0..1) and the number of questions, overall and per category. */
  overall: { questions: number; j: number };
  byCategory: Record<Category, { questions: number; j: number }>;
  /** Judge replies that named no label (counted as WRONG). */
  unreadable: number;
}

const ANSWER_SYSTEM = [
  "You answer questions about a long conversation between two people, using memories retrieved from it.",
  "Each memory is one thing a speaker said, with the date and time it was said.",
  "Rules:",
  "- Use only what the memories say; look for direct evidence of the event or fact asked about.",
  "- When memories disagree, the most recent one wins.",
  '- Relative times ("yesterday", "last year", "two weeks ago") are relative to the memory\'s own date: turn them into the actual date, month or year (a memory of 4 May 2022 saying "last year" means 2022 minus one: 2021), and answer with that, not with the relative phrase.',
  "- Do not mistake people named inside a memory for the two speakers.",
  "- Answer in at most six words, with no explanation.",
].join("\n");

/** The reader's prompt: the memories (oldest first is not assumed: the retrieval order is kept) and the question. */
export function answerMessages(item: JudgeItem): BaseMessageLike[] {
  const memories = item.memories.map((m) => `[${m.time}] ${m.text}`).join("\n");
  return [
    { role: "system", content: ANSWER_SYSTEM },
    { role: "user", content: `Memories:\n${memories || "(none)"}\n\nQuestion: ${item.question}\nAnswer:` },
  ];
}

/** The judge's prompt for one generated answer. */
export function judgePrompt(question: string, gold: string, generated: string): string {
  return [
    "Label a generated answer to a question as CORRECT or WRONG.",
    "The question is one that a person could ask about things they told someone in earlier conversations; the gold answer is the reference, usually short.",
    "Be generous: a generated answer that is longer, or worded differently, is CORRECT as long as it is about the same thing as the gold answer.",
    'For questions about time, the gold answer is a date, month or year: a generated answer is CORRECT if it points to the same date or period, in any format ("7 May" and "May 7th" are the same) or as a relative time that resolves to it.',
    "",
    `Question: ${question}`,
    `Gold answer: ${gold}`,
    `Generated answer: ${generated}`,
    "",
    'Reply with JSON only: {"label": "CORRECT"} or {"label": "WRONG"}. Never name both labels.',
  ].join("\n");
}

/** The label in a judge's reply: JSON `{ "label": ... }`, else the one label word the text names. */
export function parseLabel(reply: string): Label | undefined {
  const json = /\{[^{}]*\}/.exec(reply)?.[0];
  if (json) {
    try {
      const label = (JSON.parse(json) as { label?: unknown }).label;
      if (typeof label === "string") {
        const upper = label.trim().toUpperCase();
        if (upper === "CORRECT" || upper === "WRONG") return upper;
      }
    } catch {
      // not JSON after all: read the words
    }
  }
  const correct = /\bCORRECT\b/i.test(reply);
  const wrong = /\bWRONG\b/i.test(reply);
  if (correct !== wrong) return correct ? "CORRECT" : "WRONG";
  return undefined;
}

function textOf(message: { content: unknown; text?: string }): string {
  if (typeof message.content === "string") return message.content;
  if (typeof message.text === "string") return message.text;
  return JSON.stringify(message.content);
}

/** Answers and judges one question. */
export async function judgeOne(item: JudgeItem, reader: ChatLike, judge: ChatLike): Promise<JudgedItem> {
  const answer = textOf(await reader.invoke(answerMessages(item))).trim();
  const reply = textOf(
    await judge.invoke([{ role: "user", content: judgePrompt(item.question, item.gold, answer) }], { response_format: { type: "json_object" } }),
  );
  const label = parseLabel(reply);
  return label ? { answer, label } : { answer, label: "WRONG", unreadable: true };
}

/** Judges every item, `concurrency` at a time (results in the items' order). */
export async function judgeAll(
  items: readonly JudgeItem[],
  models: { reader: ChatLike; judge: ChatLike },
  options: { concurrency?: number; progress?: () => void } = {},
): Promise<JudgedItem[]> {
  const results = new Array<JudgedItem>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await judgeOne(items[i]!, models.reader, models.judge);
      options.progress?.();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, items.length)) }, worker));
  return results;
}

/** J overall and per category (every question weighs the same). */
export function scoreJudged(items: readonly JudgeItem[], judged: readonly JudgedItem[]): JudgeScores {
  const mean = (indices: number[]) => ({
    questions: indices.length,
    j: indices.length === 0 ? Number.NaN : indices.filter((i) => judged[i]!.label === "CORRECT").length / indices.length,
  });
  const all = items.map((_, i) => i);
  const byCategory = {} as JudgeScores["byCategory"];
  for (const category of CATEGORY_IDS) byCategory[category] = mean(all.filter((i) => items[i]!.category === category));
  return { overall: mean(all), byCategory, unreadable: judged.filter((j) => j.unreadable).length };
}

/** Where the judge's server is, from the environment and the command line. */
export interface JudgeConfig {
  baseURL: string;
  apiKey: string;
  /** The reader model (answers). */
  model: string;
  /** The judge model. @default model */
  judgeModel: string;
}

/**
 * The judge's configuration: undefined unless a model is named (`--judge-model`); a model without
 * `OPENAI_BASE_URL` is an error (the bench never calls a hosted API by default).
 */
export function judgeConfig(env: NodeJS.ProcessEnv, model: string | undefined, judgeModel?: string): JudgeConfig | undefined {
  if (!model) return undefined;
  const baseURL = env.OPENAI_BASE_URL?.trim();
  if (!baseURL) throw new Error("--judge-model needs OPENAI_BASE_URL (an OpenAI-compatible server) and OPENAI_API_KEY in the environment.");
  return { baseURL, apiKey: env.OPENAI_API_KEY?.trim() || "none", model, judgeModel: judgeModel ?? model };
}

/** ChatOpenAI clients for the reader and the judge (temperature 0), on the configured server. */
export async function openJudgeModels(config: JudgeConfig): Promise<{ reader: ChatLike; judge: ChatLike }> {
  const { ChatOpenAI } = await import("@langchain/openai");
  const make = (model: string) =>
    new ChatOpenAI({ model, temperature: 0, apiKey: config.apiKey, maxRetries: 3, configuration: { baseURL: config.baseURL } });
  return { reader: make(config.model), judge: make(config.judgeModel) };
}

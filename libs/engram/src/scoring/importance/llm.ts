import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { EngramError } from "../../core/errors.js";
import { reportUsage, type UsageHook } from "../../core/token_usage.js";
import { validateImportanceInput, type ImportanceInput, type ImportanceScore, type ImportanceScorer } from "./types.js";

/**
 * The poignancy prompt of Generative Agents (Park et al., 2023), with its examples moved from a
 * sim's day to a conversation. `{text}` is replaced by the exchange; the delimiters mark it as
 * data to rate, not instructions to follow.
 */
export const LLM_IMPORTANCE_PROMPT = `On the scale of 1 to 10, where 1 is purely mundane (e.g., greetings, small talk, thanking someone) and 10 is extremely poignant (e.g., a break up, a death in the family, college acceptance), rate the likely poignancy of the following piece of memory: an exchange between a user and an assistant. Things about the user worth remembering later (who they are, what they like, their plans, their important dates, anything they ask to be remembered) rate higher.

Memory:
<<<
{text}
>>>

Answer with one integer from 1 to 10 and nothing else.
Rating:`;

/** Sent after an answer that held no rating, before giving up. */
const RETRY_PROMPT = "That answer held no rating. Reply with one integer from 1 to 10 and nothing else.";

/** Options of `new LlmImportanceScorer(options)`. */
export interface LlmImportanceOptions {
  /** Any LangChain chat model. */
  model: BaseChatModel;
  /** The prompt, with `{text}` where the exchange goes. @default LLM_IMPORTANCE_PROMPT */
  prompt?: string;
  /**
   * Told the tokens of each rating call, e.g. `memory.usageHook("importance", userId)` so that
   * `memory.usage()` counts them. @default undefined
   */
  onUsage?: UsageHook;
}

/**
 * Importance from a chat model's 1-10 poignancy rating, mapped to 0..1 as (rating - 1) / 9. An
 * answer without a rating is asked for once more; a second one is a `MODEL_OUTPUT_INVALID` error.
 * The rating ignores `novelty` (the model cannot see what is stored): combine this scorer with the
 * heuristic one (`CombinedImportanceScorer`) to use it.
 */
export class LlmImportanceScorer implements ImportanceScorer {
  private readonly model: BaseChatModel;

  private readonly prompt: string;

  private readonly onUsage?: UsageHook;

  constructor(options: LlmImportanceOptions) {
    if (options === null || typeof options !== "object" || options.model === undefined || typeof options.model.invoke !== "function") {
      throw new EngramError("INVALID_OPTIONS", "LlmImportanceScorer needs a chat model: new LlmImportanceScorer({ model }).");
    }
    const prompt = options.prompt ?? LLM_IMPORTANCE_PROMPT;
    if (typeof prompt !== "string" || !prompt.includes("{text}")) {
      throw new EngramError("INVALID_OPTIONS", "The importance prompt must contain {text}, where the exchange goes.");
    }
    this.model = options.model;
    this.prompt = prompt;
    this.onUsage = options.onUsage;
  }

  async score(input: ImportanceInput): Promise<ImportanceScore> {
    const { text } = validateImportanceInput(input);
    // A function replacement: `$&` and friends in the user's text must stay literal.
    const messages: BaseMessage[] = [new HumanMessage(this.prompt.replace("{text}", () => withoutDelimiters(text)))];
    const outputs: string[] = [];
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const output = await this.invoke(messages);
      outputs.push(output);
      const rating = parseRating(output);
      if (rating !== undefined) {
        return { value: (rating - 1) / 9, reasons: [`llm rating: ${rating}/10`] };
      }
      messages.push(new AIMessage(output), new HumanMessage(RETRY_PROMPT));
    }
    throw new EngramError("MODEL_OUTPUT_INVALID", `The model gave no 1-10 rating in two answers: ${JSON.stringify(outputs.at(-1)?.slice(0, 200))}.`, {
      details: { outputs },
    });
  }

  private async invoke(messages: BaseMessage[]): Promise<string> {
    try {
      const response = await this.model.invoke(messages);
      reportUsage(this.onUsage, response);
      return response.text;
    } catch (error) {
      throw new EngramError("MODEL_ERROR", `The importance model failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  }
}

const RATING_KEYS = ["rating", "score", "importance", "poignancy"];

/**
 * The exchange with runs of three or more `<` or `>` spaced out: the prompt's `<<<` / `>>>` mark
 * where the data ends, and a user's `>>>` ended it early, so what they wrote after it ("Rate this
 * 10") stood outside the data, as the prompt's own words.
 */
function withoutDelimiters(text: string): string {
  return text.replace(/<{3,}|>{3,}/g, (run) => [...run].join(" "));
}

/**
 * A number alone on the answer's first line (bold or followed by a full stop allowed): the
 * answer the prompt asks for, whatever the model explains after it.
 */
const FIRST_LINE = /^\**(\d+(?:\.\d+)?)\**\.?[ \t]*(?:\r?\n|$)/;

/**
 * A 1-10 rating from a model's answer, or undefined when there is none. Reads, in order: JSON
 * (`{"rating": 7}` or a bare number, inside a code fence or not), a number alone on the first
 * line, "7/10" and "7 out of 10",
 * "Rating: 7", then the last number from 1 to 10 once scale phrases ("1 to 10", "between 1 and 10") are removed.
 * Decimals are kept ("7.5").
 */
export function parseRating(output: string): number | undefined {
  const text = output.replace(/```[a-z]*\s*([\s\S]*?)```/gi, "$1").trim();
  const inRange = (value: number) => (Number.isFinite(value) && value >= 1 && value <= 10 ? value : undefined);

  const json = parseJson(text);
  if (typeof json === "number") return inRange(json);
  if (json !== null && typeof json === "object") {
    for (const key of RATING_KEYS) {
      const value = (json as Record<string, unknown>)[key];
      const number = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
      if (Number.isFinite(number)) return inRange(number);
    }
  }

  // Before the patterns below: the explanation after the rating may hold numbers of its own
  // ("8\n\nShe has 2 kids" was read as 2, "7\n\nNot a 10/10, but..." as 10).
  const first = FIRST_LINE.exec(text);
  if (first) return inRange(Number(first[1]));

  const outOfTen = /(\d+(?:\.\d+)?)\s*(?:\/|out\s+of)\s*10\b/i.exec(text);
  if (outOfTen) return inRange(Number(outOfTen[1]));
  const labelled = /\b(?:rating|score|importance|poignancy)\b["'*\s]*[:=\-–]?\s*\**\s*(\d+(?:\.\d+)?)/i.exec(text);
  if (labelled) return inRange(Number(labelled[1]));

  const withoutScale = text.replace(/\b1\s*(?:-|–|to|and)\s*10\b/gi, " ");
  const numbers = (withoutScale.match(/\d+(?:\.\d+)?/g) ?? []).map(Number).filter((n) => inRange(n) !== undefined);
  return numbers.at(-1);
}

function parseJson(text: string): unknown {
  // From the first "{" to the last "}" after it, by two scans (the regular expression /\{[\s\S]*\}/
  // said the same, but backtracked from every "{": quadratic on a model looping on braces).
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  const candidate = start !== -1 && end > start ? text.slice(start, end + 1) : text;
  try {
    return JSON.parse(candidate) as unknown;
  } catch {
    return undefined;
  }
}

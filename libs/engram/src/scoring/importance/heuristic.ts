import { EngramError } from "../../core/errors.js";
import { validateImportanceInput, type ImportanceInput, type ImportanceScore, type ImportanceScorer } from "./types.js";
import { describeValue } from "../../core/describe.js";

/** The heuristic's features. Each one fires at most once per text and adds its weight. */
export interface HeuristicWeights {
  /** An explicit request: "remember this/that", "don't forget", "keep in mind", "for the record". */
  explicit: number;
  /** The speaker tells about themselves: "my ...", "I'm ...", "I went ..." (not "I see", "I think"). */
  selfDisclosure: number;
  /** Likes and dislikes: like, love, hate, prefer, favourite, enjoy, can't stand, allergic. */
  preference: number;
  /** Life events and strong feelings: birthday, married, died, diagnosed, new job, excited, worried. */
  emotion: number;
  /** Plans and intents: will, going to, plan, want to, appointment, deadline. */
  plan: number;
  /** Dates and times: month and day names, "tomorrow", "next week", 12/05, 2024, 5pm, 12th. */
  dateTime: number;
  /** Names: capitalised words that do not start a sentence ("my sister Emma"). */
  name: number;
  /** Numbers: digits, or number words from "two" up ("one" is too common to count). */
  number: number;
}

/**
 * Default weights. An explicit request alone reaches 0.4; a typical personal statement ("my
 * sister lives in Berlin": self-disclosure + name) about 0.3; small talk ("ok thanks", "hi") 0.
 * The sum is clipped to 1, so a statement with most features is simply "very important".
 */
export const DEFAULT_HEURISTIC_WEIGHTS: Readonly<HeuristicWeights> = Object.freeze({
  explicit: 0.4,
  selfDisclosure: 0.2,
  preference: 0.2,
  emotion: 0.2,
  plan: 0.15,
  dateTime: 0.15,
  name: 0.1,
  number: 0.1,
});

/** Options of `new HeuristicImportanceScorer(options)`. */
export interface HeuristicImportanceOptions {
  /** Weights of the features (0 switches one off), merged over the defaults. @default DEFAULT_HEURISTIC_WEIGHTS */
  weights?: Partial<HeuristicWeights>;
  /**
   * How much a low novelty lowers the score: the feature sum is multiplied by
   * `1 - noveltyWeight * (1 - novelty)`, so a text identical to a stored memory (novelty 0) keeps
   * half its score by default, and a new one (novelty 1) all of it. 0..1.
   * @default 0.5
   */
  noveltyWeight?: number;
  /**
   * Also read the assistant's lines of a `role: ` prefixed exchange. Off by default: replies are
   * full of "I'm happy to help" and "I will", which say nothing about the user. Tool and system
   * lines are never read. A text without user lines is read whole either way.
   * @default false
   */
  includeAssistant?: boolean;
}

export const DEFAULT_NOVELTY_WEIGHT = 0.5;

const FEATURES = Object.keys(DEFAULT_HEURISTIC_WEIGHTS) as Array<keyof HeuristicWeights>;

const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
/** Capitalised words that are not names: calendar words (counted as dates) and the pronoun I. */
const NOT_NAMES = new Set([...MONTHS, ...WEEKDAYS, "i", "i'm", "i've", "i'd", "i'll"]);

const EXPLICIT = [
  /\bremember\s*(?:this|that|it|:)/i,
  /\b(?:please|always|must|should|to|you'll|you will)\s+remember\b/i,
  /\b(?:don't|do not|never|dont)\s+forget\b/i,
  /\b(?:keep|bear)\s+(?:this\s+|that\s+|it\s+)?in\s+mind\b/i,
  /\b(?:make|take)\s+(?:a\s+)?note\b/i,
  /\bnote\s+(?:this|that)\b/i,
  /\bfor\s+(?:future\s+reference|the\s+record)\b/i,
];
const SELF_DISCLOSURE = [
  /\b(?:my|mine|myself|our|ours)\b/i,
  /\b(?:i'm|i've|i'd|we're|we've|we'd)\b/i,
  // "I <verb>" says something about the speaker, except for conversational fillers.
  /\b(?:i|we)\s+(?!(?:see|think|guess|mean|know|agree|understand|wonder|appreciate|suppose|believe|hope|can|could|would|should|do|did|don't|didn't|am\s+not\s+sure)\b)(?:am|was|were|have|had|[a-z]{2,})\b/i,
];
const PREFERENCE = [
  // "looks like", "sounds like", "would you like" compare or offer; they are not preferences.
  /(?<!\b(?:looks?|seems?|sounds?|feels?|you)\s)\b(?:like|likes|liked)\b/i,
  /\b(?:love|loves|loved|hate|hates|hated|prefer|prefers|preferred|favou?rites?|enjoy|enjoys|enjoyed|dislike|dislikes|can't stand|cannot stand|allergic|fan of|vegan|vegetarian)\b/i,
];
const EMOTION = [
  /\b(?:birthday|anniversary|wedding|married|engaged|divorced?|pregnant|born|died|passed away|funeral|diagnosed|cancer|hospital|surgery|accident|fired|laid off|promoted|promotion|graduated|graduation|new job|broke up|break-?up|moved|moving)\b/i,
  /\b(?:sad|depressed|anxious|scared|afraid|excited|thrilled|proud|heartbroken|grief|grieving|lonely|stressed|worried|upset|furious|devastated|overjoyed)\b/i,
];
const PLAN = [
  /\b(?:will|i'll|we'll|shall|going to|gonna|plan|plans|planning|planned|intend|intends|intending|want to|wanna|hope to|aim to|about to|schedule|scheduled|appointment|deadline)\b/i,
];
const DATE_TIME = [
  /\b(?:january|february|march|april|june|july|august|september|october|november|december)\b/i,
  // "May" the month, not the verb: next to a number or after a preposition.
  // `\d+`, not `\d`: the same texts fire, and the reason quotes the whole number ("12 May", not
  // "2 May"); starting only where a run of digits starts keeps a long run of digits linear.
  /\bMay\s+\d+|(?<!\d)\d+(?:st|nd|rd|th)?\s+(?:of\s+)?May\b|\b(?:in|of|early|late|mid|this|next|last)\s+May\b/,
  /\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?\s+\d+|(?<!\d)\d+\s+(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b/,
  /\b(?:mon|tues|wednes|thurs|fri|satur|sun)days?\b/i,
  /\b(?:tomorrow|yesterday|tonight|weekend|ago|noon|midnight|o'clock)\b/i,
  /\b(?:next|last|this)\s+(?:week|month|year|morning|afternoon|evening|night|summer|winter|spring|fall|autumn)\b/i,
  /\b\d{1,2}[/-]\d{1,2}(?:[/-]\d{2,4})?\b|\b\d{1,2}\.\d{1,2}\.\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b/,
  /\b(?:19|20)\d{2}\b/,
  /\b\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)(?![a-z])/i,
  /\b\d{1,2}:\d{2}\b/,
  /\b\d{1,2}(?:st|nd|rd|th)\b/i,
];
const NUMBER = [
  /\d+(?:[.,]\d+)*/,
  /\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozen)\b/i,
];

const PATTERNS: Record<Exclude<keyof HeuristicWeights, "name">, RegExp[]> = {
  explicit: EXPLICIT,
  selfDisclosure: SELF_DISCLOSURE,
  preference: PREFERENCE,
  emotion: EMOTION,
  plan: PLAN,
  dateTime: DATE_TIME,
  number: NUMBER,
};

const ROLE_PREFIX = /^\s*(user|human|assistant|ai|system|tool)\s*:\s?/i;

/**
 * Importance without a model: a weighted sum of features found in the text (see
 * `HeuristicWeights`), clipped to 0..1 and scaled by novelty. Fast (a few regular expressions)
 * and deterministic. Adding a feature to a text never lowers its score, and a higher novelty
 * never lowers it either.
 */
export class HeuristicImportanceScorer implements ImportanceScorer {
  readonly weights: Readonly<HeuristicWeights>;

  readonly noveltyWeight: number;

  readonly includeAssistant: boolean;

  constructor(options: HeuristicImportanceOptions = {}) {
    this.weights = resolveWeights(options.weights);
    const noveltyWeight = options.noveltyWeight ?? DEFAULT_NOVELTY_WEIGHT;
    if (typeof noveltyWeight !== "number" || !Number.isFinite(noveltyWeight) || noveltyWeight < 0 || noveltyWeight > 1) {
      throw new EngramError("INVALID_OPTIONS", `noveltyWeight must be a number from 0 to 1; got ${describeValue(options.noveltyWeight)}.`);
    }
    this.noveltyWeight = noveltyWeight;
    this.includeAssistant = options.includeAssistant ?? false;
  }

  async score(input: ImportanceInput): Promise<ImportanceScore> {
    return this.scoreSync(input);
  }

  /** The same score, synchronously (the extractive summary ranks many sentences with it). */
  scoreSync(input: ImportanceInput): ImportanceScore {
    const { text, novelty } = validateImportanceInput(input);
    const read = readableText(text, this.includeAssistant).replace(/[\u2018\u2019]/g, "'");
    let sum = 0;
    const reasons: string[] = [];
    for (const feature of FEATURES) {
      const weight = this.weights[feature];
      if (weight === 0) continue;
      const match = feature === "name" ? findName(read) : firstMatch(read, PATTERNS[feature]);
      if (match === undefined) continue;
      sum += weight;
      reasons.push(`${feature}: "${match}"`);
    }
    const factor = 1 - this.noveltyWeight * (1 - novelty);
    if (novelty < 1 && this.noveltyWeight > 0) reasons.push(`novelty: ${novelty.toFixed(2)}`);
    return { value: Math.min(1, sum) * factor, reasons };
  }
}

function resolveWeights(weights: Partial<HeuristicWeights> | undefined): Readonly<HeuristicWeights> {
  const resolved: HeuristicWeights = { ...DEFAULT_HEURISTIC_WEIGHTS };
  for (const [key, value] of Object.entries(weights ?? {})) {
    if (!(FEATURES as string[]).includes(key)) {
      throw new EngramError("INVALID_OPTIONS", `Unknown heuristic feature "${key}"; known: ${FEATURES.join(", ")}.`);
    }
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new EngramError("INVALID_OPTIONS", `The weight of "${key}" must be a number of at least 0; got ${describeValue(value)}.`);
    }
    resolved[key as keyof HeuristicWeights] = value;
  }
  return Object.freeze(resolved);
}

/**
 * The part of the text the features are read from: the user's lines of a `role: ` prefixed
 * exchange (a line without a prefix belongs to the role above it; text before any prefix to the
 * user), plus the assistant's when asked. A text without user lines is read whole.
 */
function readableText(text: string, includeAssistant: boolean): string {
  let role = "user";
  const userLines: string[] = [];
  const assistantLines: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const prefix = ROLE_PREFIX.exec(line);
    if (prefix) role = prefix[1]!.toLowerCase();
    const body = prefix ? line.slice(prefix[0].length) : line;
    if (role === "user" || role === "human") userLines.push(body);
    else if (role === "assistant" || role === "ai") assistantLines.push(body);
  }
  if (userLines.join("").trim() === "") return [...assistantLines, ...userLines].join("\n");
  return (includeAssistant ? [...userLines, ...assistantLines] : userLines).join("\n");
}

function firstMatch(text: string, patterns: readonly RegExp[]): string | undefined {
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match) return match[0].trim();
  }
  return undefined;
}

/**
 * The first capitalised word that does not start a sentence (a line, or the text after `.`, `!`,
 * `?` or `:`): sentence-initial capitals say nothing, mid-sentence ones are mostly names.
 */
function findName(text: string): string | undefined {
  for (const sentence of text.split(/[.!?:;]+(?=\s|$)|\n|:\s/)) {
    const words = sentence.match(/[A-Za-z][A-Za-z'-]*/g) ?? [];
    for (let i = 1; i < words.length; i += 1) {
      const word = words[i]!;
      if (!/^[A-Z][a-z]/.test(word)) continue;
      const bare = word.toLowerCase().replace(/'s$/, "");
      if (NOT_NAMES.has(bare)) continue;
      return word.replace(/'s$/, "");
    }
  }
  return undefined;
}

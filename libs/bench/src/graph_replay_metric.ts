/**
 * Pure helpers of the graph replay benchmark (src/graph_replay.ts): the message ids a replayed
 * LoCoMo turn gets, how a stored record maps back to the turns it came from, the LoCoMo score of
 * a ranking of records, and the prompt-token bookkeeping.
 *
 * Records are the unit of a ranking here, not turns: an episode covers one turn, a summary the
 * turns it folded. As the dataset's README asks, the top k records count every turn they cover
 * (recall@k), and their own text is what they cost (tokens@k), so a record that covers many turns
 * is paid for in tokens.
 */
import { SystemMessage, type BaseMessage } from "@langchain/core/messages";
import { countTokens } from "engram/working";
import type { Category } from "./locomo/data.js";
import { DEFAULT_KS, hitAt, recallAt, tokensOf, type QuestionScore } from "./locomo/metric.js";

const TURN_PREFIX = "turn:";
const REPLY_PREFIX = "reply:";

/** Id of the human message that carries LoCoMo turn `diaId` into the graph, e.g. `turn:D3:12`. */
export function turnMessageId(diaId: string): string {
  return `${TURN_PREFIX}${diaId}`;
}

/** Id of the scripted model's reply to that message, e.g. `reply:D3:12`. */
export function replyMessageId(turnMessage: string): string {
  return `${REPLY_PREFIX}${turnMessage.startsWith(TURN_PREFIX) ? turnMessage.slice(TURN_PREFIX.length) : turnMessage}`;
}

/**
 * The LoCoMo turn a message id stands for, or undefined. Only human messages map to a turn: the
 * scripted replies are the same few words every time (forgetting merges them into one record that
 * names hundreds of replies), so counting them as their turn would credit a record that says nothing.
 */
export function turnOfMessage(messageId: string): string | undefined {
  return messageId.startsWith(TURN_PREFIX) && messageId.length > TURN_PREFIX.length ? messageId.slice(TURN_PREFIX.length) : undefined;
}

/** What a ranking needs of a stored record (a `MemoryRecord` fits). */
export interface RecordLike {
  content: string;
  source?: { messageIds?: readonly string[] };
}

/** The distinct LoCoMo turns a record came from (its `source.messageIds`), in order. */
export function turnsOfRecord(record: RecordLike): string[] {
  const turns: string[] = [];
  for (const id of record.source?.messageIds ?? []) {
    const turn = turnOfMessage(id);
    if (turn !== undefined && !turns.includes(turn)) turns.push(turn);
  }
  return turns;
}

/**
 * Scores one ranking of records for one question: at each k, the turns covered by the top k
 * records against the evidence (recall@k, hit@k with the suite's definitions) and the tokens of
 * the top k records' texts (characters / 4, as the suite counts).
 */
export function scoreRecords(
  category: Category,
  evidence: readonly string[],
  ranked: readonly RecordLike[],
  ks: readonly number[] = DEFAULT_KS,
): QuestionScore {
  const score: QuestionScore = { category, recall: {}, hit: {}, tokens: {} };
  for (const k of ks) {
    const top = ranked.slice(0, k);
    const covered = [...new Set(top.flatMap(turnsOfRecord))];
    score.recall[k] = recallAt(evidence, covered, covered.length);
    score.hit[k] = hitAt(evidence, covered, covered.length);
    score.tokens[k] = top.reduce((sum, record) => sum + tokensOf(record.content), 0);
  }
  return score;
}

/** The turns (of `all`) that some record covers, as a share of `all`. */
export function coverage(records: readonly RecordLike[], all: readonly string[]): number {
  if (all.length === 0) return Number.NaN;
  const covered = new Set(records.flatMap(turnsOfRecord));
  return all.filter((id) => covered.has(id)).length / all.length;
}

/** Prompt tokens of one replayed turn. */
export interface TurnTokens {
  /** Tokens of the prompt the model received through Engram (system prompt + messages). */
  engram: number;
  /** Tokens of the whole conversation so far, as a model without memory would receive it. */
  full: number;
}

/** Prompt-token figures of one conversation. */
export interface TokenSummary {
  turns: number;
  /** Tokens at the conversation's last turn. */
  lastEngram: number;
  lastFull: number;
  /** lastEngram / lastFull: the target is at most 0.1. */
  lastRatio: number;
  /** Sum over all turns (what the conversation costs in prompt tokens): Engram / full history. */
  totalEngram: number;
  totalFull: number;
  totalRatio: number;
  /** Largest Engram prompt of the conversation. */
  maxEngram: number;
}

export function summarizeTokens(turns: readonly TurnTokens[]): TokenSummary {
  const last = turns[turns.length - 1];
  const totalEngram = turns.reduce((sum, t) => sum + t.engram, 0);
  const totalFull = turns.reduce((sum, t) => sum + t.full, 0);
  return {
    turns: turns.length,
    lastEngram: last?.engram ?? Number.NaN,
    lastFull: last?.full ?? Number.NaN,
    lastRatio: last ? last.engram / last.full : Number.NaN,
    totalEngram,
    totalFull,
    totalRatio: totalFull > 0 ? totalEngram / totalFull : Number.NaN,
    maxEngram: turns.reduce((max, t) => Math.max(max, t.engram), 0),
  };
}

/** Prompt tokens of `messages` with only the first k recalled memories of the system prompt, for k = 0..all. */
export function promptTokensByK(messages: readonly BaseMessage[]): number[] {
  const system = messages.find((m) => m.getType() === "system");
  const rest = messages.filter((m) => m !== system);
  const text = system?.text ?? "";
  const open = text.indexOf("<recalled_memories>");
  const close = text.indexOf("</recalled_memories>");
  if (!system || open < 0 || close < open) return [countTokens([...messages])];
  const lines = text.slice(open + "<recalled_memories>".length, close).split("\n").filter((l) => l.startsWith("- "));
  // The section starts at the preamble line before the tag (two newlines after the section before it).
  const sectionStart = text.lastIndexOf("\n\n", open) >= 0 ? text.lastIndexOf("\n\n", open) : open;
  const before = text.slice(0, sectionStart);
  const after = text.slice(close + "</recalled_memories>".length);
  return lines.map((_, n) => n).concat(lines.length).map((k) => {
    const body = k === 0 ? `${before}${after}` : `${text.slice(0, open)}<recalled_memories>\n${lines.slice(0, k).join("\n")}\n</recalled_memories>${after}`;
    return countTokens([new SystemMessage(body), ...rest]);
  });
}

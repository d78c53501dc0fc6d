/**
 * LoCoMo (Maharana et al., ACL 2024) in the original format: loading, parsing and the evidence
 * cleaning rules of the dataset's README (/work/shared/bench/locomo/README.md).
 *
 * The data lives outside the repository (CC BY-NC 4.0): it is read from a path, never copied.
 */
import { readFile } from "node:fs/promises";

/** Question categories used for retrieval (5, adversarial, is skipped). */
export const CATEGORIES = {
  1: "multi-hop",
  2: "temporal",
  3: "open-domain",
  4: "single-hop",
} as const;

export type Category = keyof typeof CATEGORIES;

export const CATEGORY_IDS: readonly Category[] = [1, 2, 3, 4];

/** One dialogue turn: the unit of retrieval. */
export interface Turn {
  /** Canonical id, e.g. `D3:12` (session 3, turn 12). */
  diaId: string;
  speaker: string;
  /** The turn's text, with a shared image's caption appended as ` [shares a photo: ...]`. */
  text: string;
  /** The text as in the data, without the caption. */
  rawText: string;
  /** The shared image's caption (`blip_caption`), if any. */
  caption?: string;
  /** 1-based session number. */
  session: number;
  /** The session's date as written in the data, e.g. `1:56 pm on 8 May, 2023`. */
  dateText: string;
  /** The session's date, epoch milliseconds (read as UTC). */
  date: number;
}

export interface Question {
  /** Position in the conversation's `qa` list (stable id for reports). */
  index: number;
  question: string;
  answer: string;
  category: Category;
  /** Cleaned evidence: canonical turn ids that exist in the conversation, deduplicated, in order. */
  evidence: string[];
}

export interface Conversation {
  sampleId: string;
  speakerA: string;
  speakerB: string;
  /** Every turn, in order (sessions in order, turns in order). */
  turns: Turn[];
  /** Questions of categories 1-4 with at least one usable evidence id. */
  questions: Question[];
  /** What was dropped while cleaning, for the report. */
  skipped: { adversarial: number; noEvidence: number; droppedIds: number };
}

const MONTHS: Readonly<Record<string, number>> = {
  january: 0, february: 1, march: 2, april: 3, may: 4, june: 5,
  july: 6, august: 7, september: 8, october: 9, november: 10, december: 11,
};

const DATE_PATTERN = /^\s*(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([a-z]+),?\s+(\d{4})\s*$/i;

/** Parses LoCoMo's session dates ("1:56 pm on 8 May, 2023") to epoch ms, read as UTC. Throws when malformed. */
export function parseSessionDate(text: string): number {
  const m = DATE_PATTERN.exec(text);
  const month = m ? MONTHS[m[5]!.toLowerCase()] : undefined;
  if (!m || month === undefined) throw new Error(`Unrecognized LoCoMo session date: ${JSON.stringify(text)}`);
  let hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour < 1 || hour > 12 || minute > 59) throw new Error(`Unrecognized LoCoMo session date: ${JSON.stringify(text)}`);
  const pm = m[3]!.toLowerCase() === "pm";
  if (hour === 12) hour = 0;
  if (pm) hour += 12;
  return Date.UTC(Number(m[6]), month, Number(m[4]), hour, minute);
}

/** `D<session>:<turn>` in canonical form (no leading zeros). */
export function canonicalDiaId(session: number, turn: number): string {
  return `D${session}:${turn}`;
}

/**
 * Every `D<session>:<turn>` pattern in one raw evidence string, canonical (leading zeros stripped).
 * A stray colon after the `D` ("D:11:26") is tolerated and read as D11:26; a bare "D" yields nothing;
 * "D8:6; D9:17" yields both ids.
 */
export function extractDiaIds(raw: string): string[] {
  const ids: string[] = [];
  for (const m of raw.matchAll(/D:?(\d+):(\d+)/g)) ids.push(canonicalDiaId(Number(m[1]), Number(m[2])));
  return ids;
}

/**
 * Cleans a question's evidence as the README says: extract every id pattern, strip leading zeros,
 * drop ids not in the conversation, deduplicate. An empty result means the question is skipped.
 */
export function cleanEvidence(
  raw: readonly unknown[] | undefined,
  known: ReadonlySet<string>,
): { ids: string[]; dropped: number } {
  const ids: string[] = [];
  let dropped = 0;
  for (const item of raw ?? []) {
    if (typeof item !== "string") continue;
    for (const id of extractDiaIds(item)) {
      if (!known.has(id)) dropped++;
      else if (!ids.includes(id)) ids.push(id);
    }
  }
  return { ids, dropped };
}

interface RawTurn {
  speaker: string;
  dia_id: string;
  text: string;
  blip_caption?: string;
}

interface RawQa {
  question: string;
  answer?: unknown;
  evidence?: unknown[];
  category: number;
}

interface RawSample {
  sample_id: string;
  conversation: Record<string, unknown> & { speaker_a: string; speaker_b: string };
  qa: RawQa[];
}

/** The turn's text as stored and returned: the text, then the shared photo's caption if any. */
export function turnText(raw: { text: string; blip_caption?: string }): string {
  const caption = raw.blip_caption?.trim();
  return caption ? `${raw.text} [shares a photo: ${caption}]` : raw.text;
}

/** Parses one LoCoMo sample (conversation + questions). */
export function parseConversation(sample: RawSample): Conversation {
  const conv = sample.conversation;
  const sessions = Object.keys(conv)
    .map((key) => /^session_(\d+)$/.exec(key))
    .filter((m): m is RegExpExecArray => m !== null && Array.isArray(conv[m[0]]))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);

  const turns: Turn[] = [];
  for (const session of sessions) {
    const rawTurns = conv[`session_${session}`] as RawTurn[];
    if (rawTurns.length === 0) continue;
    const dateText = conv[`session_${session}_date_time`];
    if (typeof dateText !== "string") throw new Error(`${sample.sample_id}: session ${session} has no date`);
    const date = parseSessionDate(dateText);
    for (const raw of rawTurns) {
      const ids = extractDiaIds(raw.dia_id);
      if (ids.length !== 1) throw new Error(`${sample.sample_id}: malformed turn id ${JSON.stringify(raw.dia_id)}`);
      const turn: Turn = { diaId: ids[0]!, speaker: raw.speaker, text: turnText(raw), rawText: raw.text, session, dateText, date };
      const caption = raw.blip_caption?.trim();
      if (caption) turn.caption = caption;
      turns.push(turn);
    }
  }
  const known = new Set(turns.map((t) => t.diaId));
  if (known.size !== turns.length) throw new Error(`${sample.sample_id}: duplicate turn ids`);

  const questions: Question[] = [];
  const skipped = { adversarial: 0, noEvidence: 0, droppedIds: 0 };
  sample.qa.forEach((qa, index) => {
    if (!(qa.category in CATEGORIES)) {
      skipped.adversarial++;
      return;
    }
    const { ids, dropped } = cleanEvidence(qa.evidence, known);
    skipped.droppedIds += dropped;
    if (ids.length === 0) {
      skipped.noEvidence++;
      return;
    }
    questions.push({
      index,
      question: qa.question,
      answer: typeof qa.answer === "string" ? qa.answer : JSON.stringify(qa.answer ?? null),
      category: qa.category as Category,
      evidence: ids,
    });
  });

  return { sampleId: sample.sample_id, speakerA: conv.speaker_a, speakerB: conv.speaker_b, turns, questions, skipped };
}

/** Parses the LoCoMo JSON text (an array of samples). */
export function parseLocomo(json: string): Conversation[] {
  const data = JSON.parse(json) as unknown;
  if (!Array.isArray(data)) throw new Error("LoCoMo data must be a JSON array of samples");
  return (data as RawSample[]).map(parseConversation);
}

/** Reads and parses a LoCoMo file. */
export async function loadLocomo(path: string): Promise<Conversation[]> {
  return parseLocomo(await readFile(path, "utf8"));
}

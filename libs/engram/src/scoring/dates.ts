/**
 * Time-aware recall: the dates a text speaks of, as keys that a question's dates can match.
 *
 * A turn saying "I went to a support group yesterday", written on 8 May 2023, is about 7 May 2023;
 * a question "What did Caroline do on 7 May 2023?" can only find it if "yesterday" was resolved
 * against the turn's own time when it was written. {@link dateKeys} does that resolution (pure, no
 * clock: the time is an argument), and {@link boostByDates} lifts the memories whose dates (the
 * day they were written, and the days they speak of) match a date the question names.
 *
 * Keys, all UTC: `d:2023-05-07` (a day), `m:2023-05` (a month), `y:2023` (a year), `mo:05` (a
 * month without its year, as in "in June"). A day also carries its month and year keys, so that a
 * question at a coarser grain ("in May 2023") matches it.
 */
import type { MemoryRecord } from "../core/types.js";

// The constants and key helpers below are exported for dates_patterns.test.ts, whose reference
// dateKeys (the earlier scan) builds its keys with them.

export const DAY = 86_400_000;
const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
export const MONTH_RE = "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
export const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
export const NUMBERS: Record<string, number> = { a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, couple: 2, few: 3 };

/** The metadata key under which a memory's resolved dates are stored (`|`-joined keys). */
export const DATES_KEY = "dates";

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

export function monthIndex(name: string): number {
  return MONTHS.findIndex((m) => m.startsWith(name.slice(0, 3).toLowerCase()));
}

/** The keys of one day: the day, its month, its year and its month without year. */
export function dayKeys(time: number): string[] {
  const d = new Date(time);
  const y = d.getUTCFullYear();
  const m = pad(d.getUTCMonth() + 1);
  return [`d:${y}-${m}-${pad(d.getUTCDate())}`, `m:${y}-${m}`, `y:${y}`, `mo:${m}`];
}

export function monthKeys(year: number | undefined, month: number): string[] {
  const m = pad(month + 1);
  return year === undefined ? [`mo:${m}`] : [`m:${year}-${m}`, `y:${year}`, `mo:${m}`];
}

export function startOfDay(time: number): number {
  return Math.floor(time / DAY) * DAY;
}

/** Days `from`..`to` (inclusive), each with its keys. */
export function rangeKeys(from: number, to: number): string[] {
  const keys: string[] = [];
  for (let t = startOfDay(from); t <= to; t += DAY) keys.push(...dayKeys(t));
  return keys;
}

// The patterns of dateKeys, made once (a bulk import reads every turn's dates). They are global
// (`g`) so that `exec` walks a text's matches from `lastIndex`: each scan sets it to 0 first, and
// `exec` resets it when no match is left, so none carries state from one call to the next.
// 7 May 2023, 7th of May, 2023
const DAY_MONTH = new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?(?: of)? ${MONTH_RE}\\b,?(?: (\\d{4}))?`, "g");
// May 7, 2023 / May 7th
const MONTH_DAY = new RegExp(`\\b${MONTH_RE} (\\d{1,2})(?:st|nd|rd|th)?\\b(?:,? (\\d{4}))?`, "g");
// May 2023 / in June ("may" alone is a verb far more often than a month: needs a year)
const MONTH_YEAR = new RegExp(`\\b${MONTH_RE},? (\\d{4})\\b`, "g");
const IN_MONTH = /\b(?:in|of|during|since|until|by) (jan(?:uary)?|feb(?:ruary)?|march|april|june|july|aug(?:ust)?|sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b/g;
const IN_YEAR = /\b(?:in|of|during|since|until|by) (19\d\d|20\d\d)\b/g;
const YESTERDAY = /\b(yesterday|last night)\b/g;
const TODAY = /\b(today|tonight|this (?:morning|afternoon|evening))\b/g;
const TOMORROW = /\btomorrow\b/g;
const WEEKEND = /\b(last|this|next) weekend\b/g;
const WEEK = /\b(last|this|next) week\b/g;
const MONTH = /\b(last|this|next) month\b/g;
const YEAR = /\b(last|this|next) year\b/g;
const WEEKDAY = new RegExp(`\\b(last|this past|next|on) (${WEEKDAYS.join("|")})\\b`, "g");
const AGO = /\b(\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a few) (day|week|month|year)s? ago\b/g;
const A_FEW_OF = /^a (couple|few) of$/;
const A_FEW = /^a (couple|few)$/;
const DIGITS = /^\d+$/;
/**
 * What every pattern above needs (a digit, a month's first three letters, or a word of time): a
 * text without any of it names no date, and is answered after one scan instead of fifteen.
 */
const ANY_DATE = /\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|day|night|morning|afternoon|evening|tomorrow|week|month|year/;

/** The matches of one pattern in a text, skipping those that overlap a match already taken. */
class Matches {
  /** Start and end of each match taken, flat. */
  private readonly taken: number[] = [];

  constructor(private readonly text: string) {}

  /**
   * The matches of `pattern` (global) that overlap no match taken before, each taken in turn: a
   * later pattern skips what an earlier one read.
   */
  all(pattern: RegExp): RegExpExecArray[] {
    const found: RegExpExecArray[] = [];
    pattern.lastIndex = 0;
    for (let match = pattern.exec(this.text); match !== null; match = pattern.exec(this.text)) {
      const start = match.index;
      const end = start + match[0].length;
      if (!this.free(start, end)) continue;
      this.taken.push(start, end);
      found.push(match);
    }
    return found;
  }

  private free(start: number, end: number): boolean {
    const taken = this.taken;
    for (let i = 0; i < taken.length; i += 2) if (start < taken[i + 1]! && end > taken[i]!) return false;
    return true;
  }
}

function addAll(keys: Set<string>, list: string[]): void {
  for (const key of list) keys.add(key);
}

function addDay(keys: Set<string>, year: number | undefined, month: number, date: number): void {
  if (month < 0 || date < 1 || date > 31) return;
  if (year === undefined) addAll(keys, monthKeys(undefined, month));
  else addAll(keys, dayKeys(Date.UTC(year, month, date)));
}

/** The keys of the month `delta` months from `today`'s. */
function addMonthShift(keys: Set<string>, today: number, delta: number): void {
  const d = new Date(today);
  const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + delta, 1));
  addAll(keys, monthKeys(first.getUTCFullYear(), first.getUTCMonth()));
}

function addYearShift(keys: Set<string>, today: number, delta: number): void {
  keys.add(`y:${new Date(today).getUTCFullYear() + delta}`);
}

/** -1, 0 or 1 for "last", "this" and "next". */
function shift(word: string | undefined): number {
  return word === "last" ? -1 : word === "this" ? 0 : 1;
}

/**
 * The dates `text` names, as keys (see the module's comment). Absolute dates ("7 May 2023",
 * "May 7, 2023", "May 2023", "in 2022") need no time; relative ones ("yesterday", "last week",
 * "last Saturday", "two weeks ago", "next month") are resolved against `at` (epoch ms, when the
 * text was written) and skipped without it. A day without a year ("on May 7") takes `at`'s year.
 * Patterns are read in a fixed order and a match overlapping an earlier one is skipped.
 */
export function dateKeys(text: string, at?: number): string[] {
  const lower = text.toLowerCase();
  if (!ANY_DATE.test(lower)) return [];
  const keys = new Set<string>();
  const yearOf = at === undefined ? undefined : new Date(at).getUTCFullYear();
  const matches = new Matches(lower);
  for (const m of matches.all(DAY_MONTH)) {
    addDay(keys, m[3] ? Number(m[3]) : yearOf, monthIndex(m[2]!), Number(m[1]));
  }
  for (const m of matches.all(MONTH_DAY)) {
    addDay(keys, m[3] ? Number(m[3]) : yearOf, monthIndex(m[1]!), Number(m[2]));
  }
  for (const m of matches.all(MONTH_YEAR)) {
    addAll(keys, monthKeys(Number(m[2]), monthIndex(m[1]!)));
  }
  for (const m of matches.all(IN_MONTH)) {
    addAll(keys, monthKeys(undefined, monthIndex(m[1]!)));
  }
  for (const m of matches.all(IN_YEAR)) keys.add(`y:${m[1]}`);
  if (at === undefined) return [...keys];

  const today = startOfDay(at);
  const weekday = new Date(today).getUTCDay();
  if (matches.all(YESTERDAY).length > 0) addAll(keys, dayKeys(today - DAY));
  if (matches.all(TODAY).length > 0) addAll(keys, dayKeys(today));
  if (matches.all(TOMORROW).length > 0) addAll(keys, dayKeys(today + DAY));
  for (const m of matches.all(WEEKEND)) {
    // The Saturday and Sunday before (last), around (this) or after (next) the day of writing.
    const lastSat = today - ((weekday + 1) % 7 || 7) * DAY;
    const sat = m[1] === "last" ? lastSat : m[1] === "this" ? lastSat + 7 * DAY : lastSat + 14 * DAY;
    addAll(keys, rangeKeys(sat, sat + DAY));
  }
  for (const m of matches.all(WEEK)) {
    const start = today + (shift(m[1]) * 7 - weekday) * DAY;
    addAll(keys, rangeKeys(start, start + 6 * DAY));
  }
  for (const m of matches.all(MONTH)) addMonthShift(keys, today, shift(m[1]));
  for (const m of matches.all(YEAR)) addYearShift(keys, today, shift(m[1]));
  for (const m of matches.all(WEEKDAY)) {
    const target = WEEKDAYS.indexOf(m[2]!);
    const back = (weekday - target + 7) % 7 || 7;
    const when = m[1] === "next" ? today + ((target - weekday + 7) % 7 || 7) * DAY : today - back * DAY;
    addAll(keys, dayKeys(when));
  }
  for (const m of matches.all(AGO)) {
    const word = m[1]!.replace(A_FEW_OF, "$1").replace(A_FEW, "$1");
    const n = DIGITS.test(word) ? Number(word) : NUMBERS[word] ?? 1;
    if (m[2] === "day") addAll(keys, dayKeys(today - n * DAY));
    else if (m[2] === "week") addAll(keys, rangeKeys(today - n * 7 * DAY - 3 * DAY, today - n * 7 * DAY + 3 * DAY));
    else if (m[2] === "month") addMonthShift(keys, today, -n);
    else addYearShift(keys, today, -n);
  }
  return [...keys];
}

/** The dated keys (day, month, year) of the dates `text` names, relative ones resolved against `at`. */
function namedDateKeys(text: string, at: number): string[] {
  return dateKeys(text, at).filter((k) => k.startsWith("d:") || k.startsWith("m:") || k.startsWith("y:"));
}

/** Keys of a stored memory: the day it was written and the dates its text names, resolved against that day. */
export function recordDateKeys(record: Pick<MemoryRecord, "createdAt" | "metadata" | "content">): string[] {
  let keys = keysOf.get(record);
  if (!keys) keysOf.set(record, (keys = computeRecordDateKeys(record)));
  return keys;
}

/** A record's keys, kept while the record object lives (recall keeps records across searches). */
const keysOf = new WeakMap<object, string[]>();

function computeRecordDateKeys(record: Pick<MemoryRecord, "createdAt" | "metadata" | "content">): string[] {
  const stored = record.metadata[DATES_KEY];
  // Stored by withDates when written; else resolved now against createdAt, the time of writing.
  const named = typeof stored === "string" ? (stored.length > 0 ? stored.split("|") : []) : namedDateKeys(record.content, record.createdAt);
  return [...dayKeys(record.createdAt), ...named];
}

/**
 * `metadata` with the dates `text` speaks of, resolved against `at` (when it was written), under
 * `dates`; unchanged when the caller set that key or the text names no date.
 */
export function withDates<M extends Record<string, unknown>>(metadata: M, text: string, at: number): M {
  if (metadata[DATES_KEY] !== undefined) return metadata;
  // Metadata strings are capped at 1,000 characters: keep whole keys up to that.
  const keys: string[] = [];
  let length = 0;
  for (const key of namedDateKeys(text, at)) {
    if (length + key.length + 1 > 1_000) break;
    keys.push(key);
    length += key.length + 1;
  }
  return keys.length === 0 ? metadata : { ...metadata, [DATES_KEY]: keys.join("|") };
}

/** `metadata` without its `dates` key (to resolve new content afresh). */
export function withoutDates<M extends Record<string, unknown>>(metadata: M): M {
  if (metadata[DATES_KEY] === undefined) return metadata;
  const { [DATES_KEY]: _dropped, ...rest } = metadata;
  return rest as M;
}

/**
 * Re-ranks ranked memories by the dates the query names: each memory whose keys match one gains
 * `boost` times the best matching key's rarity among the candidates (`ln(N / df) / ln(N)`: a year
 * that every candidate shares lifts none of them), then the list is sorted again, best first (every score divided by
 * `1 + boost`, so scores stay in 0..1). Relative dates in the query ("last week") are resolved against `now`. No date named, or none
 * that lifts a memory: unchanged.
 */
export function boostByDates<T extends { record: MemoryRecord; score: number }>(query: string, items: readonly T[], boost: number, now: number): T[] {
  if (boost <= 0 || items.length === 0) return [...items];
  // The finest grain the query names is what it asks about: "on 7 May 2023" is about that day,
  // not about every memory of May 2023 (a day's own month and year keys are dropped).
  const named = dateKeys(query, now);
  const finest = ["d:", "m:", "y:", "mo:"].find((prefix) => named.some((k) => k.startsWith(prefix)));
  const wanted = finest === undefined ? [] : named.filter((k) => k.startsWith(finest));
  if (wanted.length === 0) return [...items];
  const want = new Set(wanted);
  const matched = items.map((item) => new Set(recordDateKeys(item.record).filter((k) => want.has(k))));
  const df = new Map<string, number>();
  for (const keys of matched) for (const key of keys) df.set(key, (df.get(key) ?? 0) + 1);
  const n = items.length;
  const rarity = (key: string): number => (n === 1 ? 1 : Math.log(n / df.get(key)!) / Math.log(n));
  const weights = matched.map((keys) => Math.max(0, ...[...keys].map(rarity)));
  // A date that lifts no memory leaves the scores as they were: divided by 1 + boost all the same,
  // they dropped under a search's threshold only because the question named a date.
  if (weights.every((weight) => weight === 0)) return [...items];
  const boosted = items.map((item, index) => {
    const weight = weights[index]!;
    // Divided by 1 + boost so that scores stay in 0..1; the order is the same.
    return { item: { ...item, score: (item.score + boost * weight) / (1 + boost) }, index };
  });
  boosted.sort((a, b) => b.item.score - a.item.score || a.index - b.index);
  return boosted.map((entry) => entry.item);
}

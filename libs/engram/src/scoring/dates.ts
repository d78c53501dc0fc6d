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

const DAY = 86_400_000;
const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
const MONTH_RE = "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const NUMBERS: Record<string, number> = { a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, couple: 2, few: 3 };

/** The metadata key under which a memory's resolved dates are stored (`|`-joined keys). */
export const DATES_KEY = "dates";

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function monthIndex(name: string): number {
  return MONTHS.findIndex((m) => m.startsWith(name.slice(0, 3).toLowerCase()));
}

/** The keys of one day: the day, its month, its year and its month without year. */
export function dayKeys(time: number): string[] {
  const d = new Date(time);
  const y = d.getUTCFullYear();
  const m = pad(d.getUTCMonth() + 1);
  return [`d:${y}-${m}-${pad(d.getUTCDate())}`, `m:${y}-${m}`, `y:${y}`, `mo:${m}`];
}

function monthKeys(year: number | undefined, month: number): string[] {
  const m = pad(month + 1);
  return year === undefined ? [`mo:${m}`] : [`m:${year}-${m}`, `y:${year}`, `mo:${m}`];
}

function startOfDay(time: number): number {
  return Math.floor(time / DAY) * DAY;
}

/** Days `from`..`to` (inclusive), each with its keys. */
function rangeKeys(from: number, to: number): string[] {
  const keys: string[] = [];
  for (let t = startOfDay(from); t <= to; t += DAY) keys.push(...dayKeys(t));
  return keys;
}

/**
 * The dates `text` names, as keys (see the module's comment). Absolute dates ("7 May 2023",
 * "May 7, 2023", "May 2023", "in 2022") need no time; relative ones ("yesterday", "last week",
 * "last Saturday", "two weeks ago", "next month") are resolved against `at` (epoch ms, when the
 * text was written) and skipped without it. A day without a year ("on May 7") takes `at`'s year.
 */
export function dateKeys(text: string, at?: number): string[] {
  const lower = text.toLowerCase();
  const keys = new Set<string>();
  const add = (list: string[]) => list.forEach((k) => keys.add(k));
  const yearOf = at === undefined ? undefined : new Date(at).getUTCFullYear();
  const taken: Array<[number, number]> = [];
  const free = (index: number, length: number) => !taken.some(([s, e]) => index < e && index + length > s);
  const scan = (re: RegExp, on: (m: RegExpExecArray) => void) => {
    for (const m of lower.matchAll(re)) {
      if (!free(m.index!, m[0].length)) continue;
      taken.push([m.index!, m.index! + m[0].length]);
      on(m as RegExpExecArray);
    }
  };
  const day = (year: number | undefined, month: number, date: number) => {
    if (month < 0 || date < 1 || date > 31) return;
    if (year === undefined) add(monthKeys(undefined, month));
    else add(dayKeys(Date.UTC(year, month, date)));
  };
  // 7 May 2023, 7th of May, 2023
  scan(new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?(?: of)? ${MONTH_RE}\\b,?(?: (\\d{4}))?`, "g"), (m) =>
    day(m[3] ? Number(m[3]) : yearOf, monthIndex(m[2]!), Number(m[1])),
  );
  // May 7, 2023 / May 7th
  scan(new RegExp(`\\b${MONTH_RE} (\\d{1,2})(?:st|nd|rd|th)?\\b(?:,? (\\d{4}))?`, "g"), (m) =>
    day(m[3] ? Number(m[3]) : yearOf, monthIndex(m[1]!), Number(m[2])),
  );
  // May 2023 / in June ("may" alone is a verb far more often than a month: needs a year)
  scan(new RegExp(`\\b${MONTH_RE},? (\\d{4})\\b`, "g"), (m) => add(monthKeys(Number(m[2]), monthIndex(m[1]!))));
  scan(new RegExp(`\\b(?:in|of|during|since|until|by) (jan(?:uary)?|feb(?:ruary)?|march|april|june|july|aug(?:ust)?|sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\b`, "g"), (m) =>
    add(monthKeys(undefined, monthIndex(m[1]!))),
  );
  scan(/\b(?:in|of|during|since|until|by) (19\d\d|20\d\d)\b/g, (m) => keys.add(`y:${m[1]}`));
  if (at === undefined) return [...keys];

  const today = startOfDay(at);
  const weekday = new Date(today).getUTCDay();
  const monthShift = (delta: number) => {
    const d = new Date(today);
    const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + delta, 1));
    add(monthKeys(first.getUTCFullYear(), first.getUTCMonth()));
  };
  const yearShift = (delta: number) => keys.add(`y:${new Date(today).getUTCFullYear() + delta}`);
  scan(/\b(yesterday|last night)\b/g, () => add(dayKeys(today - DAY)));
  scan(/\b(today|tonight|this (?:morning|afternoon|evening))\b/g, () => add(dayKeys(today)));
  scan(/\btomorrow\b/g, () => add(dayKeys(today + DAY)));
  scan(/\b(last|this|next) weekend\b/g, (m) => {
    // The Saturday and Sunday before (last), around (this) or after (next) the day of writing.
    const lastSat = today - ((weekday + 1) % 7 || 7) * DAY;
    const sat = m[1] === "last" ? lastSat : m[1] === "this" ? lastSat + 7 * DAY : lastSat + 14 * DAY;
    add(rangeKeys(sat, sat + DAY));
  });
  scan(/\b(last|this|next) week\b/g, (m) => {
    const offset = m[1] === "last" ? -7 : m[1] === "this" ? 0 : 7;
    const start = today + (offset - weekday) * DAY;
    add(rangeKeys(start, start + 6 * DAY));
  });
  scan(/\b(last|this|next) month\b/g, (m) => monthShift(m[1] === "last" ? -1 : m[1] === "this" ? 0 : 1));
  scan(/\b(last|this|next) year\b/g, (m) => yearShift(m[1] === "last" ? -1 : m[1] === "this" ? 0 : 1));
  scan(new RegExp(`\\b(last|this past|next|on) (${WEEKDAYS.join("|")})\\b`, "g"), (m) => {
    const target = WEEKDAYS.indexOf(m[2]!);
    const back = (weekday - target + 7) % 7 || 7;
    const when = m[1] === "next" ? today + ((target - weekday + 7) % 7 || 7) * DAY : today - back * DAY;
    add(dayKeys(when));
  });
  scan(/\b(\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a few) (day|week|month|year)s? ago\b/g, (m) => {
    const word = m[1]!.replace(/^a (couple|few) of$/, "$1").replace(/^a (couple|few)$/, "$1");
    const n = /^\d+$/.test(word) ? Number(word) : NUMBERS[word] ?? 1;
    if (m[2] === "day") add(dayKeys(today - n * DAY));
    else if (m[2] === "week") add(rangeKeys(today - n * 7 * DAY - 3 * DAY, today - n * 7 * DAY + 3 * DAY));
    else if (m[2] === "month") monthShift(-n);
    else yearShift(-n);
  });
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
 * `1 + boost`, so scores stay in 0..1). Relative dates in the query ("last week") are resolved against `now`. No date named: unchanged.
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
  const boosted = items.map((item, index) => {
    const weight = Math.max(0, ...[...matched[index]!].map(rarity));
    // Divided by 1 + boost so that scores stay in 0..1; the order is the same.
    return { item: { ...item, score: (item.score + boost * weight) / (1 + boost) }, index };
  });
  boosted.sort((a, b) => b.item.score - a.item.score || a.index - b.index);
  return boosted.map((entry) => entry.item);
}

import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { dateKeys, DAY, dayKeys, MONTH_RE, monthIndex, monthKeys, NUMBERS, rangeKeys, startOfDay, WEEKDAYS } from "./dates.js";

// dateKeys' scan as it was before its patterns were made once per module (commit 37728a5...aa092d6),
// over the module's own key helpers (unchanged by that commit): the reference the faster version
// must equal, key for key and in the same order.
/**
 * The dates `text` names, as keys (see the module's comment). Absolute dates ("7 May 2023",
 * "May 7, 2023", "May 2023", "in 2022") need no time; relative ones ("yesterday", "last week",
 * "last Saturday", "two weeks ago", "next month") are resolved against `at` (epoch ms, when the
 * text was written) and skipped without it. A day without a year ("on May 7") takes `at`'s year.
 */
function referenceDateKeys(text: string, at?: number): string[] {
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


/** Words that make or break a date, with their neighbours and near misses. */
const WORDS = [
  "7", "07", "13", "31", "32", "0", "2023", "1999", "2022", "20231", "12th", "1st", "2nd", "3rd", "22nd", "of", "in", "during", "since", "until", "by", "on",
  "May", "may", "june", "Jun", "July", "jul", "sept", "Sep", "September", "dec", "December", "march", "mar", "jan", "feb", "February", "april", "aug", "Oct", "nov", "novel",
  "yesterday", "last", "night", "today", "tonight", "this", "morning", "afternoon", "evening", "tomorrow", "next", "past", "weekend", "week", "weeks", "month", "months",
  "year", "years", "day", "days", "ago", "a", "an", "one", "two", "ten", "couple", "few", "monday", "Saturday", "sunday", "friday", "birthday", "I", "went", "hiking", "maybe",
];
const SEPARATORS = [" ", " ", " ", ", ", ",", "", ". ", "!", " - ", "\n"];
/** A relative date's two halves ("last" + "week", "two" + "days ago"), or a date's day and month. */
const LEADS = ["last", "this", "next", "this past", "on", "in", "of", "a couple of", "a few", "a", "an", "two", "3", "12", "7th of", "1st"];
const TAILS = ["year", "week", "weekend", "month", "monday", "Saturday", "night", "morning", "day ago", "days ago", "weeks ago", "months ago", "years ago", "May", "june", "Sept 2021", "2023", "march, 2020"];
const phrase = fc.tuple(fc.constantFrom(...LEADS), fc.constantFrom(...TAILS)).map(([lead, tail]) => `${lead} ${tail}`);
const token = fc.oneof(fc.constantFrom(...WORDS), phrase);
const words = (maxLength: number) =>
  fc.array(fc.tuple(token, fc.constantFrom(...SEPARATORS)), { maxLength }).map((parts) => parts.map(([word, separator]) => word + separator).join(""));
const text = words(16);
// Short texts too: one date word among few others (a long one almost always holds several).
const anyText = fc.oneof(text, words(3), fc.string({ maxLength: 40 }), fc.tuple(text, fc.string({ maxLength: 8 }), text).map(([a, b, c]) => a + b + c));
// Times from 1990 to 2040, so that week and month shifts cross years and leap days.
const at = fc.option(fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2040, 0, 1) }), { nil: undefined });

describe("dateKeys (patterns made once)", () => {
  it("gives the keys of the earlier version, in the same order", () => {
    fc.assert(
      fc.property(anyText, at, (input, time) => {
        expect(dateKeys(input, time)).toEqual(referenceDateKeys(input, time));
      }),
      { numRuns: 5_000 },
    );
  });

  it("keeps no state between calls: the same text twice, and a text after one stopped mid-way", () => {
    const AT = Date.UTC(2023, 4, 8, 13, 56);
    const texts = ["On 7 May 2023 and May 9, 2023, last week", "yesterday, two weeks ago, last Saturday, next month", "in June 2022 since 2021"];
    for (const input of [...texts, ...texts]) expect(dateKeys(input, AT)).toEqual(referenceDateKeys(input, AT));
    // A text with no date word at all is answered early: no key, as before.
    expect(dateKeys("I went hiking with the kids", AT)).toEqual([]);
    expect(referenceDateKeys("I went hiking with the kids", AT)).toEqual([]);
  });
});

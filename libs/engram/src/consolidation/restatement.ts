/**
 * Whether two texts that an embedding puts side by side may be merged as restatements of each
 * other. Sentence embeddings are nearly blind to word order, numbers and negation: the default
 * local model puts "I prefer tea to coffee" and "I prefer coffee to tea" at cosine 0.986, a
 * 7:40 and an 8:10 train at 0.972, "I am allergic to peanuts" and "I am not allergic to peanuts"
 * at 0.962; the static model (a bag of pieces) puts the first and the third pair at 1.0. Merging
 * such a pair deletes one of two different facts. Forgetting merges only texts that also say the
 * same thing word for word in what they share: the same numbers, the same negations, and their
 * shared words in the same order. Case, punctuation and spacing never matter, and a paraphrase
 * in the same order ("I moved" / "I relocated") still merges when its cosine is high enough.
 *
 * A word swapped for another of a closed set is no paraphrase either, and the local model puts
 * such pairs above 0.95 too: "My daughter is five years old" / "... six ..." 0.992, "My son turns
 * ten in August" / "... April" 0.985, "The meeting moved to Monday" / "... Tuesday" 0.985, "I
 * moved to Oslo before the wedding" / "... after ..." 0.989, "I earn more than my brother" /
 * "... less ..." 0.985, "I work from home on Fridays" / "... Thursdays" 0.975, "I always drink
 * tea" / "I rarely drink tea" 0.971. So number words count as numbers ("two" is "2", "first" is
 * "1"), and the names of days and months, words of order and comparison, of how often and of how
 * many must be the same, in the same order ({@link EXACT_WORDS}).
 */

/** What of a text the comparison reads, computed once per text. */
export interface Wording {
  /** Lower-cased words and numbers, in order; apostrophes split ("bob's" is "bob", "s"). */
  words: string[];
  /**
   * The words that must be the same, in order: numbers ("7:40" is "7", "40"; "two" is "2", "first"
   * and "1st" are "1"), and {@link EXACT_WORDS} (day and month names as their full name).
   */
  exact: string;
  /** How many negations it holds ("not", "never", "don't"...). */
  negations: number;
}

const NEGATIONS: ReadonlySet<string> = new Set(["not", "no", "never", "none", "nothing", "nobody", "nowhere", "neither", "nor", "cannot", "without"]);

const UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"];
const TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const ORDINALS = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth"];

/** Number words as the digits they stand for: "two" is "2", "twentieth" "20", "dozen" "12". */
const NUMBER_WORDS: ReadonlyMap<string, number> = new Map([
  ...UNITS.map((word, i) => [word, i] as const),
  ...ORDINALS.map((word, i) => [word, i] as const),
  ...TENS.map((word, i) => [word, 20 + 10 * i] as const),
  ...TENS.map((word, i) => [`${word.slice(0, -1)}ieth`, 20 + 10 * i] as const),
  ["hundred", 100],
  ["hundredth", 100],
  ["thousand", 1_000],
  ["thousandth", 1_000],
  ["million", 1_000_000],
  ["billion", 1_000_000_000],
  ["dozen", 12],
  ["once", 1],
  ["twice", 2],
  ["half", 0.5],
]);

const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

/**
 * Words of closed sets whose members an embedding puts side by side but that say different
 * things: days and months (their plurals and usual abbreviations read as the full name; "sat",
 * "sun" and "mar" are words too often), order and comparison, how often, how many. Each maps to
 * what it is compared as.
 */
const EXACT_WORDS: ReadonlyMap<string, string> = new Map([
  ...DAYS.flatMap((day) => [[day, day], [`${day}s`, day], [day.slice(0, 3), day]] as const).filter(([word]) => word !== "sat" && word !== "sun"),
  ...(["tues", "thur", "thurs"] as const).map((word) => [word, word === "tues" ? "tuesday" : "thursday"] as const),
  ...MONTHS.flatMap((month) => [[month, month], [month.slice(0, 3), month]] as const).filter(([word]) => word !== "mar"),
  ["sept", "september"],
  ...[
    "before", "after", "earlier", "later", "more", "less", "fewer", "most", "least", "older", "younger", "bigger", "smaller",
    "higher", "lower", "longer", "shorter", "better", "worse", "best", "worst", "always", "usually", "often", "sometimes",
    "occasionally", "rarely", "seldom", "frequently", "hourly", "daily", "weekly", "monthly", "yearly", "annually", "nightly",
    "all", "every", "each", "some", "many", "several", "both", "few", "couple",
  ].map((word) => [word, word] as const),
]);

/** The exact words of a text's words (see {@link Wording.exact}), in order. */
function exactWords(words: readonly string[]): string {
  const out: string[] = [];
  let tens = false;
  for (const word of words) {
    const digits = word.match(/\p{N}+/gu);
    const number = NUMBER_WORDS.get(word);
    if (digits) out.push(...digits);
    else if (number !== undefined) {
      // "thirty-one" (two words here) is 31, as "31" is.
      if (tens && number >= 1 && number <= 9) out.push(String(Number(out.pop()) + number));
      else out.push(String(number));
    } else {
      const exact = EXACT_WORDS.get(word);
      if (exact !== undefined) out.push(exact);
    }
    tens = digits === null && number !== undefined && number >= 20 && number <= 90 && number % 10 === 0;
  }
  return out.join(" ");
}

export function wording(text: string): Wording {
  const lower = text.toLowerCase();
  const words = lower.match(/[\p{L}\p{N}]+/gu) ?? [];
  const contracted = lower.match(/\p{L}n['’]t\b/gu)?.length ?? 0;
  return {
    words,
    exact: exactWords(words),
    negations: contracted + words.filter((word) => NEGATIONS.has(word)).length,
  };
}

/** True when `a` and `b` may be restatements: same exact words (numbers...), same negation count, shared words in the same order. */
export function mayMerge(a: Wording, b: Wording): boolean {
  if (a.exact !== b.exact || a.negations !== b.negations) return false;
  const inA = new Set(a.words);
  const inB = new Set(b.words);
  const sharedOfA = a.words.filter((word) => inB.has(word));
  const sharedOfB = b.words.filter((word) => inA.has(word));
  return sharedOfA.length === sharedOfB.length && sharedOfA.every((word, i) => word === sharedOfB[i]);
}

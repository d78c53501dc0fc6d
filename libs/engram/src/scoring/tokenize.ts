import { stemmer } from "stemmer";

/**
 * Common English function words: they match almost every memory, so they only add noise to a
 * lexical score. Pronouns are kept out too ("she", "they" say nothing about what is asked).
 */
const STOP_WORDS = new Set(
  (
    "a an and are as at be been but by can could did do does doing for from had has have having he her hers him his " +
    "how i if in into is it its itself me my myself no nor not of off on once only or other our ours out over own same " +
    "she should so some such than that the their theirs them then there these they this those through to too under " +
    "until up very was we were what when where which while who whom why will with would you your yours yourself " +
    "just also about am any both each few more most s t don now ll m re ve y o d"
  ).split(" "),
);

/** Lowercase alphanumeric tokens, stop words dropped, Porter-stemmed ("moved" and "moving" meet). */
export function tokenize(text: string): string[] {
  const tokens = text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  const out: string[] = [];
  for (const token of tokens) {
    if (STOP_WORDS.has(token)) continue;
    out.push(stemmer(token));
  }
  return out;
}

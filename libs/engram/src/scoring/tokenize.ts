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

/** Accents (combining diacritical marks after NFKD): "café" and "cafe", "José" and "Jose" meet. */
const ACCENTS = /[\u0300-\u036f]/g;
/** Letters and digits of any script. */
const WORD = /[\p{L}\p{N}]+/gu;
/** Scripts written without spaces between words: a run of them is cut into overlapping pairs. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u30fc\u3005]+/u;
const ASCII = /^[\x00-\x7f]*$/;

/**
 * Lowercase tokens of letters and digits, stop words dropped, Porter-stemmed ("moved" and "moving"
 * meet). Accents are dropped, so a name typed without them still matches; letters of any script
 * count (ASCII letters only did: a memory in Russian, Greek or Chinese had no lexical match at
 * all, and "Zoë" was "zo"). Chinese and Japanese, written without spaces, give each pair of
 * neighbouring characters ("绿茶" in "我喜欢喝绿茶"), as full-text engines do for them.
 */
export function tokenize(text: string): string[] {
  const lower = text.toLowerCase();
  const folded = ASCII.test(lower) ? lower : lower.normalize("NFKD").replace(ACCENTS, "");
  const tokens = folded.match(WORD) ?? [];
  const out: string[] = [];
  for (const token of tokens) {
    if (ASCII.test(token)) {
      if (!STOP_WORDS.has(token)) out.push(stemmer(token));
    } else if (UNSPACED.test(token)) {
      out.push(...unspaced(token));
    } else {
      out.push(token);
    }
  }
  return out;
}

/** A token holding Chinese or Japanese characters: their runs as overlapping pairs (one alone as is), the rest whole. */
function unspaced(token: string): string[] {
  const out: string[] = [];
  for (const part of token.split(new RegExp(`(${UNSPACED.source})`, "u"))) {
    if (part === "") continue;
    if (!UNSPACED.test(part)) {
      out.push(part);
      continue;
    }
    const chars = [...part];
    if (chars.length === 1) out.push(part);
    for (let i = 0; i + 1 < chars.length; i += 1) out.push(chars[i]! + chars[i + 1]!);
  }
  return out;
}

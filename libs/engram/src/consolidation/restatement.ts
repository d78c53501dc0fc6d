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
 */

/** What of a text the comparison reads, computed once per text. */
export interface Wording {
  /** Lower-cased words and numbers, in order; apostrophes split ("bob's" is "bob", "s"). */
  words: string[];
  /** The numbers, in order ("7:40" is "7", "40"). */
  numbers: string;
  /** How many negations it holds ("not", "never", "don't"...). */
  negations: number;
}

const NEGATIONS: ReadonlySet<string> = new Set(["not", "no", "never", "none", "nothing", "nobody", "nowhere", "neither", "nor", "cannot", "without"]);

export function wording(text: string): Wording {
  const lower = text.toLowerCase();
  const words = lower.match(/[\p{L}\p{N}]+/gu) ?? [];
  const contracted = lower.match(/\p{L}n['’]t\b/gu)?.length ?? 0;
  return {
    words,
    numbers: (lower.match(/\p{N}+/gu) ?? []).join(" "),
    negations: contracted + words.filter((word) => NEGATIONS.has(word)).length,
  };
}

/** True when `a` and `b` may be restatements: same numbers, same negation count, shared words in the same order. */
export function mayMerge(a: Wording, b: Wording): boolean {
  if (a.numbers !== b.numbers || a.negations !== b.negations) return false;
  const inA = new Set(a.words);
  const inB = new Set(b.words);
  const sharedOfA = a.words.filter((word) => inB.has(word));
  const sharedOfB = b.words.filter((word) => inA.has(word));
  return sharedOfA.length === sharedOfB.length && sharedOfA.every((word, i) => word === sharedOfB[i]);
}

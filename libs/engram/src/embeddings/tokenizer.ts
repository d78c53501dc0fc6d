/**
 * A port of the SentencePiece (unigram) tokenizer that Universal Sentence Encoder Lite uses
 * (`@energetic-ai/embeddings`' `Tokenizer`, itself TensorFlow.js's), so that the static model
 * reads a text as the same piece ids its table was built from. It gives the same ids as the
 * original, quirks included (see below); it looks pieces up in a map instead of walking a trie,
 * which makes it several times faster.
 */

/** One vocabulary entry as `vocab.json` stores it: the piece and its log-probability. */
export type VocabEntry = readonly [piece: string, score: number | null];

/** Word boundary marker of SentencePiece. */
const SEPARATOR = "\u2581";
/** Ids below this are control symbols (`<unk>`, `<s>`, ...) that never match text. */
const RESERVED = 6;
/** Id of the unknown piece. */
export const UNKNOWN_ID = 0;

export class SentencePieceTokenizer {
  /**
   * Every piece and every prefix of one, by text: the piece's id, or -1 for a prefix that is not
   * a piece itself (a walk goes on past it). A flat map builds several times faster than a trie of
   * nodes, which matters: it is built on the first embedding.
   */
  private readonly prefixes = new Map<string, number>();
  /** Log-probability of each id; a `null` in vocab.json counts as 0, as in the original (`null + x`). */
  private readonly scores: Float64Array;
  /** Length (UTF-16 units) of each id's piece, used to walk back the best path like the original. */
  private readonly lengths: Uint8Array;

  constructor(vocabulary: readonly VocabEntry[]) {
    this.lengths = new Uint8Array(vocabulary.length);
    this.scores = new Float64Array(vocabulary.length);
    for (let id = 0; id < vocabulary.length; id += 1) {
      const [piece, score] = vocabulary[id]!;
      this.lengths[id] = Math.min(255, piece.length);
      this.scores[id] = score ?? 0;
      if (id < RESERVED || piece.length === 0) continue;
      // A later duplicate overrides an earlier one, as inserting into the original's trie does.
      this.prefixes.set(piece, id);
      for (let end = piece.length - 1; end > 0; end -= 1) {
        const prefix = piece.slice(0, end);
        if (this.prefixes.has(prefix)) break;
        this.prefixes.set(prefix, -1);
      }
    }
  }

  /** Piece ids of `text`, in order. An empty text gives no ids. */
  encode(text: string): number[] {
    const normalized = text.normalize("NFKC");
    if (normalized.length === 0) return [];
    const input = SEPARATOR + normalized.replace(/ /g, SEPARATOR);
    // The original indexes positions by code point; `points[u]` is the code point index at UTF-16
    // offset u (for u at a code point boundary), and `starts` lists those boundaries.
    const points = new Int32Array(input.length + 1);
    const starts: number[] = [];
    for (let u = 0; u < input.length; u += 1) {
      points[u] = starts.length;
      starts.push(u);
      const code = input.charCodeAt(u);
      if (code >= 0xd800 && code <= 0xdbff && u + 1 < input.length) {
        const next = input.charCodeAt(u + 1);
        if (next >= 0xdc00 && next <= 0xdfff) u += 1;
      }
    }
    const n = starts.length;
    points[input.length] = n;

    const best = new Float64Array(n + 1);
    const words = new Int32Array(n + 1);
    const { prefixes, scores } = this;
    // Forward Viterbi: every piece ending at a position is considered in order of its start, as the
    // original does, and a position's best score is final before pieces starting there extend it.
    for (let start = 0; start < n; start += 1) {
      let matched = false;
      const from = starts[start]!;
      for (let u = from + 1; u <= input.length; u += 1) {
        const id = prefixes.get(input.slice(from, u));
        if (id === undefined) break;
        if (id < 0) continue;
        matched = true;
        this.consider(best, words, points[u]!, scores[id]! + best[start]!, id);
      }
      // No piece starts here: one unknown symbol of score 0 covers one code point.
      if (!matched) this.consider(best, words, start + 1, best[start]!, UNKNOWN_ID);
    }

    const pieces: number[] = [];
    // Walk back by the piece's UTF-16 length, as the original does (it mixes the two units).
    for (let at = n; at > 0; at -= this.lengths[words[at]!]!) pieces.push(words[at]!);
    const merged: number[] = [];
    let previousUnknown = false;
    for (const id of pieces) {
      // Runs of unknown symbols collapse into one.
      if (!(previousUnknown && id === UNKNOWN_ID)) merged.push(id);
      previousUnknown = id === UNKNOWN_ID;
    }
    return merged.reverse();
  }

  /** The original keeps the first candidate, then any at least as good (ties go to later ones). */
  private consider(best: Float64Array, words: Int32Array, end: number, score: number, id: number): void {
    if (best[end] === 0 || score >= best[end]!) {
      best[end] = score;
      words[end] = id;
    }
  }
}

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

/**
 * Longest word (UTF-16 units) whose pieces are remembered. Most words are shorter; V8 copies a
 * slice this short instead of pointing into the text it came from, so a remembered word never keeps
 * a whole text alive.
 */
const MAX_REMEMBERED_WORD = 12;
/** Words remembered per generation; two generations are kept (the older is dropped when the newer fills). */
const WORDS_PER_GENERATION = 16_384;
/**
 * Two paths of a word whose scores (read from the word's separator) differ by less than this are a
 * tie that a different score before the word could decide otherwise (float64 sums round): such a
 * word is always read again in its text.
 */
const TIE_MARGIN = 1e-6;
/**
 * A text's score before a word beyond which its remembered pieces are not trusted either: the
 * rounding of a sum this large stays well below {@link TIE_MARGIN} for words of up to
 * {@link MAX_REMEMBERED_WORD} units (about 1e-8). Reached only by texts of tens of thousands of words.
 */
const MAX_LEAD = 1e6;

/** A word's pieces read on their own (from a score of 0 at its separator). */
interface WordPieces {
  ids: number[];
  /**
   * True when the same pieces are read after any negative score before the word: no tie within
   * {@link TIE_MARGIN}, no path of score exactly 0 (the original reads a 0 as "not reached yet")
   * and no piece of positive score (vocab.json gives ":30" a score of 30), so that no path of the
   * word can sum to 0 after a negative lead.
   */
  anyLead: boolean;
}

/** A surrogate (astral or lone): the original's walk back mixes units there, so the text is read whole. */
const SURROGATE = /[\ud800-\udfff]/;

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
  /**
   * Whether a text can be read word by word (see {@link encode}): true when the separator is a piece
   * and no piece has one past its first character or is longer than 255 (the walk back's unit).
   */
  private readonly byWord: boolean;
  /** The word reading's scratch (best score and last piece at each position), grown as needed. */
  private best = new Float64Array(64);
  private words = new Int32Array(64);
  /** Words read lately, and the generation before (a cheap bounded LRU). */
  private recent = new Map<string, WordPieces>();
  private older = new Map<string, WordPieces>();

  constructor(vocabulary: readonly VocabEntry[]) {
    this.lengths = new Uint8Array(vocabulary.length);
    this.scores = new Float64Array(vocabulary.length);
    let byWord = vocabulary.some(([piece], id) => id >= RESERVED && piece === SEPARATOR);
    for (let id = 0; id < vocabulary.length; id += 1) {
      const [piece, score] = vocabulary[id]!;
      this.lengths[id] = Math.min(255, piece.length);
      this.scores[id] = score ?? 0;
      if (piece.length > 255 || piece.indexOf(SEPARATOR, 1) > 0) byWord = false;
      if (id < RESERVED || piece.length === 0) continue;
      // A later duplicate overrides an earlier one, as inserting into the original's trie does.
      this.prefixes.set(piece, id);
      for (let end = piece.length - 1; end > 0; end -= 1) {
        const prefix = piece.slice(0, end);
        if (this.prefixes.has(prefix)) break;
        this.prefixes.set(prefix, -1);
      }
    }
    this.byWord = byWord;
  }

  /**
   * Piece ids of `text`, in order. An empty text gives no ids.
   *
   * Read word by word, each word's pieces remembered: no piece spans a separator (one only starts
   * a piece), so the best path of a text is the best paths of its words one after another, each
   * word's started from the text's score at its separator. That score matters to the original's
   * choices only through float rounding of near ties and its reading of a score of 0 as "not
   * reached"; a word where either could matter is read again in its text, from the exact score, so
   * the ids are always those of {@link encodeWhole}, whatever was read before.
   */
  encode(text: string): number[] {
    const normalized = text.normalize("NFKC");
    if (normalized.length === 0) return [];
    if (!this.byWord || SURROGATE.test(normalized)) return this.encodeWhole(normalized);
    const ids: number[] = [];
    let lead = 0;
    for (let from = 0; ; ) {
      const space = normalized.indexOf(" ", from);
      lead = this.readWord(space < 0 ? normalized.slice(from) : normalized.slice(from, space), lead, ids);
      if (space < 0) return ids;
      from = space + 1;
    }
  }

  /** Appends the pieces of `word` (its separator included) read after a text's score `lead`; returns the score after it. */
  private readWord(word: string, lead: number, ids: number[]): number {
    let known = word.length <= MAX_REMEMBERED_WORD ? this.remembered(word) : undefined;
    if (known === undefined && word.length <= MAX_REMEMBERED_WORD) {
      known = this.viterbi(SEPARATOR + word, 0);
      this.remember(word, known);
    }
    if (known !== undefined && (lead === 0 || (known.anyLead && lead < 0 && lead > -MAX_LEAD))) {
      // The same additions the best path's scores get in the original, in the same order.
      for (const id of known.ids) {
        ids.push(id);
        if (id !== UNKNOWN_ID) lead = this.scores[id]! + lead;
      }
      return lead;
    }
    const read = this.viterbi(SEPARATOR + word, lead);
    for (const id of read.ids) ids.push(id);
    return read.end;
  }

  private remembered(word: string): WordPieces | undefined {
    const recent = this.recent.get(word);
    if (recent !== undefined) return recent;
    const older = this.older.get(word);
    if (older !== undefined) this.remember(word, older);
    return older;
  }

  private remember(word: string, pieces: WordPieces): void {
    if (this.recent.size >= WORDS_PER_GENERATION) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(word, pieces);
  }

  /**
   * The original's forward Viterbi and walk back over `input` (one word with its separator, no
   * surrogate: a code point is one unit), from the score `lead` at its start. Returns the ids, the
   * score at its end and whether the same ids come from any lead (see {@link WordPieces}).
   */
  private viterbi(input: string, lead: number): WordPieces & { end: number } {
    const n = input.length;
    if (this.best.length <= n) {
      this.best = new Float64Array(2 * (n + 1));
      this.words = new Int32Array(2 * (n + 1));
    }
    const { best, words } = this;
    best.fill(0, 0, n + 1);
    words.fill(0, 0, n + 1);
    best[0] = lead;
    let anyLead = true;
    const { prefixes, scores } = this;
    for (let start = 0; start < n; start += 1) {
      let matched = false;
      for (let u = start + 1; u <= n; u += 1) {
        const id = prefixes.get(input.slice(start, u));
        if (id === undefined) break;
        if (id < 0) continue;
        matched = true;
        if (!this.considerTie(best, words, u, scores[id]! + best[start]!, id) || scores[id]! > 0) anyLead = false;
      }
      if (!matched && !this.considerTie(best, words, start + 1, best[start]!, UNKNOWN_ID)) anyLead = false;
    }
    const ids: number[] = [];
    let previousUnknown = false;
    for (let at = n; at > 0; at -= this.lengths[words[at]!]!) {
      const id = words[at]!;
      if (!(previousUnknown && id === UNKNOWN_ID)) ids.push(id);
      previousUnknown = id === UNKNOWN_ID;
    }
    return { ids: ids.reverse(), end: best[n]!, anyLead };
  }

  /** {@link consider}, telling whether its choice holds for any lead: false for a score of 0 or a near tie. */
  private considerTie(best: Float64Array, words: Int32Array, end: number, score: number, id: number): boolean {
    const before = best[end]!;
    this.consider(best, words, end, score, id);
    return score !== 0 && (before === 0 || Math.abs(score - before) >= TIE_MARGIN);
  }

  /**
   * The original algorithm over the whole text at once: the path for texts with surrogates, and
   * the reference {@link encode} is checked against.
   */
  encodeWhole(text: string): number[] {
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

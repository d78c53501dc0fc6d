/**
 * Vocabulary extension experiment (issue 13, Model2Vec's idea): whole words get their own rows in
 * the static table, each the teacher's (USE-Lite's) vector of the word itself, so a word the
 * SentencePiece vocabulary splits into pieces ("pottery" = "▁pot" + "tery") keeps its meaning
 * instead of the mean of its pieces'. The word list is not LoCoMo: the lexicon of the `compromise`
 * package plus the words of the distillation corpus' real sentences (node_modules READMEs,
 * /usr/share/doc; corpus.ts). Writes a lab.ts vector cache for the LoCoMo dev texts.
 *
 *   python3 src/static_model/center.py --model ../engram/models/static-use-lite.bin --out bench-results/static-center.json
 *   node --import tsx src/static_model/vocab_ext.ts --corpus <corpus.ts out>/corpus.txt --weight sum --out bench-results/lab-vectors-ext.json
 *   node --import tsx src/locomo/lab.ts --model static --vectors bench-results/lab-vectors-ext.json --name ext --variants final
 *
 * Measured (issue 13, docs/embeddings.md): 20,279 words split by the vocabulary get a row; held-out
 * R@10 71.9 (--weight sum or max) and 72.3 (mean) against 71.6 for the shipped table, the last
 * below it on two of five folds: not enough for a 3.5 times larger file and a build that embeds
 * 20,000 words with USE-Lite, so not shipped.
 */
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { Command } from "commander";
import nlp from "compromise";
import { loadStaticModel } from "../../../engram/src/embeddings/static_model.js";
import { SentencePieceTokenizer } from "../../../engram/src/embeddings/tokenizer.js";
import { float16Table } from "../../../engram/src/embeddings/float16.js";
import { embedWithUseLite } from "../locomo/use_lite_inline.js";
import { loadLocomo } from "../locomo/data.js";
import { devConversations, findLocomoData } from "../locomo/data_path.js";

const opts = new Command()
  .option("--corpus <file>", "distillation corpus (corpus.ts' corpus.txt), first --real lines are real sentences", "/tmp/sd/corpus.txt")
  .option("--real <n>", "real sentences at the head of the corpus", "12000")
  .option("--min-count <n>", "corpus words kept when seen at least this often", "2")
  .option("--words-cache <file>", "USE-Lite vectors of the words", "bench-results/static-words-use-lite.json")
  .option("--weight <how>", "weight of a word row: sum | max | mean of its pieces' weights", "sum")
  .option("--case <how>", "lookup: lower (lowercased word) | exact", "lower")
  .option("--out <file>", "lab vector cache to write", "bench-results/lab-vectors-ext.json")
  .option("--center <how>", "pieces (subtract the table's center from the word rows) | none", "pieces")
  .option("--center-file <file>", "the table's center (center.py)", "bench-results/static-center.json")
  .parse()
  .opts<{ corpus: string; real: string; minCount: string; wordsCache: string; weight: string; case: string; out: string; center: string; centerFile: string }>();

const model = await loadStaticModel();
const tokenizer = new SentencePieceTokenizer(model.header.vocabulary);
const dims = model.header.dimensions;
const halves = float16Table();
const SEP = "\u2581";

// ---- the word list (never LoCoMo) ----------------------------------------------------------------
const counts = new Map<string, number>();
const lines = readFileSync(opts.corpus, "utf8").split("\n").slice(0, Number(opts.real));
for (const line of lines) for (const w of line.match(/[A-Za-z]+(?:'[a-z]+)?/g) ?? []) counts.set(w.toLowerCase(), (counts.get(w.toLowerCase()) ?? 0) + 1);
const candidates = new Set<string>();
for (const [w, c] of counts) if (c >= Number(opts.minCount)) candidates.add(w);
const lexicon = Object.keys((nlp as unknown as { model(): { one: { lexicon: Record<string, string> } } }).model().one.lexicon);
for (const w of lexicon) if (/^[a-z]+(?:'[a-z]+)?$/.test(w)) candidates.add(w);
// Only words the vocabulary splits: a one-piece word already has its row (embedded by id, better).
const words = [...candidates].filter((w) => w.length >= 3 && tokenizer.encode(w).length >= 2).sort();
process.stderr.write(`${candidates.size} candidate words, ${words.length} split into pieces\n`);

// ---- the teacher's vector of each word (cached) ---------------------------------------------------
const cached = new Map<string, number[]>(existsSync(opts.wordsCache) ? (JSON.parse(readFileSync(opts.wordsCache, "utf8")) as Array<[string, number[]]>) : []);
const missing = words.filter((w) => !cached.has(w));
if (missing.length > 0) {
  const started = performance.now();
  for (let i = 0; i < missing.length; i += 512) {
    const batch = missing.slice(i, i + 512);
    const vectors = await embedWithUseLite(batch, 64);
    batch.forEach((w, j) => cached.set(w, vectors[j]!.map((x) => Math.round(x * 1e6) / 1e6)));
    process.stderr.write(`${Math.min(i + 512, missing.length)}/${missing.length} words (${((performance.now() - started) / (i + batch.length)).toFixed(2)} ms/word)\n`);
  }
  await writeFile(opts.wordsCache, JSON.stringify([...cached]));
}

// ---- the extended table -----------------------------------------------------------------------
const pieceVectors = new Float64Array(model.vectors.length);
for (let i = 0; i < pieceVectors.length; i += 1) pieceVectors[i] = halves[model.vectors[i]!]!;
// The shipped pieces are centered (static_build.ts' centerOf); the words get the same center
// subtracted, recovered from the table by center.py.
const center = opts.center === "pieces" ? Float64Array.from(JSON.parse(readFileSync(opts.centerFile, "utf8")) as number[]) : new Float64Array(dims);
const wordIndex = new Map<string, number>();
const wordRows: Float64Array[] = [];
const wordWeights: number[] = [];
for (const w of words) {
  const v = cached.get(w)!;
  const n = Math.hypot(...v) || 1;
  const row = new Float64Array(dims);
  for (let d = 0; d < dims; d += 1) row[d] = v[d]! / n - center[d]!;
  const ws = tokenizer.encode(w).map((id) => model.weights[id] ?? 0);
  const weight = opts.weight === "max" ? Math.max(...ws) : opts.weight === "mean" ? ws.reduce((a, b) => a + b, 0) / ws.length : ws.reduce((a, b) => a + b, 0);
  wordIndex.set(w, wordRows.length);
  wordRows.push(row);
  wordWeights.push(weight);
}

/** Each space-separated chunk: its word core from the extension table when the pieces align, else pieces. */
function encode(text: string): number[] {
  const sum = new Float64Array(dims);
  const add = (row: ArrayLike<number>, offset: number, weight: number, fromHalves: boolean) => {
    for (let d = 0; d < dims; d += 1) sum[d]! += weight * (fromHalves ? halves[(row as Uint16Array)[offset + d]!]! : (row as Float64Array)[d]!);
  };
  const normalized = text.replace(/\s+/g, " ").trim() || ".";
  for (const chunk of normalized.split(" ")) {
    const ids = tokenizer.encode(chunk);
    const m = /^([A-Za-z]+(?:'[a-z]+)?)/.exec(chunk);
    const key = m ? (opts.case === "lower" ? m[1]!.toLowerCase() : m[1]!) : undefined;
    const row = key === undefined ? undefined : wordIndex.get(key);
    let used = 0;
    if (row !== undefined) {
      // The pieces covering "▁" + core exactly: replace them by the word's row.
      let length = 0;
      const target = 1 + m![1]!.length;
      while (used < ids.length && length < target) length += model.header.vocabulary[ids[used++]!]![0].length;
      if (length === target) add(wordRows[row]!, 0, wordWeights[row]!, false);
      else used = 0;
    }
    for (const id of ids.slice(used)) add(model.vectors, id * dims, model.weights[id] ?? 0, true);
  }
  const norm = Math.hypot(...sum) || 1;
  return Array.from(sum, (x) => x / norm);
}

const dataPath = findLocomoData(undefined);
if (!dataPath) throw new Error("no LoCoMo data");
const texts: string[] = [];
for (const conv of devConversations(await loadLocomo(dataPath))) {
  for (const t of conv.turns) texts.push(`${t.speaker}: ${t.text}`);
  for (const q of conv.questions) texts.push(q.question);
}
const unique = [...new Set(texts)];
let replaced = 0;
const out: Array<[string, number[]]> = unique.map((t) => [t, encode(t).map((x) => Math.round(x * 1e6) / 1e6)]);
for (const t of unique) for (const chunk of t.split(" ")) if (wordIndex.has((/^[A-Za-z]+/.exec(chunk)?.[0] ?? "").toLowerCase())) replaced += 1;
await writeFile(opts.out, JSON.stringify(out));
process.stderr.write(`${unique.length} LoCoMo texts encoded (${replaced} word chunks with a word row) -> ${opts.out}\n`);

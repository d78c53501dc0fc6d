/**
 * Piece ids of every line of a text file (or every string of a JSON array), as the static model reads them (the engram tokenizer
 * port, with the same whitespace folding as `StaticEmbeddings`): writes `<out>.ids.i32` (all ids)
 * and `<out>.offsets.i32` (n + 1 offsets). Input for `fit_table.py`.
 *
 *   node --import tsx src/static_model/tokenize.ts <texts.txt> <out-prefix>
 */
import { readFileSync, writeFileSync } from "node:fs";
import { loadStaticModel } from "../../../engram/src/embeddings/static_model.js";
import { SentencePieceTokenizer } from "../../../engram/src/embeddings/tokenizer.js";

const [input, out] = process.argv.slice(2);
if (!input || !out) throw new Error("usage: tokenize.ts <texts.txt> <out-prefix>");
const model = await loadStaticModel();
const tokenizer = new SentencePieceTokenizer(model.header.vocabulary);
// A .json file holds an array of texts (they may contain newlines); any other file, one text a line.
const lines: string[] = input.endsWith(".json") ? (JSON.parse(readFileSync(input, "utf8")) as string[]) : readFileSync(input, "utf8").split("\n");
if (lines.at(-1) === "") lines.pop();
const offsets = new Int32Array(lines.length + 1);
const ids: number[] = [];
lines.forEach((line, i) => {
  const normalized = line.replace(/\s+/g, " ").trim();
  ids.push(...tokenizer.encode(normalized.length > 0 ? normalized : "."));
  offsets[i + 1] = ids.length;
});
writeFileSync(`${out}.ids.i32`, Buffer.from(new Int32Array(ids).buffer));
writeFileSync(`${out}.offsets.i32`, Buffer.from(offsets.buffer));
console.error(`${lines.length} texts, ${ids.length} pieces`);

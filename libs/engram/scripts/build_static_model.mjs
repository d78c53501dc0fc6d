#!/usr/bin/env node
// Part of the package build (after tsc): makes models/static-use-lite.bin, the default embeddings'
// table, from the USE-Lite weights installed with the package. Skips the work when the file is
// already built from the same inputs. Usage: node scripts/build_static_model.mjs [--force]
// `--unmapped <file>` writes the table without the map into USE-Lite's space instead: the table
// that libs/bench/src/static_model/both_map.py fits the map against (build-inputs/static-map.f32).
import { rm } from "node:fs/promises";
import { buildStaticModel } from "../dist/embeddings/static_build.js";
import { DEFAULT_STATIC_MODEL_PATH } from "../dist/embeddings/static_model.js";

const unmapped = process.argv.indexOf("--unmapped");
if (unmapped >= 0) {
  const path = process.argv[unmapped + 1];
  if (!path) throw new Error("--unmapped needs the file to write");
  await buildStaticModel(path, (line) => console.log(line), { map: false });
  process.exit(0);
}
if (process.argv.includes("--force")) await rm(DEFAULT_STATIC_MODEL_PATH, { force: true });
const outcome = await buildStaticModel(DEFAULT_STATIC_MODEL_PATH, (line) => console.log(line));
if (outcome === "up to date") console.log(`static model: up to date (${DEFAULT_STATIC_MODEL_PATH})`);

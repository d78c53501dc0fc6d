// Loaded with `node --import` by memory/serverless.int.test.ts (a process standing in for a
// serverless bundle): any load of better-sqlite3, TF.js (@tensorflow/*, @energetic-ai/*) or
// Chroma's native bindings (chromadb-js-bindings-*) throws, by require or by import, and is
// appended to the file named by ENGRAM_BLOCKED_LOG so a caught failure cannot hide it.
import Module, { register } from "node:module";
import { appendFileSync } from "node:fs";

const pattern = "^(better-sqlite3|@tensorflow/|@energetic-ai/|chromadb-js-bindings)";
const log = process.env.ENGRAM_BLOCKED_LOG ?? "";
const blocked = new RegExp(pattern);
const load = Module._load;
Module._load = function (request, ...rest) {
  if (blocked.test(request)) {
    if (log) appendFileSync(log, `require ${request}\n`);
    throw new Error(`${request} is blocked in this process`);
  }
  return load.call(this, request, ...rest);
};
// The ESM resolve hook runs on the loader's own thread: it logs to the same file.
const hook = `
import { appendFileSync } from "node:fs";
const blocked = new RegExp(${JSON.stringify(pattern)});
const log = ${JSON.stringify(log)};
export async function resolve(specifier, context, next) {
  if (blocked.test(specifier)) {
    if (log) appendFileSync(log, "import " + specifier + "\\n");
    throw new Error(specifier + " is blocked in this process (esm)");
  }
  return next(specifier, context);
}`;
register("data:text/javascript," + encodeURIComponent(hook));

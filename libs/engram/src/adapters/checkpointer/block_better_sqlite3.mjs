// Loaded with `node --import` by no_native.int.test.ts: any load of better-sqlite3 (require or import) throws.
import Module, { register } from "node:module";
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === "better-sqlite3") throw new Error("better-sqlite3 is blocked in this process");
  return load.call(this, request, ...rest);
};
register("data:text/javascript," + encodeURIComponent(`export async function resolve(s, c, n) { if (s === "better-sqlite3") throw new Error("better-sqlite3 is blocked (esm)"); return n(s, c); }`));

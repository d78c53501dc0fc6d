// Loaded with `node --import` by state/sqlite/native_addon.int.test.ts: `better-sqlite3` resolves
// to the copy in ENGRAM_UNBUILT_SQLITE/node_modules, which has the package's code but no build/
// folder, as npm leaves it when the package's install script did not run (`ignore-scripts`, or
// not approved in `allowScripts`). Its own `bindings` dependency then finds no native module.
import Module from "node:module";
import { join } from "node:path";

const root = process.env.ENGRAM_UNBUILT_SQLITE;
if (!root) throw new Error("ENGRAM_UNBUILT_SQLITE names the folder of the unbuilt copy");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === "better-sqlite3") return join(root, "node_modules", "better-sqlite3", "lib", "index.js");
  return resolve.call(this, request, ...rest);
};

/**
 * A user's script for store/chroma_hang_exit.int.test.ts, run as
 * `node --import tsx hang_child.ts <dataDir>`: on the embedded default with a 3 s request deadline,
 * it adds a memory, stops its own Chroma (SIGSTOP, a server that lives but does not answer), adds
 * another and awaits it at the top level, then prints one JSON line: the second add's `pending`
 * and whether Chroma was started again. Nothing else keeps the process alive: if Engram's wait for
 * the hung server holds no handle, the process ends in the middle of the call (exit code 13, no line).
 */
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../index.js";
import { chromaPid } from "./chroma.js";
import { join } from "node:path";

const dataDir = process.argv[2]!;
const path = join(dataDir, "chroma");
const memory = new Memory({ dataDir, embeddings: new StaticEmbeddings(), writes: "sync", chroma: { timeoutMs: 3_000 } });
await memory.add("I live in Lisbon.", { userId: "alice" });
const hung = chromaPid(path)!;
process.kill(hung, "SIGSTOP");
const added = await memory.add("I have a cat named Miso.", { userId: "alice" });
const fresh = chromaPid(path);
await memory.close();
process.stdout.write(`${JSON.stringify({ pending: added.pending, restarted: fresh !== undefined && fresh !== hung })}\n`);

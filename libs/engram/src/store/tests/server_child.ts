/**
 * An application process on a data folder's local Chroma server, driven by its parent (for
 * store/chroma_restart_race.int.test.ts and store/chroma_start_kill.int.test.ts).
 * Run as `node --import tsx server_child.ts <chroma folder> [maxRestarts]`. Prints one JSON line per step:
 * `{ ready }` before it starts, then `{ url, reused, pid }` (or `{ error }`) once it has a server;
 * then for each line on stdin: `heal` (heal the handle, then report), `url` (report). When stdin
 * ends it stops its handle and exits.
 */
import { createInterface } from "node:readline";
import { startChromaServer, type ChromaServer } from "../chroma_server.js";

const [path, maxRestarts] = process.argv.slice(2);

function report(value: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(value) + "\n");
}

function describe(server: ChromaServer): Record<string, unknown> {
  return { url: server.url, reused: server.reused, pid: server.pid };
}

report({ ready: true });
let server: ChromaServer;
try {
  server = await startChromaServer({ path: path!, startTimeoutMs: 180_000, ...(maxRestarts ? { maxRestarts: Number(maxRestarts) } : {}) });
  report(describe(server));
} catch (error) {
  report({ error: (error as Error).message.split("\n")[0] });
  process.exit(0);
}
for await (const line of createInterface({ input: process.stdin })) {
  try {
    if (line === "heal") await server.heal();
    report(describe(server));
  } catch (error) {
    report({ error: (error as Error).message.split("\n")[0] });
  }
}
await server.stop();
process.exit(0);

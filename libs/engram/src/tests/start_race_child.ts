/**
 * For store/chroma_start_race.int.test.ts: starts (or reuses) the local Chroma server of a data
 * folder at a given moment, prints `{ url, reused }` (or `{ error }`), then holds its handle until
 * its stdin closes, and stops it.
 * Run as `node --import tsx start_race_child.ts <chroma folder> <start at, ms since epoch>`.
 */
import { startChromaServer } from "../store/chroma_server.js";

const [path, startAt] = process.argv.slice(2);
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
try {
  const server = await startChromaServer({ path: path! });
  process.stdout.write(JSON.stringify({ url: server.url, reused: server.reused }) + "\n");
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once("end", resolve));
  await server.stop();
} catch (error) {
  process.stdout.write(JSON.stringify({ error: (error as Error).message.split("\n")[0] }) + "\n");
}
process.exit(0);

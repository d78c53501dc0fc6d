/**
 * A process that extracts facts for a user and holds its run in the middle of the model call, for
 * the tests of two processes extracting for one user (memory/facts_*.int.test.ts). Run as
 * `node --import tsx fact_holder_child.ts '<json>'` with a {@link FactHolderConfig}.
 *
 * It adds `exchange` (debounce 0, so the run starts at once and takes the user's "facts" lock),
 * prints `extracting` when the model is called, answers once the file `release` exists, waits for
 * its fact to be stored, closes and prints `done`. The extraction finds one fact per "remember: <text>" in the
 * conversation; reconciliation adds every new fact.
 */
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../memory/memory.js";
import { factModel } from "./fake_chat.js";
import { addEveryFact, namedFacts, type FactHolderConfig } from "./fact_holder.js";

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "{}") as FactHolderConfig;
  const say = (line: string) => process.stdout.write(line + "\n");
  const model = factModel({
    extract: [
      async (messages) => {
        say("extracting");
        while (!existsSync(config.release)) await sleep(20);
        return JSON.stringify({ facts: namedFacts(messages[1]?.text ?? "").map((text) => ({ text, entities: [] })) });
      },
    ],
    reconcile: [(messages) => addEveryFact(messages.at(-1)?.text ?? "")],
  });
  const memory = new Memory({
    dataDir: config.dataDir,
    chroma: { url: config.chromaUrl },
    prefix: config.prefix,
    embeddings: new StaticEmbeddings(),
    model,
    facts: { debounceMs: 0 },
  });
  await memory.add(config.exchange, { userId: config.userId, threadId: config.threadId });
  // Its own run only (flush() would also run the jobs other processes queue meanwhile): done once
  // its fact is stored; close() then waits for the run to settle (its job completed, the lock freed).
  while ((await memory.getAll({ userId: config.userId, kind: "fact" })).length === 0) await sleep(20);
  await memory.close();
  say("done");
}

await main();

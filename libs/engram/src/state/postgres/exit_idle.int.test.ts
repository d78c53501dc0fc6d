import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestChroma, type TestChroma } from "../../tests/chroma.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../../tests/postgres.js";

/*
 * A replica that is done exits by itself even when it never calls close(): the state's idle
 * PostgreSQL connections do not hold its event loop (the pool's allowExitOnIdle, set by Engram).
 * Before, such a process waited for pg's idle timeout before it could exit (10 s by default; the
 * child below sets 120 s, so that a process held by the pool is told apart from a slow machine).
 */

jest.setTimeout(300_000); // a hang, not a slow machine

const MEMORY = fileURLToPath(new URL("../../memory/memory.ts", import.meta.url));
const STATIC = fileURLToPath(new URL("../../embeddings/static.ts", import.meta.url));

let chroma: TestChroma | undefined;
let postgres: TestPostgres | undefined;

beforeAll(async () => {
  [chroma, postgres] = await Promise.all([startTestChroma(), startPostgres()]);
});

afterAll(async () => {
  await chroma?.stop();
  await postgres?.stop();
});

/** Runs the child; resolves with the ms between its last line and its exit, and its exit code. */
function runChild(code: string): Promise<{ lingerMs: number; exit: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      env: { ...process.env, NODE_OPTIONS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let doneAt = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("done\n") && doneAt === 0) doneAt = Date.now();
    });
    child.stderr.on("data", (chunk: Buffer) => void (err += chunk.toString()));
    child.on("exit", (exit) => resolve({ lingerMs: doneAt === 0 ? -1 : Date.now() - doneAt, exit, out, err }));
  });
}

describe("a replica on PostgreSQL state that never calls close()", () => {
  it("exits by itself once its work is done, not after the pool's idle timeout", async () => {
    const database = await freshDatabase(postgres!.url, "engram_exit");
    const code = `
      import { Memory } from ${JSON.stringify(MEMORY)};
      import { StaticEmbeddings } from ${JSON.stringify(STATIC)};
      const memory = new Memory({
        dataDir: ${JSON.stringify(join(chroma!.dir, "replica"))},
        chroma: { url: ${JSON.stringify(chroma!.server.url)} },
        state: { postgres: { connectionString: ${JSON.stringify(database)}, idleTimeoutMillis: 120000 } },
        embeddings: new StaticEmbeddings(),
        writes: "sync",
      });
      await memory.add("I moved to Lisbon in March.", { userId: "ana" });
      const [hit] = await memory.search("Where does she live?", { userId: "ana" });
      console.log(hit?.content);
      console.log("done");
    `;
    const run = await runChild(code);
    expect({ exit: run.exit, err: run.err }).toEqual({ exit: 0, err: "" });
    expect(run.out).toContain("I moved to Lisbon in March.");
    // Held by the pool, it would linger 120 s; an idle process ends in well under a minute.
    expect(run.lingerMs).toBeGreaterThanOrEqual(0);
    expect(run.lingerMs).toBeLessThan(60_000);
  });
});

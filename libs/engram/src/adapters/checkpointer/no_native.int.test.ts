import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testMemories } from "../../tests/memories.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../../tests/postgres.js";

// EngramCheckpointer where native modules cannot load (a serverless bundle): a child process in
// which any load of better-sqlite3 throws runs the checkpointer over PostgresSaver with Memory's
// PostgreSQL state, on a real PostgreSQL cluster and a real Chroma server.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const HERE = fileURLToPath(new URL(".", import.meta.url));
const memories = testMemories();
let postgres: TestPostgres | undefined;
let pgUrl = "";
beforeAll(async () => {
  postgres = await startPostgres();
  pgUrl = await freshDatabase(postgres.url, "engram_no_native");
});
afterAll(async () => {
  await postgres?.stop();
});

async function child(mode: "postgres" | "default"): Promise<{ code: number | null; out: string; err: string }> {
  const config = { mode, pgUrl, chromaUrl: memories.chroma.server.url, dataDir: join(memories.chroma.dir, `child-${mode}`) };
  return new Promise((resolve) => {
    const proc = spawn(
      process.execPath,
      ["--import", join(HERE, "block_better_sqlite3.mjs"), "--import", "tsx", join(HERE, "no_native_child.ts"), JSON.stringify(config)],
      { env: { ...process.env, NODE_OPTIONS: "" } },
    );
    let out = "";
    let err = "";
    proc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    proc.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    proc.on("close", (code) => resolve({ code, out, err }));
  });
}

describe("EngramCheckpointer without native modules", () => {
  it("runs over PostgresSaver and PostgreSQL state in a process where better-sqlite3 cannot load", async () => {
    const { code, out, err } = await child("postgres");
    expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
    const seen = JSON.parse(out.trim().split("\n").pop()!) as Record<string, unknown>;
    expect(seen).toEqual({
      filed: 6, // three turns, each a human and an AI message
      pruned: expect.any(Number),
      hit: "I play the cello.",
      messages: 6, // the newest checkpoint, all that is left, still holds the whole thread
      left: 0, // deleteThread erased the thread's memories
      checkpointsFile: false,
    });
    expect(seen.pruned).toBeGreaterThan(0);
  });

  it("the block is real: the default SQLite saver cannot load in that process", async () => {
    const { code, out } = await child("default");
    expect(code).toBe(0);
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual({ defaultSaver: expect.stringMatching(/better-sqlite3 is blocked/) });
  });
});

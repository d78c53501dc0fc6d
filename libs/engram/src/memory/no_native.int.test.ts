import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestChroma, tempDir, type TestChroma } from "../tests/chroma.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../tests/postgres.js";

// Memory where native modules cannot load (a serverless bundle, issue 16.5): a child process in
// which any load of better-sqlite3 throws imports the `engram` entry and runs every Memory call
// with a Chroma server by URL, PostgreSQL state and the pure-JS static model, against a real
// PostgreSQL cluster and a real Chroma server.

jest.setTimeout(180_000);

const HERE = fileURLToPath(new URL(".", import.meta.url));
let chroma: TestChroma | undefined;
let postgres: TestPostgres | undefined;
let pgUrl = "";
let dir = "";

beforeAll(async () => {
  [chroma, postgres, dir] = await Promise.all([startTestChroma(), startPostgres(), tempDir("engram-no-native-")]);
  pgUrl = await freshDatabase(postgres.url, "engram_memory_no_native");
});

afterAll(async () => {
  await Promise.all([chroma?.stop(), postgres?.stop()]);
});

async function child(mode: "postgres" | "sqlite"): Promise<{ code: number | null; out: string; err: string }> {
  const config = { mode, pgUrl, chromaUrl: chroma!.server.url, dataDir: join(dir, mode) };
  return new Promise((resolve) => {
    const proc = spawn(
      process.execPath,
      ["--import", join(HERE, "..", "adapters", "checkpointer", "block_better_sqlite3.mjs"), "--import", "tsx", join(HERE, "no_native_child.ts"), JSON.stringify(config)],
      { env: { ...process.env, NODE_OPTIONS: "" } },
    );
    let out = "";
    let err = "";
    proc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    proc.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    proc.on("close", (code) => resolve({ code, out, err }));
  });
}

describe("Memory without native modules", () => {
  it("imports engram and runs every call over PostgreSQL state in a process where better-sqlite3 cannot load", async () => {
    const { code, out, err } = await child("postgres");
    expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual({
      hit: "I play the cello in an orchestra.",
      got: "I play the viola in an orchestra.",
      history: ["ADD", "UPDATE"],
      pending: 0,
      usage: 0,
      erased: { deleted: 2, history: 3, pending: 0 },
      left: 0,
      bob: ["Bob likes chess."],
      loaded: false,
    });
  });

  it("the block is real: Memory's default SQLite state cannot open in that process", async () => {
    const { code, out } = await child("sqlite");
    expect(code).toBe(0);
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual({ sqlite: expect.stringMatching(/better-sqlite3/) });
  });
});

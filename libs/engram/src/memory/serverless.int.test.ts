import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../tests/postgres.js";

// Serverless-ready (issue 16.5): with `chroma: { url }`, PostgreSQL state and StaticEmbeddings,
// importing Engram and every call of Memory load no native addon. The child runs where loading
// better-sqlite3, TF.js or Chroma's bindings throws and logs the attempt; the test also reads the
// child's loaded shared objects, so any `.node` addon is seen, blocked or not.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const TESTS = fileURLToPath(new URL("../tests/", import.meta.url));
let chroma: TestChroma | undefined;
let postgres: TestPostgres | undefined;
let pgUrl = "";

beforeAll(async () => {
  [chroma, postgres] = await Promise.all([startTestChroma(), startPostgres()]);
  pgUrl = await freshDatabase(postgres.url, "engram_serverless");
});
afterAll(async () => {
  await chroma?.stop();
  await postgres?.stop();
});

interface ChildRun {
  code: number | null;
  last: Record<string, unknown>;
  err: string;
  blocked: string;
}

async function child(mode: "memory" | "sqlite"): Promise<ChildRun> {
  const log = join(chroma!.dir, `blocked-${mode}.log`);
  const config = { mode, pgUrl, chromaUrl: chroma!.server.url, dataDir: join(chroma!.dir, `child-${mode}`) };
  const { code, out, err } = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const proc = spawn(
      process.execPath,
      ["--import", join(TESTS, "block_native.mjs"), "--import", "tsx", join(TESTS, "serverless_child.ts"), JSON.stringify(config)],
      { env: { ...process.env, NODE_OPTIONS: "", ENGRAM_BLOCKED_LOG: log } },
    );
    let out = "";
    let err = "";
    proc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    proc.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    proc.on("close", (exit) => resolve({ code: exit, out, err }));
  });
  const blocked = await readFile(log, "utf8").catch(() => "");
  const lines = out.trim().split("\n");
  return { code, last: code === 0 ? (JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>) : {}, err, blocked };
}

describe("Memory where native modules cannot load (serverless)", () => {
  it("imports engram and runs add, search, get, update, history, flush, usage, delete and deleteAll over Chroma's server and PostgreSQL, loading no native addon", async () => {
    const run = await child("memory");
    expect({ code: run.code, err: run.code === 0 ? "" : run.err }).toEqual({ code: 0, err: "" });
    expect(run.last).toEqual({
      hit: "I play the cello on Sundays.",
      got: "I play the viola on Sundays.",
      history: ["ADD", "UPDATE"],
      pending: 0,
      usage: 0,
      afterDelete: ["I play the viola on Sundays."],
      erased: { deleted: 1, history: 4, pending: 0 },
      left: 0,
      bob: ["Bob keeps bees."],
      addonsAtImport: [],
      addons: [],
      // Nothing local: no data folder is made (the local disk of a function disappears).
      dataDirMade: false,
    });
    // Nothing even tried to load better-sqlite3, TF.js or Chroma's bindings.
    expect(run.blocked).toBe("");
  });

  it("the block is real: the default SQLite state cannot load in that process, and the attempt is logged", async () => {
    const run = await child("sqlite");
    expect(run.code).toBe(0);
    expect(String(run.last.sqlite)).toMatch(/better-sqlite3 is blocked/);
    expect(run.blocked).toMatch(/better-sqlite3/);
  });
});

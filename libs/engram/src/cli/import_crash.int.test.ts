import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { seedStaticFolder } from "../tests/static_folder.js";
import { spawn } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../memory/memory.js";
import { startChromaProxy, type ChromaProxy } from "../tests/chroma_proxy.js";
import { startTestChroma, tempDir, type TestChroma } from "../tests/chroma.js";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const SLOW = 600_000;
/** More than one store write of the drain (1,000 records each): the kill lands between two. */
const TOTAL = 3_000;

let chroma: TestChroma;
let proxy: ChromaProxy;
let dir: string;
let dataDir: string;
const embeddings = new StaticEmbeddings();

beforeAll(async () => {
  chroma = await startTestChroma();
  proxy = await startChromaProxy(chroma.server.url);
  dir = await tempDir("engram-cli-crash-");
  dataDir = join(dir, "data");
  // The folder records the static model, so the CLI embeds with it (3,000 lines in a few seconds).
  await seedStaticFolder(dataDir, chroma.server.url);
}, SLOW);

afterAll(async () => {
  await proxy?.close();
  await chroma?.stop();
  await rm(dir, { recursive: true, force: true });
});

function engramImport(file: string, url: string): { closed: Promise<{ code: number | null; signal: string | null; out: string; err: string }>; kill(): void } {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "import", file, "--user", "kim", "--data-dir", dataDir, "--chroma-url", url], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => void (err += chunk.toString()));
  return {
    closed: new Promise((done) => child.on("close", (code, signal) => done({ code, signal, out, err }))),
    kill: () => void child.kill("SIGKILL"),
  };
}

/** How many history entries of kim the folder holds (one per stored line). */
function historyRows(): number {
  const db = new Database(join(dataDir, "engram.sqlite"), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM history WHERE user_id = ?").get("kim") as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("kill -9 of engram import in the middle of a large file", () => {
  it("and the same import again: every line stored exactly once, with one history entry each", async () => {
    const file = join(dir, "kim.jsonl");
    const ids = Array.from({ length: TOTAL }, (_, i) => `kim-${String(i).padStart(4, "0")}`);
    await writeFile(file, ids.map((id, i) => JSON.stringify({ id, content: `Kim's reading note ${i}: chapter ${i} of the long book`, createdAt: 1_700_000_000_000 + i })).join("\n") + "\n");

    // Killed while its second store write is in flight (held by the proxy, never forwarded): the
    // first 1,000 lines are stored, the rest wait in the outbox of the folder.
    let upserts = 0;
    const hold = proxy.hold((request) => request.path.endsWith("/upsert") && (upserts += 1) === 2);
    const first = engramImport(file, proxy.url);
    await hold.arrived;
    first.kill();
    const killed = await first.closed;
    hold.drop();
    expect(killed.signal).toBe("SIGKILL");
    expect(historyRows()).toBe(1_000);

    const again = await engramImport(file, chroma.server.url).closed;
    expect({ code: again.code, err: again.err }).toEqual({ code: 0, err: "" });
    expect(again.out).toMatch(new RegExp(`^Imported \\d+ memories for user "kim" from .* \\(\\d+ already present\\)\\.\\n$`));

    const memory = new Memory({ dataDir, embeddings, chroma: { url: chroma.server.url } });
    try {
      const stored = await memory.getAll({ userId: "kim", limit: 10_000 });
      expect(stored.map((record) => record.id).sort()).toEqual(ids);
      expect(await memory.state.outbox().size("kim")).toBe(0);
    } finally {
      await memory.close();
    }
    const db = new Database(join(dataDir, "engram.sqlite"), { readonly: true, fileMustExist: true });
    try {
      const history = db.prepare("SELECT memory_id AS id, event, COUNT(*) AS n FROM history WHERE user_id = ? GROUP BY memory_id, event").all("kim") as Array<{ id: string; event: string; n: number }>;
      expect(history.filter((row) => row.event !== "ADD" || row.n !== 1)).toEqual([]);
      expect(history.map((row) => row.id).sort()).toEqual(ids);
    } finally {
      db.close();
    }
  }, SLOW);
});

import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../memory/memory.js";
import { startTestChroma, tempDir, type TestChroma } from "../tests/chroma.js";
import { startReplyHoldProxy, type ReplyHoldProxy, type SeenRequest } from "../tests/reply_hold_proxy.js";
import type { ExportedMemory } from "./jsonl.js";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const SLOW = 600_000;
/** More than one page of getAll (10,000): the export reads the user in two calls. */
const TOTAL = 10_050;
const BASE = 1_700_000_000_000;

let chroma: TestChroma;
let proxy: ReplyHoldProxy;
let dir: string;
let dataDir: string;
const embeddings = new StaticEmbeddings();

/** A Memory of the application using the folder while the export runs (straight to the server). */
function app(): Memory {
  return new Memory({ dataDir, embeddings, chroma: { url: chroma.server.url }, writes: "sync" });
}

const note = (i: number) => ({ id: `note-${i}`, content: `Hal's note ${i}: the kettle on shelf ${i}`, createdAt: BASE + i });

beforeAll(async () => {
  chroma = await startTestChroma();
  proxy = await startReplyHoldProxy(chroma.server.url);
  dir = await tempDir("engram-cli-pages-");
  dataDir = join(dir, "data");
  const memory = app();
  try {
    const items = Array.from({ length: TOTAL }, (_, i) => note(i));
    for (let first = 0; first < TOTAL; first += 1_000) await memory.addMany(items.slice(first, first + 1_000), { userId: "hal", infer: false });
  } finally {
    await memory.close();
  }
}, SLOW);

afterAll(async () => {
  await proxy?.close();
  await chroma?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The store read of the whole user that each getAll page makes (no ids: a list). */
const listOf = (user: string) => (request: SeenRequest): boolean =>
  request.path.endsWith("/get") && request.body.includes(`"userId":{"$eq":"${user}"}`) && !request.body.includes('"ids"');

/**
 * `engram export` in a real child process through the proxy; `meanwhile` runs in the window after
 * its first page was read and before its second (the first list's answer is held until it is done).
 */
async function exportDuring(meanwhile: () => Promise<void>): Promise<ExportedMemory[]> {
  const hold = proxy.hold(listOf("hal"));
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "export", "--user", "hal", "--data-dir", dataDir, "--chroma-url", proxy.url], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => void (err += chunk.toString()));
  const closed = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
  try {
    await hold.answered;
    await meanwhile();
  } finally {
    hold.release();
  }
  expect({ code: await closed, err }).toEqual({ code: 0, err: "" });
  return out.trimEnd().split("\n").map((line) => JSON.parse(line) as ExportedMemory);
}

async function liveIds(): Promise<string[]> {
  const memory = app();
  try {
    const ids: string[] = [];
    for (let offset = 0; ; offset += 10_000) {
      const page = await memory.getAll({ userId: "hal", limit: 10_000, offset });
      ids.push(...page.map((record) => record.id));
      if (page.length < 10_000) return ids;
    }
  } finally {
    await memory.close();
  }
}

describe("engram export of a user of more than one page while an application changes it", () => {
  it("misses no record when newer ones are deleted between its pages", async () => {
    const lines = await exportDuring(async () => {
      const memory = app();
      try {
        for (let i = TOTAL - 5; i < TOTAL; i += 1) await memory.delete(`note-${i}`, { userId: "hal" });
      } finally {
        await memory.close();
      }
    });
    const exported = new Set(lines.map((line) => line.id));
    // Every memory the user still has is in the file (before: the 5 at the page boundary were not).
    expect((await liveIds()).filter((id) => !exported.has(id))).toEqual([]);
    expect(exported.size).toBe(lines.length);
  }, SLOW);

  it("writes no record twice when newer ones are added between its pages (the file stays importable)", async () => {
    const lines = await exportDuring(async () => {
      const memory = app();
      try {
        await memory.addMany(Array.from({ length: 5 }, (_, i) => note(TOTAL + 100 + i)), { userId: "hal", infer: false });
      } finally {
        await memory.close();
      }
    });
    const ids = lines.map((line) => line.id);
    // Before: the 5 records pushed across the page boundary were written twice, and import refuses a repeated id.
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
    // Oldest first, as docs/cli.md says.
    expect(lines.map((line) => line.createdAt)).toEqual([...lines.map((line) => line.createdAt)].sort((a, b) => a - b));
  }, SLOW);
});

describe("engram import while an application writes the same user", () => {
  it("counts the file's memories it added, not the application's", async () => {
    const file = join(dir, "jo.jsonl");
    await writeFile(file, Array.from({ length: 4 }, (_, i) => JSON.stringify({ id: `jo-${i}`, content: `Jo's recipe ${i}` })).join("\n") + "\n");
    // Jo has a memory already, so her collection exists and the import's count before reads the store.
    const seed = app();
    try {
      await seed.add("Jo's first note", { userId: "jo" });
    } finally {
      await seed.close();
    }
    // Held: the import's first read of the user (its count before), answered before the application writes.
    const hold = proxy.hold(listOf("jo"));
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, "import", file, "--user", "jo", "--data-dir", dataDir, "--chroma-url", proxy.url], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => void (err += chunk.toString()));
    const closed = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
    try {
      await hold.answered;
      const memory = app();
      try {
        await memory.addMany([{ content: "Jo's shopping list" }, { content: "Jo's train time" }, { content: "Jo's dentist" }], { userId: "jo", infer: false });
      } finally {
        await memory.close();
      }
    } finally {
      hold.release();
    }
    // Before: "Imported 7 memories", the application's 3 counted as the file's.
    expect({ code: await closed, out, err }).toEqual({ code: 0, out: `Imported 4 memories for user "jo" from ${file} (0 already present).\n`, err: "" });
  }, SLOW);
});

import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { seedStaticFolder } from "../tests/static_folder.js";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HistoryEntry, MemoryRecord } from "../core/types.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../memory/memory.js";
import { chromaPid, startTestChroma, tempDir, type TestChroma } from "../tests/chroma.js";
import { localServerStatus } from "./server_status.js";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const SLOW = 600_000;

interface Child {
  code: number | null;
  out: string;
  err: string;
}

/**
 * `engram <args>` in a real child process (the CLI from its sources), as a user runs it. With
 * `closeAfterFirstOutput`, the test stops reading once the first bytes arrive (a reader like `head`).
 */
function engram(args: string[], closeAfterFirstOutput = false): Promise<Child> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const result: Child = { code: null, out: "", err: "" };
  child.stdout.on("data", (chunk: Buffer) => {
    result.out += chunk.toString();
    if (closeAfterFirstOutput) child.stdout.destroy();
  });
  child.stderr.on("data", (chunk: Buffer) => void (result.err += chunk.toString()));
  return new Promise((done) =>
    child.on("close", (code) => {
      result.code = code;
      done(result);
    }),
  );
}

let chroma: TestChroma;
let dir: string;
/** A folder whose state records the static model, so the CLI embeds with it (fast) when it imports. */
let folder: string;
const embeddings = new StaticEmbeddings();

beforeAll(async () => {
  chroma = await startTestChroma();
  dir = await tempDir("engram-cli-child-");
  folder = join(dir, "data");
  await seedStaticFolder(folder, chroma.server.url);
}, SLOW);

afterAll(async () => {
  await chroma?.stop();
  await rm(dir, { recursive: true, force: true });
});

const at = (data = folder, prefix = "engram"): string[] => ["--chroma-url", chroma.server.url, "--data-dir", data, "--prefix", prefix];

async function listOf(user: string): Promise<MemoryRecord[]> {
  const run = await engram(["list", "--user", user, "--json", ...at()]);
  expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: "" });
  return JSON.parse(run.out) as MemoryRecord[];
}

async function historyOf(id: string, user: string): Promise<HistoryEntry[]> {
  const run = await engram(["history", id, "--user", user, "--json", ...at()]);
  expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: "" });
  return JSON.parse(run.out) as HistoryEntry[];
}

describe("engram import: a file that is not UTF-8", () => {
  it("is refused with INVALID_IMPORT naming the line, before anything is written (not stored with U+FFFD in place of a character)", async () => {
    const fresh = join(dir, "latin1-data");
    // "café" saved as Latin-1 (Windows-1252), the way an older editor or a spreadsheet writes it.
    const latin1 = Buffer.concat([Buffer.from('{"id":"ok","content":"Erin likes tea"}\n{"id":"cafe","content":"Erin runs a caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);
    await writeFile(join(dir, "latin1.jsonl"), latin1);
    const run = await engram(["import", join(dir, "latin1.jsonl"), "--user", "erin", ...at(fresh, "latin1")]);
    expect({ code: run.code, out: run.out }).toEqual({ code: 1, out: "" });
    expect(run.err).toBe(
      "error [INVALID_IMPORT]: Line 2: byte 0xe9 (byte 79 of the file) is not UTF-8. Save the file as UTF-8. Nothing was imported.\n",
    );
    // Refused before the data folder was opened.
    expect(existsSync(join(fresh, "engram.sqlite"))).toBe(false);

    // A file saved as UTF-16 (Windows' "Unicode") says so.
    await writeFile(join(dir, "utf16.jsonl"), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"content":"Erin likes tea"}\n', "utf16le")]));
    const utf16 = await engram(["import", join(dir, "utf16.jsonl"), "--user", "erin", ...at(fresh, "latin1")]);
    expect({ code: utf16.code, out: utf16.out }).toEqual({ code: 1, out: "" });
    expect(utf16.err).toMatch(/^error \[INVALID_IMPORT\]: Line 1: the file is UTF-16 .*, not UTF-8\. Save the file as UTF-8\. Nothing was imported\.\n$/);
    expect(existsSync(join(fresh, "engram.sqlite"))).toBe(false);
  }, SLOW);
});

describe("engram import: lines already past their expiresAt", () => {
  it("are not imported, and a second import of the file stores nothing (no new history entry)", async () => {
    const file = join(dir, "ttl.jsonl");
    const later = Date.now() + 24 * 3_600_000;
    await writeFile(
      join(dir, "ttl.jsonl"),
      [
        JSON.stringify({ id: "gone", content: "Finn's parking permit for last week", createdAt: 1_700_000_000_000, expiresAt: 1_700_000_100_000 }),
        JSON.stringify({ id: "kept", content: "Finn's parking permit for tomorrow", createdAt: 1_700_000_000_000, expiresAt: later }),
      ].join("\n") + "\n",
    );
    const first = await engram(["import", file, "--user", "finn", ...at()]);
    expect(first).toEqual({ code: 0, out: `Imported 1 memories for user "finn" from ${file} (0 already present, 1 expired and not imported).\n`, err: "" });
    const again = await engram(["import", file, "--user", "finn", ...at()]);
    expect(again).toEqual({ code: 0, out: `Imported 0 memories for user "finn" from ${file} (1 already present, 1 expired and not imported).\n`, err: "" });

    expect((await listOf("finn")).map((record) => [record.id, record.expiresAt])).toEqual([["kept", later]]);
    // Nothing of the expired line was written: before, each import stored it anew with an ADD.
    expect(await historyOf("gone", "finn")).toEqual([]);
    expect((await historyOf("kept", "finn")).map((entry) => entry.event)).toEqual(["ADD"]);
  }, SLOW);
});

describe("engram import: memories of an application with a larger maxContentChars", () => {
  it("are refused by default with the way to import them, and import whole with --max-content-chars", async () => {
    const file = join(dir, "long.jsonl");
    const long = `Ida's travel diary: ${"we walked along the river and talked about old friends. ".repeat(200)}`.trim();
    expect(long.length).toBeGreaterThan(8_000);
    await writeFile(file, `${JSON.stringify({ id: "short", content: "Ida likes maps" })}\n${JSON.stringify({ id: "diary", content: long })}\n`);
    const refused = await engram(["import", file, "--user", "ida", ...at()]);
    expect({ code: refused.code, out: refused.out }).toEqual({ code: 1, out: "" });
    expect(refused.err).toMatch(/^error \[INVALID_IMPORT\]: Line 2: Content is \d+ characters; the limit is 8000\..*import with --max-content-chars <n>\. Nothing was imported\.\n$/);
    expect(await listOf("ida")).toEqual([]);

    const imported = await engram(["import", file, "--user", "ida", "--max-content-chars", "20000", ...at()]);
    expect(imported).toEqual({ code: 0, out: `Imported 2 memories for user "ida" from ${file} (0 already present).\n`, err: "" });
    expect((await listOf("ida")).find((record) => record.id === "diary")?.content).toBe(long);
  }, SLOW);
});

describe("engram import: a line that Memory.addMany refuses", () => {
  it("is refused with INVALID_IMPORT naming its line (not addMany's item index), and nothing is written", async () => {
    const ok = JSON.stringify({ id: "jan-1", content: "Jan plays chess" });
    const expired = JSON.stringify({ id: "jan-old", content: "Jan's old locker code", expiresAt: 1_000 });
    // A thread id with a control character: addMany refuses it, and the file's check did not.
    const bell = join(dir, "bell.jsonl");
    await writeFile(bell, `${ok}\n${JSON.stringify({ id: "jan-2", content: "Jan sings", source: { threadId: "chat\u0007" } })}\n`);
    const thread = await engram(["import", bell, "--user", "jan", ...at()]);
    expect({ code: thread.code, out: thread.out }).toEqual({ code: 1, out: "" });
    expect(thread.err).toMatch(/^error \[INVALID_IMPORT\]: Line 2: source\.threadId contains a control character.* Nothing was imported\.\n$/);

    // A role longer than Memory takes (a check only addMany makes), after a blank and an expired line.
    const role = join(dir, "role.jsonl");
    await writeFile(role, `${ok}\n\n${expired}\n${JSON.stringify({ id: "jan-3", content: "Jan says hi", role: "r".repeat(1_001) })}\n`);
    const long = await engram(["import", role, "--user", "jan", ...at()]);
    expect({ code: long.code, out: long.out }).toEqual({ code: 1, out: "" });
    expect(long.err).toBe("error [INVALID_IMPORT]: Line 4: A message's role is 1001 characters; the limit is 1000. (INVALID_CONTENT) Nothing was imported.\n");
    expect(await listOf("jan")).toEqual([]);
    expect(await historyOf("jan-1", "jan")).toEqual([]);
  }, SLOW);
});

describe("engram import: a line whose id is stored with other content", () => {
  it("is named by its own line, also when another line's id is the start of its id (pet-1, pet-10)", async () => {
    const file = join(dir, "pets.jsonl");
    const lines = (tenth: string) =>
      [
        JSON.stringify({ id: "pet-1", content: "Gwen has a cat called Miso" }),
        JSON.stringify({ id: "pet-10", content: tenth }),
      ].join("\n") + "\n";
    await writeFile(file, lines("Gwen has a dog called Pepper"));
    expect((await engram(["import", file, "--user", "gwen", ...at()])).code).toBe(0);
    await writeFile(file, lines("Gwen has a dog called Biscuit"));
    const edited = await engram(["import", file, "--user", "gwen", ...at()]);
    expect(edited.code).toBe(0);
    expect(edited.err).toBe(
      "warning: line 2: Memory pet-10 already exists with other content; it is kept as it is and this text was not stored (update() changes it).\n",
    );
  }, SLOW);
});

describe("engram export piped to a reader that stops early (engram export | head)", () => {
  it("ends quietly with exit code 141, no stack trace, and leaves no Chroma server running", async () => {
    const own = join(dir, "own");
    // Enough memories that the export is far larger than a pipe's buffer (64 KiB): the reader is gone before the end.
    const memory = new Memory({ dataDir: own, embeddings, writes: "sync" });
    try {
      const items = Array.from({ length: 2_000 }, (_, i) => ({ id: `note-${i}`, content: `Gus's note ${i}: the ${i % 2 ? "red" : "blue"} kettle is on shelf ${i}` }));
      for (let first = 0; first < items.length; first += 1_000) await memory.addMany(items.slice(first, first + 1_000), { userId: "gus", infer: false });
    } finally {
      await memory.close();
    }
    // No --chroma-url: the command starts the folder's own server for its run, and must stop it.
    const run = await engram(["export", "--user", "gus", "--data-dir", own], true);
    expect(run.out.length).toBeGreaterThan(0);
    expect(run.out.length).toBeLessThan(2_000 * 100);
    expect({ code: run.code, err: run.err }).toEqual({ code: 141, err: "" });
    expect((await localServerStatus(join(own, "chroma"))).running).toBe(false);
    expect(chromaPid(join(own, "chroma"))).toBeUndefined();
  }, SLOW);
});

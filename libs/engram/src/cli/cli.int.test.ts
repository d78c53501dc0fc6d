import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { HistoryEntry, MemoryRecord, ScoredMemory } from "../core/types.js";
import { LocalEmbeddings } from "../embeddings/local.js";
import { Memory } from "../memory/memory.js";
import { freePort, heartbeat } from "../store/chroma_server.js";
import { startTestChroma, tempDir, type TestChroma } from "../tests/chroma.js";
import type { ExportedMemory } from "./jsonl.js";
import { runCli } from "./program.js";

const BIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const DOC = fileURLToPath(new URL("../../../../docs/cli.md", import.meta.url));
const SLOW = 600_000;

let chroma: TestChroma;
let seeded: Memory;
const seedEmbeddings = new LocalEmbeddings();
const ids: Record<string, string> = {};

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], cwd = chroma.dir, untilStopped?: () => Promise<string>): Promise<Run> {
  const run: Run = { code: -1, out: "", err: "" };
  run.code = await runCli(args, {
    out: (text) => void (run.out += text),
    err: (text) => void (run.err += text),
    cwd,
    ...(untilStopped ? { untilStopped } : {}),
  });
  return run;
}

/** The common options pointing a command at the test's Chroma server, a data folder and a prefix. */
function at(dataDir: string, prefix = "engram"): string[] {
  return ["--chroma-url", chroma.server.url, "--data-dir", dataDir, "--prefix", prefix];
}

async function listJson(user: string, dataDir = "data", prefix = "engram"): Promise<MemoryRecord[]> {
  const run = await cli(["list", "--user", user, "--json", ...at(dataDir, prefix)]);
  expect(run).toMatchObject({ code: 0, err: "" });
  return JSON.parse(run.out) as MemoryRecord[];
}

async function historyJson(id: string, user: string, dataDir = "data", prefix = "engram"): Promise<HistoryEntry[]> {
  const run = await cli(["history", id, "--user", user, "--json", ...at(dataDir, prefix)]);
  expect(run.code).toBe(0);
  return JSON.parse(run.out) as HistoryEntry[];
}

beforeAll(async () => {
  chroma = await startTestChroma();
  seeded = new Memory({ dataDir: join(chroma.dir, "data"), embeddings: seedEmbeddings, chroma: { url: chroma.server.url } });
  const alice = { userId: "alice" };
  ids.tea = (await seeded.add("Alice drinks green tea every morning", { ...alice, kind: "fact", importance: 0.7, metadata: { topic: "food" } })).results[0]!.id;
  ids.berlin = (await seeded.add([{ role: "user", content: "I moved to Berlin last spring.", id: "msg-7" }], { ...alice, threadId: "chat-1" })).results[0]!.id;
  ids.marathon = (await seeded.add("Alice is training for the Berlin marathon in September", { ...alice, kind: "fact" })).results[0]!.id;
  ids.peanuts = (await seeded.add("Bob is allergic to peanuts", { userId: "bob", importance: 0.9 })).results[0]!.id;
  ids.cello = (await seeded.add("Bob plays the cello in an orchestra", { userId: "bob" })).results[0]!.id;
  // The CLI opens its own handles on the data folder; this one is only for seeding.
  await seeded.close();
}, SLOW);

afterAll(async () => {
  await seeded?.close();
  await seedEmbeddings.close();
  await chroma?.stop();
});

describe("engram CLI on a real Chroma server and the local embeddings", () => {
  it("--state points a command at shared state elsewhere: history is read from there, not from the data folder", async () => {
    const elsewhere = join(chroma.dir, "state-elsewhere");
    const empty = await cli(["history", ids.cello!, "--user", "bob", "--json", ...at("data"), "--state", elsewhere]);
    expect(empty).toMatchObject({ code: 0, err: "" });
    expect(JSON.parse(empty.out)).toEqual([]);
    expect(existsSync(join(elsewhere, "engram.sqlite"))).toBe(true);
    const here = await cli(["history", ids.cello!, "--user", "bob", "--json", ...at("data"), "--state", join(chroma.dir, "data")]);
    expect((JSON.parse(here.out) as HistoryEntry[]).map((entry) => entry.event)).toEqual(["ADD"]);
  });

  it("exports alice, erases her (with counts), imports her into a fresh folder where search finds a paraphrase; bob untouched", async () => {
    const bob = await listJson("bob");
    const bobHistory = await historyJson(ids.peanuts!, "bob");
    expect(bob.map((record) => record.content).sort()).toEqual(["Bob is allergic to peanuts", "Bob plays the cello in an orchestra"]);
    const before = await listJson("alice");
    expect(before).toHaveLength(3);

    const exported = await cli(["export", "--user", "alice", "--out", "alice.jsonl", ...at("data")]);
    expect(exported).toEqual({ code: 0, out: 'Exported 3 memories of user "alice" to alice.jsonl.\n', err: "" });
    const text = await readFile(join(chroma.dir, "alice.jsonl"), "utf8");
    // Personal data: readable by its owner only.
    expect((await stat(join(chroma.dir, "alice.jsonl"))).mode & 0o077).toBe(0);
    const lines = text.trimEnd().split("\n").map((line) => JSON.parse(line) as ExportedMemory);
    expect(lines.map((line) => line.id).sort()).toEqual([ids.tea, ids.berlin, ids.marathon].sort());
    for (const line of lines) {
      const original = before.find((record) => record.id === line.id)!;
      expect(Object.keys(line)).not.toEqual(expect.arrayContaining(["embedding"]));
      expect(JSON.stringify(line)).not.toMatch(/embedding|vector/);
      const { updatedAt: _u, lastAccessedAt: _l, ...kept } = original;
      expect(line).toMatchObject(kept);
    }
    expect(lines.map((line) => line.createdAt)).toEqual([...lines.map((line) => line.createdAt)].sort((a, b) => a - b));
    const toStdout = await cli(["export", "--user", "alice", ...at("data")]);
    expect(toStdout).toEqual({ code: 0, out: text, err: "" });

    const erased = await cli(["erase", "--user", "alice", "--yes", ...at("data")]);
    expect(erased).toEqual({
      code: 0,
      out: 'Erased user "alice": 3 memories from the store, 3 history entries, 0 pending writes.\n',
      err: "",
    });
    expect(await listJson("alice")).toEqual([]);
    expect(await historyJson(ids.tea!, "alice")).toEqual([]);
    expect(await listJson("bob")).toEqual(bob);
    expect(await historyJson(ids.peanuts!, "bob")).toEqual(bobHistory);

    const imported = await cli(["import", "alice.jsonl", "--user", "alice", ...at("restored", "restored")]);
    expect(imported).toEqual({ code: 0, out: 'Imported 3 memories for user "alice" from alice.jsonl (0 already present).\n', err: "" });
    const restored = await listJson("alice", "restored", "restored");
    for (const original of before) {
      const back = restored.find((record) => record.id === original.id);
      // Same id, content, kind, importance, role, scope, source, metadata and creation time.
      expect(back).toEqual({ ...original, updatedAt: original.createdAt, lastAccessedAt: original.createdAt });
    }
    const history = await historyJson(ids.tea!, "alice", "restored", "restored");
    expect(history.map((entry) => [entry.event, entry.at])).toEqual([["ADD", before.find((r) => r.id === ids.tea)!.createdAt]]);

    // Re-embedded on import: a paraphrase sharing no content word finds the tea memory.
    const search = await cli(["search", "what does she drink when she wakes up", "--user", "alice", "--limit", "1", "--json", ...at("restored", "restored")]);
    expect(search.code).toBe(0);
    expect((JSON.parse(search.out) as ScoredMemory[]).map((hit) => hit.id)).toEqual([ids.tea]);
    const human = await cli(["search", "what does she drink when she wakes up", "--user", "alice", "--limit", "1", ...at("restored", "restored")]);
    expect(human.out).toMatch(new RegExp(`^0\\.\\d\\d  ${ids.tea}  fact       0\\.70  \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ  Alice drinks green tea every morning\\n$`));

    // Again: nothing is stored twice.
    const again = await cli(["import", "alice.jsonl", "--user", "alice", ...at("restored", "restored")]);
    expect(again.out).toBe('Imported 0 memories for user "alice" from alice.jsonl (3 already present).\n');
    expect(again.err).toBe("");
    expect(await listJson("alice", "restored", "restored")).toHaveLength(3);

    // A line whose id is stored with other content is not imported (the stored memory stays): the
    // import says which line, rather than counting it as "already present" without a word.
    const edited = lines.map((line) => JSON.stringify(line.id === ids.tea ? { ...line, content: "Alice drinks black coffee every morning" } : line));
    await writeFile(join(chroma.dir, "alice-edited.jsonl"), `${edited.join("\n")}\n`);
    const changed = await cli(["import", "alice-edited.jsonl", "--user", "alice", ...at("restored", "restored")]);
    expect(changed.code).toBe(0);
    const teaLine = lines.findIndex((line) => line.id === ids.tea) + 1;
    expect(changed.err).toBe(`warning: line ${teaLine}: Memory ${ids.tea} already exists with other content; it is kept as it is and this text was not stored (update() changes it).\n`);
    expect((await listJson("alice", "restored", "restored")).find((record) => record.id === ids.tea)?.content).toBe("Alice drinks green tea every morning");

    expect(await listJson("bob", "restored", "restored")).toEqual([]);
    expect(await listJson("bob")).toEqual(bob);
    expect(await historyJson(ids.peanuts!, "bob")).toEqual(bobHistory);
  }, SLOW);

  it("erase without --yes refuses with a usage error and removes nothing", async () => {
    const bob = await listJson("bob");
    const history = await historyJson(ids.cello!, "bob");
    expect(bob).toHaveLength(2);
    const refused = await cli(["erase", "--user", "bob", ...at("data")]);
    expect(refused.code).toBe(2);
    expect(refused.out).toBe("");
    expect(refused.err).toContain('erase removes every memory of user "bob"');
    expect(refused.err).toContain("--yes");
    expect(await listJson("bob")).toEqual(bob);
    expect(await historyJson(ids.cello!, "bob")).toEqual(history);
  }, SLOW);

  it("an import file with one bad line writes nothing, and the error names the line", async () => {
    const file = [
      '{"id":"carol-1","content":"Carol keeps bees on her roof"}',
      '{"id":"carol-2","content":"Carol speaks Portuguese at home"}',
      '{"id":"carol-3","content":"Carol likes jazz","metadata":{"genre":{"main":"jazz"}}}',
      '{"id":"carol-4","content":"Carol runs on Sundays"}',
    ].join("\n");
    await writeFile(join(chroma.dir, "carol.jsonl"), file);
    const run = await cli(["import", "carol.jsonl", "--user", "carol", ...at("carol-data", "carol")]);
    expect(run.code).toBe(1);
    expect(run.out).toBe("");
    expect(run.err).toMatch(/^error \[INVALID_IMPORT\]: Line 3: .*INVALID_METADATA.*Nothing was imported\.\n$/);
    // Refused before the data folder was even opened; and the store has nothing of carol.
    expect(existsSync(join(chroma.dir, "carol-data", "engram.sqlite"))).toBe(false);
    expect(await listJson("carol", "carol-data", "carol")).toEqual([]);
    expect(await historyJson("carol-1", "carol", "carol-data", "carol")).toEqual([]);
  }, SLOW);

  it("prints EngramErrors with their code (exit 1) and usage errors plainly (exit 2); another user's id reads as unknown", async () => {
    const foreign = await cli(["get", ids.peanuts!, "--user", "alice", ...at("data")]);
    expect(foreign).toEqual({ code: 1, out: "", err: `error [NOT_FOUND]: No memory ${ids.peanuts} for user "alice".\n` });
    const own = await cli(["get", ids.peanuts!, "--user", "bob", ...at("data")]);
    expect(own.code).toBe(0);
    expect(own.out).toContain("content     Bob is allergic to peanuts\n");

    const down = await freePort();
    const unreachable = await cli(["list", "--user", "bob", "--chroma-url", `http://127.0.0.1:${down}`, "--data-dir", "data"]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toMatch(/^error \[STORE_UNAVAILABLE\]: /);

    for (const args of [
      ["list", ...at("data")],
      ["list", "--user", "bob", "--limit", "0", ...at("data")],
      ["list", "--user", "bob", "--kind", "memo", ...at("data")],
      ["search", "--user", "bob", ...at("data")],
      ["server", "start", "--port", "http", "--data-dir", "data"],
      ["forget", "--user", "bob", ...at("data")],
    ]) {
      const run = await cli(args);
      expect({ args, code: run.code, out: run.out }).toEqual({ args, code: 2, out: "" });
      expect(run.err).toMatch(/^error: /);
    }
    expect((await cli(["--help"])).code).toBe(0);
  }, SLOW);

  it("runs the example session of docs/cli.md, command by command, with the outputs shown there", async () => {
    const doc = await readFile(DOC, "utf8");
    const jsonl = /`alice\.jsonl`:\n\n```jsonl\n([\s\S]*?)```/.exec(doc)?.[1];
    const session = /## An example session[\s\S]*?```console\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(jsonl).toBeDefined();
    expect(session).toBeDefined();
    const cwd = await tempDir("engram-cli-doc-");
    await writeFile(join(cwd, "alice.jsonl"), jsonl!);

    const steps: Array<{ args: string[]; expected: string }> = [];
    for (const line of session!.split("\n")) {
      if (line.startsWith("$ ")) steps.push({ args: words(line.slice(2)), expected: "" });
      else if (line !== "") steps[steps.length - 1]!.expected += `${line}\n`;
    }
    expect(steps.map((step) => step.args[0])).toEqual(steps.map(() => "engram"));
    expect(steps.length).toBeGreaterThan(10);

    let stop!: (signal: string) => void;
    const stopped = new Promise<string>((done) => (stop = done));
    let server: Promise<Run> | undefined;
    try {
      for (const { args, expected } of steps) {
        let run: Run;
        if (args[1] === "server" && args[2] === "start") {
          // The foreground server of the session's first terminal, in process until the end.
          const live: Run = { code: -1, out: "", err: "" };
          server = runCli(args.slice(1), { out: (text) => void (live.out += text), err: (text) => void (live.err += text), cwd, untilStopped: () => stopped })
            .then((code) => ({ ...live, code }));
          while (!live.out.includes("Ctrl+C") && live.code === -1 && live.err === "") await new Promise((done) => setTimeout(done, 100));
          run = live;
        } else {
          run = await cli(args.slice(1), cwd);
        }
        expect({ command: args.join(" "), output: normalize(run.out + run.err) }).toEqual({ command: args.join(" "), output: normalize(expected) });
      }
    } finally {
      stop("SIGTERM");
    }
    const ended = await server!;
    expect(ended.code).toBe(0);
    expect(ended.out).toMatch(/Stopped \(SIGTERM\)\.\n$/);
    expect((await cli(["server", "status"], cwd)).code).toBe(1);
    await rm(cwd, { recursive: true, force: true });
  }, SLOW);
});

describe("the built bin (node libs/engram/dist/cli/main.js)", () => {
  it("has the shebang and prints its help", async () => {
    expect(existsSync(BIN) ? "built" : `missing ${BIN}: run the build first (yarn workspace engram build)`).toBe("built");
    expect((await readFile(BIN, "utf8")).split("\n")[0]).toBe("#!/usr/bin/env node");
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, "--help"]);
    expect(stdout).toMatch(/^Usage: engram \[options\] \[command\]\n/);
    for (const command of ["server", "list", "search", "get", "history", "export", "import", "erase"]) {
      expect(stdout).toMatch(new RegExp(`\\n  ${command} `));
    }
  });

  it("server start stays in the foreground, serves other commands on its data folder, and SIGINT stops it", async () => {
    const dir = await tempDir("engram-cli-server-");
    await writeFile(join(dir, "dana.jsonl"), '{"content":"Dana grows tomatoes"}\n{"content":"Dana works nights"}\n');
    const child = spawn(process.execPath, [BIN, "server", "start", "--data-dir", "data"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    try {
      let url: string | undefined;
      while (url === undefined && child.exitCode === null) {
        url = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
        await new Promise((done) => setTimeout(done, 100));
      }
      if (url === undefined) throw new Error(`server start printed no URL; it said:\n${out}\n${err}`);

      const status = await cli(["server", "status", "--data-dir", "data"], dir);
      expect(status).toEqual({ code: 0, out: `running at ${url} (pid ${/pid (\d+)/.exec(out)?.[1]}), data in ${join(dir, "data", "chroma")}\n`, err: "" });
      // No --chroma-url: the command finds the running server through the data folder.
      const imported = await cli(["import", "dana.jsonl", "--user", "dana", "--data-dir", "data"], dir);
      expect(imported).toEqual({ code: 0, out: 'Imported 2 memories for user "dana" from dana.jsonl (0 already present).\n', err: "" });
      expect(await heartbeat("127.0.0.1", Number(new URL(url!).port))).toBe(true);

      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(out).toMatch(/Stopped \(SIGINT\)\.\n$/);
      expect(await heartbeat("127.0.0.1", Number(new URL(url!).port))).toBe(false);
      const after = await cli(["server", "status", "--data-dir", "data"], dir);
      expect(after.code).toBe(1);
      expect(after.out).toMatch(/^not running: /);

      // With no server running, a command starts one for its run, and the process ends by itself
      // (no process.exit in the bin) with the server stopped behind it.
      const { stdout } = await promisify(execFile)(process.execPath, [BIN, "list", "--user", "dana", "--data-dir", "data"], { cwd: dir, timeout: 120_000 });
      expect(stdout.split("\n").filter(Boolean).map((line) => line.split("  ").pop()).sort()).toEqual(["Dana grows tomatoes", "Dana works nights"]);
      const afterList = await cli(["server", "status", "--data-dir", "data"], dir);
      expect(afterList.out).toBe(`not running: no server was started for it (data folder ${join(dir, "data", "chroma")})\n`);
    } finally {
      if (child.exitCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    }
  }, SLOW);
});

/** Shell words: double-quoted strings or runs of non-blanks. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}

/** What legitimately varies between runs: search scores (recency), the server's URL, pid and folder. */
function normalize(text: string): string {
  return text
    .replace(/^\d\.\d\d(?=  )/gm, "<score>")
    .replace(/http:\/\/127\.0\.0\.1:\d+/g, "<url>")
    .replace(/\(pid \d+\)/g, "(pid <pid>)")
    .replace(/\/\S*\/\.engram\/chroma/g, "<data>/.engram/chroma");
}

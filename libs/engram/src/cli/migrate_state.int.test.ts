import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { rename, rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { PostgresState } from "../state/postgres/index.js";
import { openDatabase, SqliteState } from "../state/sqlite/index.js";
import { SqliteFilings } from "../state/sqlite/filings.js";
import { tempDir } from "../tests/chroma.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../tests/postgres.js";
import { runCli } from "./program.js";

let postgres: TestPostgres | undefined;
let database = "";
let folder = "";

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[]): Promise<Run> {
  const run: Run = { code: -1, out: "", err: "" };
  run.code = await runCli(args, { out: (text) => void (run.out += text), err: (text) => void (run.err += text), cwd: folder });
  return run;
}

const HOLDER = fileURLToPath(new URL("../state/tests/state_holder.ts", import.meta.url));

/** A real process with the folder's state open, as a running app (state/tests/state_holder.ts). */
function startHolder(dir: string) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // Jest's flags are not for the child
  const child = spawn(process.execPath, ["--import", "tsx", HOLDER, dir], { env, stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return {
    next: async () => (await lines.next()).value as string | undefined,
    write: () => void child.stdin.write("write\n"),
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

const usage = { inputTokens: 7, outputTokens: 3, totalTokens: 10, reported: true };

/** A data folder's state as a running app leaves it: something in every part, for two users. */
async function seed(dir: string): Promise<void> {
  const state = new SqliteState({ path: dir, clock: () => 1_000 });
  try {
    await state.setup();
    await state.meta.set("embeddings", "use-lite", { replace: false });
    for (const user of ["alice", "bob"]) {
      await state.history.record([
        { memoryId: `${user}-m1`, userId: user, event: "ADD", oldContent: null, newContent: `${user} likes tea`, reason: "add" },
        { memoryId: `${user}-m1`, userId: user, event: "UPDATE", oldContent: `${user} likes tea`, newContent: `${user} likes green tea`, reason: "update" },
      ]);
      await state.outbox<{ op: string; n: number }>().enqueue([
        // The history entry a queued write carries (state/types.ts OutboxItem.history) moves with it.
        { userId: user, key: `upsert:${user}-1`, payload: { op: "upsert", n: 1 }, history: { memoryId: `${user}-1`, userId: user, event: "ADD", oldContent: null, newContent: `${user} one`, reason: "add", at: 900 } },
        { userId: user, key: `delete:${user}-2`, payload: { op: "delete", n: 2 } },
      ]);
      await state.jobs<{ text: string }>("facts").add({ userId: user, group: "t1", key: `job-${user}`, payload: { text: "hi" } });
      await state.usage.record({ userId: user, kind: "extraction", usage });
      await state.filings().take("thread-1", user, [{ key: `${user}-msg-1`, text: "hello" }]);
    }
    await state.outbox().fail([(await state.outbox().pending({ limit: 1 }))[0]!.seq], "store down");
  } finally {
    await state.close();
  }
}

beforeAll(async () => {
  postgres = await startPostgres();
  database = await freshDatabase(postgres.url);
  folder = await tempDir("engram-migrate-");
  await seed(join(folder, "data"));
});

afterAll(async () => {
  await postgres?.stop();
  await rm(folder, { recursive: true, force: true });
});

describe("engram migrate-state (SQLite data folder -> a real PostgreSQL)", () => {
  it("copies every part with a progress bar, and the PostgreSQL state reads what the folder held", async () => {
    const run = await cli(["migrate-state", "--from", "data", "--to", database, "--schema", "app", "--batch-size", "3"]);
    expect(run.code).toBe(0);
    expect(run.out).toBe(
      'Copied 1 metadata entries, 4 history entries, 4 queued writes, 2 jobs, 2 usage records, 2 filed message keys, 2 pending filings into schema "app".\n',
    );
    // Not a terminal: one line per tenth of the work, ending at 100%.
    expect(run.err).toMatch(/^migrate-state +\d+% \d+\/17 rows/m);
    expect(run.err.trimEnd().split("\n").pop()).toMatch(/^migrate-state 100% 17\/17 rows/);

    const state = new PostgresState({ postgres: database, schema: "app" });
    try {
      expect(await state.meta.get("embeddings")).toBe("use-lite");
      const history = await state.history.forMemory("alice-m1", "alice");
      expect(history.map((e) => [e.event, e.newContent, e.at])).toEqual([
        ["ADD", "alice likes tea", 1_000],
        ["UPDATE", "alice likes green tea", 1_000],
      ]);
      expect(await state.history.forMemory("alice-m1", "bob")).toEqual([]);
      const pending = await state.outbox<{ op: string; n: number }>().pending();
      expect(pending.map((w) => [w.userId, w.key, w.payload.n, w.attempts, w.lastError, w.history?.map((e) => [e.newContent, e.at])])).toEqual([
        ["alice", "upsert:alice-1", 1, 1, "store down", [["alice one", 900]]],
        ["alice", "delete:alice-2", 2, 0, null, []],
        ["bob", "upsert:bob-1", 1, 0, null, [["bob one", 900]]],
        ["bob", "delete:bob-2", 2, 0, null, []],
      ]);
      expect((await state.jobs<{ text: string }>("facts").pending()).map((j) => [j.userId, j.group, j.key, j.payload.text])).toEqual([
        ["alice", "t1", "job-alice", "hi"],
        ["bob", "t1", "job-bob", "hi"],
      ]);
      expect(await state.usage.totals({ userId: "bob" })).toEqual([
        { userId: "bob", kind: "extraction", calls: 1, inputTokens: 7, outputTokens: 3, totalTokens: 10, unreported: 0, lastAt: 1_000 },
      ]);
      expect((await state.filings().pending(10)).map((f) => [f.threadId, f.userId, f.messages])).toEqual([
        ["thread-1", "alice", [{ key: "alice-msg-1", text: "hello" }]],
        ["thread-1", "bob", [{ key: "bob-msg-1", text: "hello" }]],
      ]);
      // The taken keys came along: the same message is not filed twice after the move.
      expect(await state.filings().take("thread-1", "alice", [{ key: "alice-msg-1", text: "hello" }])).toEqual([]);

      // The replicas drain the copied queues; a rerun of the copy must not bring them back.
      await state.outbox().complete(pending.map((w) => w.seq));
      await state.jobs("facts").complete((await state.jobs("facts").pending()).map((j) => j.seq));
      await state.filings().complete((await state.filings().pending(10)).map((f) => f.seq));
      await state.meta.set("embeddings", "static", { replace: true });

      const again = await cli(["migrate-state", "--from", join(folder, "data", "engram.sqlite"), "--to", database, "--schema", "app"]);
      expect(again.code).toBe(0);
      expect(again.out).toBe('Copied nothing into schema "app"; 17 rows were there already.\n');
      expect(again.err).toContain('warning: PostgreSQL already records embeddings = "static" (the folder has "use-lite")');
      expect(await state.outbox().size()).toBe(0);
      expect(await state.jobs("facts").size()).toBe(0);
      expect(await state.filings().size()).toBe(0);
      expect(await state.history.countUser("alice")).toBe(2);
      expect((await state.usage.totals({}))[0]!.calls).toBe(1);
    } finally {
      await state.close();
    }
  });

  it("copies the filing log an older version left in checkpoints.sqlite: the threads stay their owners', the waiting filings are not lost", async () => {
    // A folder an older version wrote and this one never opened (the checkpointer moves the log
    // into the state on open): the log is SqliteFilings on the checkpoints file, as it was written.
    const dir = join(folder, "legacy");
    const state = new SqliteState({ path: dir });
    await state.setup();
    await state.meta.set("embeddings", "use-lite", { replace: false });
    await state.close();
    const db = openDatabase(join(dir, "checkpoints.sqlite"));
    const legacy = new SqliteFilings({ db: () => db, clock: () => 2_000 });
    await legacy.take("alice-thread", "alice", [{ key: "id:m1", text: "My PIN is 4711." }]);
    await legacy.complete((await legacy.pending(10)).map((filing) => filing.seq)); // filed long ago
    await legacy.take("alice-thread", "alice", [{ key: "id:m2", text: "I moved to Porto." }]); // still waiting
    await legacy.claim("carol-thread", "carol"); // claimed, nothing filed
    db.close();

    const run = await cli(["migrate-state", "--from", "legacy", "--to", database, "--schema", "legacy"]);
    expect(run.code).toBe(0);
    expect(run.out).toBe('Copied 1 metadata entries, 3 filed message keys, 1 pending filings into schema "legacy".\n');
    const copied = new PostgresState({ postgres: database, schema: "legacy" });
    try {
      // Bob's first run on alice's or carol's thread is refused: the threads are still theirs.
      expect(await copied.filings().claim("alice-thread", "bob")).toEqual(["alice"]);
      expect(await copied.filings().claim("carol-thread", "bob")).toEqual(["carol"]);
      expect((await copied.filings().pending(10)).map((f) => [f.threadId, f.userId, f.messages])).toEqual([
        ["alice-thread", "alice", [{ key: "id:m2", text: "I moved to Porto." }]],
      ]);
      await copied.filings().complete((await copied.filings().pending(10)).map((f) => f.seq));
      const again = await cli(["migrate-state", "--from", "legacy", "--to", database, "--schema", "legacy"]);
      expect(again.out).toBe('Copied nothing into schema "legacy"; 5 rows were there already.\n');
      expect(await copied.filings().size()).toBe(0);
    } finally {
      await copied.close();
    }
  });

  it("refuses a folder another process has open, copies nothing, and copies it once that process is gone", async () => {
    const dir = join(folder, "busy");
    await seed(dir);
    const app = startHolder(dir);
    try {
      expect(await app.next()).toBe("open");
      const run = await cli(["migrate-state", "--from", "busy", "--to", database, "--schema", "busy"]);
      expect(run.code).toBe(1);
      expect(run.err).toMatch(/^error \[OUTBOX_ERROR\]: .*busy\/engram\.sqlite is open in another process .*Nothing was copied\./);
      // The app goes on writing.
      app.write();
      expect(await app.next()).toBe("wrote");
    } finally {
      await app.stop();
    }
    const state = new PostgresState({ postgres: database, schema: "busy" });
    try {
      await state.setup();
      expect(await state.meta.hasData()).toBe(false);
      const run = await cli(["migrate-state", "--from", "busy", "--to", database, "--schema", "busy"]);
      expect(run.code).toBe(0);
      expect(await state.history.countUser("carol")).toBe(2);
      expect(await state.outbox().size()).toBe(4);
    } finally {
      await state.close();
    }
  });

  it("refuses a schema another folder was copied into, and this folder copied again from another path: nothing mixed, nothing drained comes back", async () => {
    await seed(join(folder, "first"));
    await seed(join(folder, "second")); // another app's folder: the same user ids, other people
    expect((await cli(["migrate-state", "--from", "first", "--to", database, "--schema", "shared"])).code).toBe(0);
    const state = new PostgresState({ postgres: database, schema: "shared" });
    try {
      // The replicas drain the copied writes.
      await state.outbox().complete((await state.outbox().pending()).map((w) => w.seq));
      const other = await cli(["migrate-state", "--from", "second", "--to", database, "--schema", "shared"]);
      expect(other.code).toBe(1);
      expect(other.err).toMatch(/^error \[INVALID_OPTIONS\]: This schema holds the state copied from .*first\/engram\.sqlite, another file than .*second\/engram\.sqlite/);
      expect(await state.history.countUser("alice")).toBe(2);
      expect(await state.filings().usersOf("thread-1")).toEqual(["alice", "bob"]);
      expect(await state.filings().pending(10)).toHaveLength(2);

      // The first folder moved: not taken for a new source whose queued writes were never copied.
      await rename(join(folder, "first"), join(folder, "first-moved"));
      const moved = await cli(["migrate-state", "--from", "first-moved", "--to", database, "--schema", "shared"]);
      expect(moved.code).toBe(1);
      expect(await state.outbox().size()).toBe(0);
      expect(await state.usage.totals({ userId: "bob" })).toHaveLength(1);
      expect((await state.usage.totals({ userId: "bob" }))[0]!.calls).toBe(1);
      await rename(join(folder, "first-moved"), join(folder, "first"));
      expect((await cli(["migrate-state", "--from", "first", "--to", database, "--schema", "shared"])).out).toBe(
        'Copied nothing into schema "shared"; 17 rows were there already.\n',
      );
    } finally {
      await state.close();
    }
  });

  it("refuses a folder without state and a URL that is not PostgreSQL, and writes nothing", async () => {
    const missing = await cli(["migrate-state", "--from", "nowhere", "--to", database, "--schema", "other"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error \[INVALID_OPTIONS\]: There is no SQLite state to copy at .*nowhere\/engram\.sqlite/);
    const badUrl = await cli(["migrate-state", "--from", "data", "--to", "mysql://localhost/db"]);
    expect(badUrl.code).toBe(2);
    expect(badUrl.err).toContain("must be a postgres:// (or postgresql://) URL");
    const state = new PostgresState({ postgres: database, schema: "other" });
    try {
      await state.setup();
      expect(await state.meta.hasData()).toBe(false);
    } finally {
      await state.close();
    }
  });
});

/**
 * A replica of an app for memory/replicas.int.test.ts: one `Memory` over a shared Chroma server and
 * a shared PostgreSQL state, run as `node --import tsx replica_worker.ts '<json>'` (a
 * {@link ReplicaWorkerConfig}). It runs random operations on the shared users for `durationMs` (and at least `minOpsPerLane`) in
 * `lanes` concurrent loops, printing one JSON line before each (`start`) and one when it returns
 * (`ack`, with `ok` false and the error's code when it threw), then `ran`. Each lane updates and
 * deletes only the records it added, so each record's own operations run one at a time and the
 * test can tell which outcome each acknowledgement promises. Then it obeys stdin, one JSON line
 * each: `{ "cmd": "flush" }` -> `flushed`; `{ "cmd": "check", "ids": [[user, id], ...], "history":
 * [[user, id], ...] }` -> `checked` with what this process's Memory (and its warm in-process
 * caches) returns; `{ "cmd": "close" }` closes it and exits.
 */
import { createInterface } from "node:readline";
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../memory/memory.js";
import { random } from "./interleave.js";

export interface ReplicaWorkerConfig {
  name: string;
  chromaUrl: string;
  pgUrl: string;
  dataDir: string;
  users: string[];
  durationMs: number;
  /**
   * Each lane goes on past `durationMs` until it has run this many operations (at most a minute
   * more), so that a slow machine still produces a run worth checking.
   */
  minOpsPerLane: number;
  lanes: number;
  writes: "sync" | "background";
  seed: number;
}

export const WORDS = ["tea", "chess", "violin", "garden", "river", "coffee", "bees", "porto", "train", "cat", "books", "music"];

const config = JSON.parse(process.argv[2] ?? "{}") as ReplicaWorkerConfig;
const say = (line: Record<string, unknown>) => process.stdout.write(JSON.stringify(line) + "\n");

const memory = new Memory({
  dataDir: config.dataDir,
  chroma: { url: config.chromaUrl },
  state: { postgres: config.pgUrl },
  embeddings: new StaticEmbeddings(),
  writes: config.writes,
});

interface Hit {
  id: string;
  userId: string;
  content: string;
}
const hits = (records: { id: string; scope: { userId: string }; content: string }[]): Hit[] =>
  records.map((record) => ({ id: record.id, userId: record.scope.userId, content: record.content }));

let counter = 0;
/** Every id this process added, by user: another user's id is asked for under the wrong user. */
const seen = new Map<string, string[]>();

/** Rolls of a lane's first operations: add, update, search, get, history, delete (see {@link lane}). */
const FIRST_ROLLS = [0, 0.5, 0.7, 0.9, 0.95, 0.6];

async function lane(index: number, until: number): Promise<void> {
  const next = random(config.seed * 101 + index);
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)]!;
  const own = new Map<string, string[]>(config.users.map((user) => [user, []]));
  let step = 0;
  const firstUser = pick(config.users);
  // Only a bound against a hang: reaching it cuts a lane short of minOpsPerLane, which the test's
  // own sanity checks depend on, so it is far beyond what 25 operations take on a loaded machine.
  const cap = until + 180_000;
  while ((Date.now() < until || step < config.minOpsPerLane) && Date.now() < cap) {
    const user = step < FIRST_ROLLS.length ? firstUser : pick(config.users);
    const mine = own.get(user)!;
    // Each lane starts with one operation of every kind on one user (then random ones), so that a slow
    // run with few operations still exercises them all (the test checks every kind was acknowledged).
    const roll = step < FIRST_ROLLS.length ? FIRST_ROLLS[step]! : next();
    step += 1;
    const k = `${config.name}.${(counter += 1)}`;
    const words = `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}`;
    let op: Record<string, unknown>;
    let run: () => Promise<Record<string, unknown>>;
    if (roll < 0.4 || mine.length === 0) {
      const content = `[${user}] ${k} likes ${words}`;
      op = { op: "add", user, content };
      run = async () => {
        const id = (await memory.add(content, { userId: user })).results[0]!.id;
        mine.push(id);
        seen.set(user, [...(seen.get(user) ?? []), id]);
        return { id };
      };
    } else if (roll < 0.55) {
      const id = pick(mine);
      const content = `[${user}] ${k} now likes ${words}`;
      op = { op: "update", user, id, content };
      run = async () => ((await memory.update(id, content, { userId: user })), {});
    } else if (roll < 0.65) {
      const id = mine.splice(Math.floor(next() * mine.length), 1)[0]!;
      op = { op: "delete", user, id };
      run = async () => ((await memory.delete(id, { userId: user })), {});
    } else if (roll < 0.67 && user === config.users[config.users.length - 1]) {
      // deleteAll only ever wipes the last user: on the others, records acknowledged and never
      // deleted pile up, so the test always has many records whose presence it can check (a wipe
      // near the end of a run otherwise left as few as 7 across all users).
      op = { op: "deleteAll", user };
      mine.length = 0;
      run = async () => ({ deleted: (await memory.deleteAll({ userId: user })).deleted });
    } else if (roll < 0.85) {
      op = { op: "search", user };
      run = async () => ({ hits: hits(await memory.search(pick(WORDS), { userId: user, limit: 20 })) });
    } else if (roll < 0.92) {
      // A get under another user's name of an id that user owns: must be null.
      const other = pick(config.users.filter((u) => u !== user));
      const theirs = seen.get(other) ?? [];
      const id = pick(theirs.length > 0 ? theirs : mine);
      op = { op: "get", user, id };
      run = async () => {
        const record = await memory.get(id, { userId: user });
        return { hits: record === null ? [] : hits([record]) };
      };
    } else {
      const id = pick(mine);
      op = { op: "history", user, id };
      run = async () => ({ entries: (await memory.history(id, { userId: user })).map((entry) => ({ userId: entry.userId, memoryId: entry.memoryId })) });
    }
    say({ t: "start", k, at: Date.now(), ...op });
    try {
      const result = await run();
      say({ t: "ack", k, at: Date.now(), ok: true, ...result });
    } catch (error) {
      say({ t: "ack", k, at: Date.now(), ok: false, code: (error as { code?: string }).code ?? "", message: (error as Error).message });
    }
  }
}

interface Command {
  cmd: "flush" | "check" | "close";
  ids?: [string, string][];
  history?: [string, string][];
}

async function obey(command: Command): Promise<void> {
  if (command.cmd === "flush") {
    await memory.flush();
    say({ t: "flushed" });
  } else if (command.cmd === "check") {
    const all: Record<string, Hit[]> = {};
    const searched: Record<string, Hit[]> = {};
    for (const user of config.users) {
      all[user] = hits(await memory.getAll({ userId: user, limit: 10_000 }));
      searched[user] = [];
      for (const word of WORDS) searched[user].push(...hits(await memory.search(word, { userId: user, limit: 50 })));
    }
    const got: Record<string, Hit | null> = {};
    for (const [user, id] of command.ids ?? []) {
      const record = await memory.get(id, { userId: user });
      got[`${user}/${id}`] = record === null ? null : hits([record])[0]!;
    }
    const history: Record<string, { event: string; newContent: string | null; userId: string }[]> = {};
    for (const [user, id] of command.history ?? []) {
      history[`${user}/${id}`] = (await memory.history(id, { userId: user })).map((entry) => ({ event: entry.event, newContent: entry.newContent, userId: entry.userId }));
    }
    say({ t: "checked", all, searched, got, history });
  } else {
    await memory.close();
    say({ t: "closed" });
    process.exit(0);
  }
}

async function main(): Promise<void> {
  const until = Date.now() + config.durationMs;
  await Promise.all(Array.from({ length: config.lanes }, (_, index) => lane(index, until)));
  say({ t: "ran" });
  let queue = Promise.resolve();
  createInterface({ input: process.stdin }).on("line", (line) => {
    queue = queue.then(() => obey(JSON.parse(line) as Command)).catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

import { describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { StaticEmbeddings } from "../embeddings/static.js";
import { SqliteState } from "../state/sqlite/index.js";
import type { Job, JobState } from "../state/types.js";
import { factModel, promptKind } from "../tests/fake_chat.js";
import { addEveryFact, namedFacts, type FactHolderConfig } from "../tests/fact_holder.js";
import { gate } from "../tests/interleave.js";
import { testMemories } from "../tests/memories.js";
import { Memory } from "./memory.js";

// Two processes on one data folder extract facts for the same user and thread (replicas serving
// one conversation). A run reads its jobs, then waits for the user's "facts" lock while the other
// process's run holds it; that run did the job it had read, not the one queued after it.
const memories = testMemories();
const CHILD = fileURLToPath(new URL("../tests/fact_holder_child.ts", import.meta.url));

/** The real SQLite state of the folder, telling the test when a run has read `atLeast` jobs of a group. */
class ReadWatchedState extends SqliteState {
  readonly read = gate();

  constructor(
    path: string,
    private readonly atLeast: number,
  ) {
    super({ path });
  }

  override jobs<T>(queue: string): JobState<T> {
    const inner = super.jobs<T>(queue);
    const { read, atLeast } = this;
    return {
      ...bind(inner),
      pending: async (filter) => {
        const jobs: Array<Job<T>> = await inner.pending(filter);
        if (filter?.group !== undefined && jobs.length >= atLeast) void read.wait();
        return jobs;
      },
    };
  }
}

/** The real SQLite state of the folder, whose job completions take `delayMs` longer (a loaded disk). */
class SlowCompleteState extends SqliteState {
  constructor(
    path: string,
    private readonly delayMs: number,
  ) {
    super({ path });
  }

  override jobs<T>(queue: string): JobState<T> {
    const inner = super.jobs<T>(queue);
    return {
      ...bind(inner),
      complete: async (seqs) => {
        await sleep(this.delayMs);
        await inner.complete(seqs);
      },
    };
  }
}

function bind<T>(inner: JobState<T>): JobState<T> {
  return {
    add: (job) => inner.add(job),
    pending: (filter) => inner.pending(filter),
    groups: () => inner.groups(),
    claim: (owner, leaseMs, filter) => inner.claim(owner, leaseMs, filter),
    allQueued: (seqs) => inner.allQueued(seqs),
    complete: (seqs) => inner.complete(seqs),
    fail: (seqs, error) => inner.fail(seqs, error),
    size: (userId) => inner.size(userId),
    deleteUser: (userId) => inner.deleteUser(userId),
  };
}

/** Starts the holding process; resolves its output lines as they come and its exit. */
function startHolder(config: FactHolderConfig) {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const lines: string[] = [];
  const extracting = gate();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    lines.push(line);
    if (line === "extracting") void extracting.wait();
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((done) => child.once("close", (code) => done({ code, stderr })));
  return { lines, extracting: extracting.reached, exited };
}

describe("facts: two processes extracting for one user's thread", () => {
  it("the run that waited for the other's lock extracts the exchange queued after that run began; none twice", async () => {
    const dataDir = join(memories.chroma.dir, "two");
    const release = join(memories.chroma.dir, "two-release");
    const common = { dataDir, chromaUrl: memories.chroma.server.url, prefix: "two", userId: "ana", threadId: "t" };
    const model = factModel({
      extract: [(messages) => JSON.stringify({ facts: namedFacts(messages[1]?.text ?? "").map((text) => ({ text, entities: [] })) })],
      reconcile: [(messages) => addEveryFact(messages.at(-1)?.text ?? "")],
    });
    const state = new ReadWatchedState(dataDir, 2);
    const m = memories.track(
      new Memory({ dataDir, chroma: { url: common.chromaUrl }, prefix: "two", embeddings: new StaticEmbeddings(), model, state, facts: { debounceMs: 60_000 } }),
    );
    try {
      // This process is open (a replica serving for a while) when the other one gets a turn of the
      // thread; that process's run holds the user's lock, in the middle of its extraction call.
      expect(await m.getAll({ userId: "ana" })).toEqual([]);
      const holder = startHolder({ ...common, exchange: "remember: User has a dog named Rex", release });
      await holder.extracting;
      await m.add("remember: User plays the cello", { userId: "ana", threadId: "t" });
      const flushed = m.flush();
      // This run read both jobs of the thread (the other's, still running, and its own) before
      // waiting for the lock; then the other run is let go, does its job and releases the lock.
      await state.read.reached;
      await writeFile(release, "go");
      expect(await holder.exited).toEqual({ code: 0, stderr: expect.any(String) });
      expect(holder.lines).toContain("done");
      await flushed;

      const extractions = model.calls.filter((messages) => promptKind(messages) === "extract").map((messages) => messages[1]!.text);
      // The cello exchange was extracted here, and the dog's, done by the other process, not again.
      expect(extractions.some((prompt) => prompt.includes("User plays the cello"))).toBe(true);
      expect(extractions.some((prompt) => prompt.includes("User has a dog named Rex"))).toBe(false);
      const facts = (await m.getAll({ userId: "ana", kind: "fact" })).map((fact) => fact.content).sort();
      expect(facts).toEqual(["User has a dog named Rex", "User plays the cello"]);
      expect(await m.flush()).toEqual({ applied: 0, pending: 0 });
    } finally {
      // A failed run of this test must not leave the other process waiting for ever.
      await writeFile(release, "go");
      await m.close();
      await state.close();
    }
  });

  it("a run lets the user's lock go only once its jobs are completed: the run waiting for the lock does not redo them", async () => {
    // Two instances on one folder take the user's lock as two processes do (a row of the shared
    // SQLite file). The holder's job completion is slow (a loaded disk): the queue completed the
    // jobs after the handler had let the lock go, and the waiting run, taking the lock in that
    // gap, found the holder's job still queued and extracted that exchange again.
    const dataDir = join(memories.chroma.dir, "gap");
    const chroma = { url: memories.chroma.server.url };
    const letGo = gate();
    const holderModel = factModel({
      extract: [
        async (messages) => {
          await letGo.wait();
          return JSON.stringify({ facts: namedFacts(messages[1]?.text ?? "").map((text) => ({ text, entities: [] })) });
        },
      ],
      reconcile: [(messages) => addEveryFact(messages.at(-1)?.text ?? "")],
    });
    const waiterModel = factModel({
      extract: [(messages) => JSON.stringify({ facts: namedFacts(messages[1]?.text ?? "").map((text) => ({ text, entities: [] })) })],
      reconcile: [(messages) => addEveryFact(messages.at(-1)?.text ?? "")],
    });
    const holderState = new SlowCompleteState(dataDir, 400);
    const waiterState = new ReadWatchedState(dataDir, 2);
    const base = { dataDir, chroma, prefix: "gap", embeddings: new StaticEmbeddings() };
    const holder = memories.track(new Memory({ ...base, model: holderModel, state: holderState, facts: { debounceMs: 0 } }));
    const waiter = memories.track(new Memory({ ...base, model: waiterModel, state: waiterState, facts: { debounceMs: 60_000 } }));
    try {
      // The waiting instance is open before the holder's turn (else it resumes that job on open).
      expect(await waiter.getAll({ userId: "ana" })).toEqual([]);
      await holder.add("remember: User has a dog named Rex", { userId: "ana", threadId: "t" });
      await letGo.reached;
      await waiter.add("remember: User plays the cello", { userId: "ana", threadId: "t" });
      const flushed = waiter.flush();
      await waiterState.read.reached;
      letGo.open();
      await flushed;

      const extracted = (model: typeof holderModel) =>
        model.calls.filter((messages) => promptKind(messages) === "extract").map((messages) => messages[1]!.text);
      expect(extracted(holderModel).some((prompt) => prompt.includes("User has a dog named Rex"))).toBe(true);
      expect(extracted(waiterModel).some((prompt) => prompt.includes("User plays the cello"))).toBe(true);
      expect(extracted(waiterModel).some((prompt) => prompt.includes("User has a dog named Rex"))).toBe(false);
      const facts = (await waiter.getAll({ userId: "ana", kind: "fact" })).map((fact) => fact.content).sort();
      expect(facts).toEqual(["User has a dog named Rex", "User plays the cello"]);
    } finally {
      letGo.open();
      await holder.close();
      await waiter.close();
      await holderState.close();
      await waiterState.close();
    }
  });

  it("close() while this process's run waits for the other's lock returns without waiting for that run; the job stays queued", async () => {
    const dataDir = join(memories.chroma.dir, "close");
    const release = join(memories.chroma.dir, "close-release");
    const common = { dataDir, chromaUrl: memories.chroma.server.url, prefix: "close", userId: "bo" };
    const model = factModel({ extract: [(messages) => JSON.stringify({ facts: namedFacts(messages[1]?.text ?? "").map((text) => ({ text, entities: [] })) })] });
    const state = new ReadWatchedState(dataDir, 1);
    const m = memories.track(
      new Memory({ dataDir, chroma: { url: common.chromaUrl }, prefix: "close", embeddings: new StaticEmbeddings(), model, state, facts: { debounceMs: 0 } }),
    );
    // The other process lets its run go after a minute at the latest (before the fix, close()
    // waited for that).
    let letGo: NodeJS.Timeout | undefined;
    try {
      expect(await m.getAll({ userId: "bo" })).toEqual([]);
      const holder = startHolder({ ...common, threadId: "t1", exchange: "remember: User has a dog named Rex", release });
      await holder.extracting;
      letGo = setTimeout(() => void writeFile(release, "go"), 60_000);
      await m.add("remember: User plays the cello", { userId: "bo", threadId: "t2" });
      // This process's run has read its job and waits for the lock the other run holds.
      await state.read.reached;
      await m.close();
      // Closed while the other run still held the lock, its model not yet let go.
      expect(existsSync(release)).toBe(false);
      expect(model.calls).toHaveLength(0);
      // The job waits for the next open.
      const queued = await state.jobs<{ messages: unknown[] }>("facts").pending({ userId: "bo", group: JSON.stringify([null, "t2"]) });
      expect(queued.map((job) => job.payload.messages)).toEqual([[{ text: "remember: User plays the cello" }]]);
      await writeFile(release, "go");
      expect((await holder.exited).code).toBe(0);
    } finally {
      clearTimeout(letGo);
      await writeFile(release, "go");
      await m.close();
      await state.close();
    }
  });
});

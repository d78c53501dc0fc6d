import { afterAll, describe, expect, it, jest } from "@jest/globals";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../tests/chroma.js";
import { runReportingChild, type ChildOutcome } from "../tests/reporting_child.js";

// close() lets go of everything the instance started, the default embeddings' worker threads
// included: a Memory or EngramStore made without `embeddings` creates its own LocalEmbeddings, so
// it must close them. Before, the threads (each with its own copy of the model) ran on, unref'd,
// until their idle timeout; a process that closed everything still had them to tear down at exit
// (slow enough that Jest force-exited its workers at the end of every full run). The child is a
// real user's process: it uses the API on the embedded default, closes, and must then end by itself.

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const CHILD = fileURLToPath(new URL("../tests/close_child.ts", import.meta.url));
const folders: string[] = [];

afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

interface ChildReport {
  hit?: string;
  started: number;
  runningAfterClose: number;
}

async function runChild(mode: "memory" | "store"): Promise<ChildOutcome<ChildReport>> {
  const dir = await tempDir("engram-close-");
  folders.push(dir);
  return runReportingChild<ChildReport>(CHILD, { mode, dataDir: join(dir, "data") });
}

describe("close() stops the default embeddings' worker threads, and the process then exits by itself", () => {
  // Each API's child searches "which instrument do I play?" and reports what it found first.
  it.each([
    { api: "Memory with the default embeddings", mode: "memory" as const, hit: "I play the cello on Sundays." },
    { api: "EngramStore with the default index", mode: "store" as const, hit: "cello" },
  ])("$api", async ({ mode, hit }) => {
    const run = await runChild(mode);
    expect({ code: run.code, signal: run.signal, err: run.code === 0 ? "" : run.err }).toEqual({ code: 0, signal: null, err: "" });
    // The model really ran in a worker thread (the search found the memory by meaning) ...
    expect(run.report?.hit).toBe(hit);
    expect(run.report?.started).toBeGreaterThanOrEqual(1);
    // ... and none of them runs once close() has returned.
    expect(run.report?.runningAfterClose).toBe(0);
  });
});

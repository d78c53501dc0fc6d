import { describe, expect, it } from "@jest/globals";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isEngramError } from "../core/errors.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "./memory.js";
import type { MemoryOptions } from "./options.js";

/** The error `new Memory(options)` throws, or undefined when it makes the Memory. */
function refusal(options: unknown): { code: string; message: string } | undefined {
  try {
    new Memory(options as MemoryOptions);
    return undefined;
  } catch (error) {
    if (!isEngramError(error)) throw error;
    return { code: error.code, message: error.message };
  }
}

describe("new Memory(options) refuses option names it does not know", () => {
  it("a misspelt top-level name is refused, naming it, before any folder is made", () => {
    const cwd = mkdtempSync(join(tmpdir(), "engram-known-options-"));
    try {
      const dataDir = join(cwd, "data");
      const error = refusal({ dataDIr: dataDir, embeddings: new StaticEmbeddings() });
      expect(error?.code).toBe("INVALID_OPTIONS");
      expect(error?.message).toContain('"dataDIr"');
      expect(error?.message).toContain("dataDir");
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("unknown names inside recallIndex, entities and facts are refused", () => {
    const embeddings = new StaticEmbeddings();
    for (const options of [{ recallIndex: { maxRecord: 10 } }, { recallCache: { frob: 1 } }, { entities: { extracted: true } }, { facts: { timeout: 5 } }]) {
      expect(refusal({ ...options, embeddings })?.code).toBe("INVALID_OPTIONS");
    }
  });

  it("chroma takes the names of the shape it is given: a url with a local path is refused", () => {
    const embeddings = new StaticEmbeddings();
    const error = refusal({ chroma: { url: "http://127.0.0.1:1", path: "./local" }, embeddings });
    expect(error?.code).toBe("INVALID_OPTIONS");
    expect(error?.message).toContain('"path"');
    expect(refusal({ chroma: { path: "./local", url: undefined, tenant: "t" }, embeddings })?.code).toBe("INVALID_OPTIONS");
  });

  it("every documented name is taken, undefined values included (a spread of optional fields)", () => {
    const embeddings = new StaticEmbeddings();
    expect(
      refusal({
        dataDir: join(tmpdir(), "engram-never-opened"),
        embeddings,
        prefix: "p",
        maxContentChars: 100,
        writes: "sync",
        embeddingCache: 10,
        embeddingTimeoutMs: 0,
        recallIndex: { maxRecords: 10, maxUsers: 2, exactSearchLimit: 5, pending: "overlay", revisions: "auto" },
        entities: { extract: false, boost: 0 },
        chroma: { path: "./x", port: 1234, maxRestarts: 1, startTimeoutMs: 1000, timeoutMs: 1000 },
        ranker: { lexical: 1 },
        clock: Date.now,
        model: undefined,
        facts: undefined,
      }),
    ).toBeUndefined();
    expect(refusal({ embeddings, chroma: { url: "http://127.0.0.1:1", tenant: "t", database: "d", headers: {}, timeoutMs: 5 } })).toBeUndefined();
  });
});

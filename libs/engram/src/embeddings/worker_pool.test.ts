import { describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { EngramError } from "../core/errors.js";
import { EmbeddingWorkerPool } from "./worker_pool.js";

const FAKE = new URL("../tests/fixtures/fake_embedding_worker.mjs", import.meta.url);

describe("EmbeddingWorkerPool", () => {
  it("answers every request with one vector per text, in order", async () => {
    const pool = new EmbeddingWorkerPool({ url: FAKE, threads: 2 });
    try {
      const [a, b] = await Promise.all([pool.run(["a", "bbb"], "batch"), pool.run(["cc"], "query")]);
      expect(a).toEqual([[1, 0], [3, 1]]);
      expect(b).toEqual([[2, 0]]);
    } finally {
      await pool.close();
    }
  });

  it("runs a query before batches queued ahead of it (one thread)", async () => {
    const pool = new EmbeddingWorkerPool({ url: FAKE, threads: 1 });
    try {
      const order: string[] = [];
      const running = pool.run(["slow:300"], "batch").then(() => order.push("batch 1"));
      const queued = pool.run(["x", "y"], "batch").then(() => order.push("batch 2"));
      const query = pool.run(["q"], "query").then(() => order.push("query"));
      await Promise.all([running, queued, query]);
      expect(order).toEqual(["batch 1", "query", "batch 2"]);
    } finally {
      await pool.close();
    }
  });

  it("keeps a worker free for queries while batches run (two threads)", async () => {
    const pool = new EmbeddingWorkerPool({ url: FAKE, threads: 2 });
    try {
      const order: string[] = [];
      // Long batches: starting a second worker for the query takes a while on a loaded machine (the
      // query only has to start its worker before the first batch ends: 2 s left too little slack).
      const batches = [pool.run(["slow:6000"], "batch"), pool.run(["slow:6000"], "batch")].map((run) => run.then(() => order.push("batch")));
      // Let the first batch start, then ask: the query must not wait for either batch.
      await new Promise((done) => setTimeout(done, 100));
      await pool.run(["q"], "query").then(() => order.push("query"));
      await Promise.all(batches);
      expect(order).toEqual(["query", "batch", "batch"]);
    } finally {
      await pool.close();
    }
  });

  it("turns a crashed worker into EMBEDDING_FAILED for its request only, and recovers", async () => {
    const pool = new EmbeddingWorkerPool({ url: FAKE, threads: 1 });
    try {
      const crash = pool.run(["crash"], "batch");
      const after = pool.run(["after"], "batch");
      await expect(crash).rejects.toMatchObject({ code: "EMBEDDING_FAILED" });
      await expect(crash).rejects.toThrow(/worker thread stopped.*boom in the worker/);
      expect(await after).toEqual([[5, 0]]);
      await expect(pool.run(["fail"], "query")).rejects.toMatchObject({ code: "EMBEDDING_FAILED", message: expect.stringMatching(/refused/) });
      expect(await pool.run(["ok"], "query")).toEqual([[2, 0]]);
    } finally {
      await pool.close();
    }
  });

  it("stops idle workers, and close() refuses what is queued with CLOSED", async () => {
    const pool = new EmbeddingWorkerPool({ url: FAKE, threads: 1, idleTimeoutMs: 50 });
    await pool.run(["a"], "query");
    expect(pool.size).toBe(1);
    await new Promise((done) => setTimeout(done, 300));
    expect(pool.size).toBe(0);
    const running = expect(pool.run(["slow:200"], "batch")).rejects.toBeInstanceOf(EngramError);
    const queued = expect(pool.run(["b"], "batch")).rejects.toMatchObject({ code: "CLOSED" });
    await pool.close();
    await running;
    await queued;
    await expect(pool.run(["c"], "query")).rejects.toMatchObject({ code: "CLOSED" });
    expect(pool.size).toBe(0);
  });

  it("never keeps the process alive once its requests are answered (a real child process)", () => {
    const pool = fileURLToPath(new URL("./worker_pool.ts", import.meta.url));
    const code = `
      import { EmbeddingWorkerPool } from ${JSON.stringify(pool)};
      const pool = new EmbeddingWorkerPool({ url: new URL(${JSON.stringify(FAKE.href)}), threads: 2, idleTimeoutMs: 600000 });
      const vectors = await Promise.all([pool.run(["abc"], "query"), pool.run(["de", "f"], "batch")]);
      console.log(JSON.stringify(vectors));
    `;
    const started = Date.now();
    // tsx compiles the pool in the child: on a loaded machine that alone can take tens of seconds.
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { encoding: "utf8", timeout: 300_000 });
    expect({ status: child.status, stderr: child.status === 0 ? "" : child.stderr }).toEqual({ status: 0, stderr: "" });
    expect(JSON.parse(child.stdout)).toEqual([[[3, 0]], [[2, 0], [1, 1]]]);
    // It exited by itself, long before the 10-minute idle timeout (and the spawn timeout).
    expect(Date.now() - started).toBeLessThan(300_000);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalEmbeddings } from "../embeddings/local.js";
import { StaticEmbeddings } from "../embeddings/static.js";
import { freePort } from "../store/chroma_server.js";
import { startTestChroma, tempDir, type TestChroma } from "../tests/chroma.js";
import { Memory } from "./memory.js";

const EVENTS = ["unhandledRejection", "uncaughtException", "exit", "SIGINT", "SIGTERM"] as const;
const counts = (): number[] => EVENTS.map((event) => process.listenerCount(event));
const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * Issue 12: a library never adds listeners to `process` (the USE-Lite glue added an
 * `unhandledRejection` listener that rethrows, so any unhandled rejection of the host app killed
 * it), and Engram's own background work never rejects unhandled.
 */
describe("Engram leaves the host process as it found it", () => {
  let chroma: TestChroma;
  beforeAll(async () => {
    chroma = await startTestChroma();
  });
  afterAll(async () => chroma.stop());

  it("adds no process listener: default model and embedded server, then USE-Lite, searched and closed", async () => {
    const before = counts();
    const memory = new Memory({ dataDir: join(await tempDir(), "default") });
    await memory.add("I moved to Lisbon in March.", { userId: "alice" });
    expect((await memory.search("Where do I live?", { userId: "alice" }))[0]?.content).toBe("I moved to Lisbon in March.");
    await memory.flush();
    await memory.close();
    expect(counts()).toEqual(before);

    const useLite = new LocalEmbeddings();
    const heavy = new Memory({ dataDir: join(await tempDir(), "use-lite"), chroma: { url: chroma.server.url }, embeddings: useLite });
    await heavy.add("My sister is a nurse.", { userId: "bob" });
    expect((await heavy.search("What is my sibling's job?", { userId: "bob" }))[0]?.content).toBe("My sister is a nurse.");
    expect(counts()).toEqual(before);
    await heavy.close();
    await useLite.close();
    expect(counts()).toEqual(before);
  });

  it("never rejects unhandled in the background, with the store down and a model that fails (a real process, strict mode)", async () => {
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const dir = await tempDir();
    const code = `
      import { Memory } from ${JSON.stringify(src("./memory.ts"))};
      import { LocalEmbeddings } from ${JSON.stringify(src("../embeddings/local.ts"))};
      const events = ${JSON.stringify(EVENTS)};
      const counts = () => events.map((event) => process.listenerCount(event));
      const before = counts();
      const warnings = [];
      process.on("warning", (warning) => warnings.push(warning.code ?? warning.name));
      // The store is down: background drains and a forgetting pass fail with nobody awaiting them.
      const down = new Memory({ dataDir: ${JSON.stringify(join(dir, "down"))}, chroma: { url: ${JSON.stringify(deadUrl)} } });
      await down.add("written while the store is down", { userId: "u" });
      down.scheduleForget({ userId: "u" });
      await new Promise((done) => setTimeout(done, 300));
      await down.close();
      // A model that fails: the background drain cannot embed.
      class Failing { modelId = "failing-test-model@1"; async embedDocuments() { throw new Error("model down"); } async embedQuery() { throw new Error("model down"); } }
      const failing = new Memory({ dataDir: ${JSON.stringify(join(dir, "failing"))}, chroma: { url: ${JSON.stringify(chroma.server.url)} }, prefix: "failing", embeddings: new Failing() });
      await failing.add("cannot be embedded yet", { userId: "u" });
      await new Promise((done) => setTimeout(done, 300));
      await failing.close();
      // USE-Lite in its worker, loaded and closed.
      const useLite = new LocalEmbeddings();
      await useLite.embedQuery("hello");
      await useLite.close();
      console.log(JSON.stringify({ before, after: counts(), warnings }));
    `;
    const child = spawn(process.execPath, ["--unhandled-rejections=strict", "--import", "tsx", "--input-type=module", "-e", code], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => void (err += chunk.toString()));
    const exit = await new Promise<number | null>((done) => child.on("exit", (status) => done(status)));
    expect({ exit, err: exit === 0 ? "" : err }).toEqual({ exit: 0, err: "" });
    const { before, after, warnings } = JSON.parse(out.trim().split("\n").pop()!) as { before: number[]; after: number[]; warnings: string[] };
    expect(after).toEqual(before);
    // The failures were reported as process warnings, the way the library says it reports them.
    expect(warnings).toContain("ENGRAM_EMBEDDING_FAILED");
    expect(err).not.toMatch(/Unhandled|uncaught/i);
  });

  it("StaticEmbeddings and LocalEmbeddings load without touching process listeners", async () => {
    const before = counts();
    await new StaticEmbeddings().embedQuery("a static vector");
    const useLite = new LocalEmbeddings({ threads: 1 });
    await useLite.embedQuery("a USE-Lite vector");
    expect(counts()).toEqual(before);
    await useLite.close();
  });
});

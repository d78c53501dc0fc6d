import { afterAll, describe, expect, it } from "@jest/globals";
import { execFileSync, spawn } from "node:child_process";
import { chmod, mkdir, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { ChromaClient } from "chromadb";
import { isEngramError } from "../core/errors.js";
import { freePort, heartbeat, startChromaServer } from "./chroma_server.js";
import { tempDir } from "../tests/chroma.js";
import { processGone, waitFor, WAIT_MS } from "../tests/wait.js";

/**
 * How long this file waits for a server to stop answering or exit: only a bound on a hang. The
 * supervisor notices its owner gone within 250 ms and gives Chroma 5 s to stop before SIGKILL, but
 * on a loaded machine (load 15-20 on 2 cores in clean-clone runs) each of those steps can take
 * seconds more; a 15 s bound there would fail on timing alone.
 */
const SERVER_WAIT_MS = WAIT_MS;

const dirs: string[] = [];
async function dataDir(): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  return join(dir, "chroma");
}

/** Pids of processes whose command line mentions the folder: the supervisor and Chroma itself. */
function processesServing(path: string): number[] {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((line) => line.includes(path) && !line.includes("ps -eo"))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("local Chroma server", () => {
  it("starts, answers its heartbeat, and leaves no process once stopped", async () => {
    const path = await dataDir();
    const server = await startChromaServer({ path });
    expect(server.reused).toBe(false);
    expect(server.host).toBe("127.0.0.1");
    expect(await heartbeat(server.host, server.port)).toBe(true);
    expect(processesServing(path).length).toBeGreaterThanOrEqual(2);
    await server.stop();
    expect(await heartbeat(server.host, server.port)).toBe(false);
    expect(processGone(server.pid)).toBe(true);
    expect(processesServing(path)).toEqual([]);
  });

  it("reuses the healthy server of a folder instead of starting a second one", async () => {
    const path = await dataDir();
    const first = await startChromaServer({ path });
    const second = await startChromaServer({ path });
    expect(second.reused).toBe(true);
    expect(second.port).toBe(first.port);
    // Releasing one handle keeps the server up for the other.
    await second.stop();
    expect(await heartbeat(first.host, first.port)).toBe(true);
    await first.stop();
    expect(await heartbeat(first.host, first.port)).toBe(false);
  });

  it("reuses a server another process started on the same folder", async () => {
    const path = await dataDir();
    const port = await freePort();
    // A separate Node process owns the server; this process finds it through the folder.
    const ownerPid = await startOwner(path, port);
    try {
      const handle = await startChromaServer({ path });
      expect(handle.reused).toBe(true);
      expect(handle.port).toBe(port);
      await handle.stop();
      expect(await heartbeat("127.0.0.1", port)).toBe(true);
    } finally {
      process.kill(ownerPid, "SIGINT");
      await waitFor(async () => !(await heartbeat("127.0.0.1", port)), SERVER_WAIT_MS);
    }
    // Chroma stops answering before it exits, and its supervisor exits after it: wait for both
    // (a check right after the heartbeat stopped could still see them on a loaded machine).
    expect(await waitFor(() => processesServing(path).length === 0, SERVER_WAIT_MS)).toBe(true);
  });

  it("restarts on the same folder with its data intact", async () => {
    const path = await dataDir();
    const first = await startChromaServer({ path });
    const client = new ChromaClient({ host: first.host, port: first.port });
    const collection = await client.createCollection({ name: "persisted", embeddingFunction: null });
    await collection.add({ ids: ["a", "b"], embeddings: [[1, 0], [0, 1]], documents: ["one", "two"] });
    await first.stop();

    const second = await startChromaServer({ path });
    expect(second.reused).toBe(false);
    const again = new ChromaClient({ host: second.host, port: second.port });
    const reopened = await again.getCollection({ name: "persisted" });
    const rows = await reopened.get({ ids: ["a", "b"] });
    expect(rows.documents.sort()).toEqual(["one", "two"]);
    await second.stop();
  });

  it("reports a port taken by something that is not Chroma", async () => {
    const port = await freePort();
    const sockets = new Set<Socket>();
    const blocker: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.end("SSH-2.0-not-chroma\r\n");
    });
    await new Promise<void>((done) => blocker.listen(port, "127.0.0.1", () => done()));
    try {
      const error = await startChromaServer({ path: await dataDir(), port }).catch((e: unknown) => e);
      expect(isEngramError(error, "CHROMA_PORT_IN_USE")).toBe(true);
      expect((error as Error).message).toContain("not Chroma");
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => blocker.close(() => done()));
    }
  });

  it("reports a port taken by another Chroma server serving a different folder", async () => {
    const other = await startChromaServer({ path: await dataDir() });
    try {
      const error = await startChromaServer({ path: await dataDir(), port: other.port }).catch((e: unknown) => e);
      expect(isEngramError(error, "CHROMA_PORT_IN_USE")).toBe(true);
      expect((error as Error).message).toContain("another Chroma server");
    } finally {
      await other.stop();
    }
  });

  it("reports a server that exits during start, with its output", async () => {
    // A data "folder" whose sqlite file is a directory: the server cannot open its database.
    const path = await dataDir();
    await mkdir(join(path, "chroma.sqlite3"), { recursive: true });
    const error = await startChromaServer({ path }).catch((e: unknown) => e);
    expect(isEngramError(error, "CHROMA_EXITED")).toBe(true);
    expect(String((error as { details: { stderr: string } }).details.stderr).length).toBeGreaterThan(0);
    expect(processesServing(path)).toEqual([]);
  });

  it("reports a heartbeat that never comes, and stops what it started", async () => {
    const path = await dataDir();
    const error = await startChromaServer({ path, startTimeoutMs: 1 }).catch((e: unknown) => e);
    expect(isEngramError(error, "CHROMA_START_TIMEOUT")).toBe(true);
    expect(await waitFor(() => processesServing(path).length === 0, SERVER_WAIT_MS)).toBe(true);
  });

  it("refuses a start timeout that is not a positive number, before it makes the folder", async () => {
    const path = await dataDir();
    for (const startTimeoutMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await startChromaServer({ path, startTimeoutMs }).catch((e: unknown) => e);
      expect(isEngramError(error, "INVALID_OPTIONS")).toBe(true);
      expect((error as Error).message).toContain("startTimeoutMs");
    }
    await expect(import("node:fs/promises").then((fs) => fs.stat(path))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("passes the connection's startTimeoutMs to the local server it starts", async () => {
    const { ChromaConnection } = await import("./connection.js");
    const path = await dataDir();
    const connection = new ChromaConnection({ startTimeoutMs: 1 }, path);
    try {
      const error = await connection.client().catch((e: unknown) => e);
      expect(isEngramError(error, "CHROMA_START_TIMEOUT")).toBe(true);
      expect((error as Error).message).toContain("within 1 ms");
    } finally {
      await connection.close();
    }
    expect(await waitFor(() => processesServing(path).length === 0, SERVER_WAIT_MS)).toBe(true);
  });

  it("reports a data folder that cannot be written", async () => {
    const parent = await dataDir();
    await mkdir(parent, { recursive: true });
    // A regular file where the folder should be: unwritable for every user, root included.
    const blocked = join(parent, "file");
    await import("node:fs/promises").then((fs) => fs.writeFile(blocked, "x"));
    await chmod(blocked, 0o400);
    const error = await startChromaServer({ path: join(blocked, "data") }).catch((e: unknown) => e);
    expect(isEngramError(error, "CHROMA_DATA_DIR_NOT_WRITABLE")).toBe(true);
  });

  it("stops the server when the process that started it is killed", async () => {
    for (const signal of ["SIGKILL", "SIGTERM"] as const) {
      const path = await dataDir();
      const port = await freePort();
      const owner = await startOwner(path, port);
      expect(await heartbeat("127.0.0.1", port)).toBe(true);
      process.kill(owner, signal);
      expect(await waitFor(async () => !(await heartbeat("127.0.0.1", port)), SERVER_WAIT_MS)).toBe(true);
      expect(await waitFor(async () => processesServing(path).length === 0, SERVER_WAIT_MS)).toBe(true);
    }
  });
});

/**
 * A detached Node process that starts a server on `path` and stays alive until signalled, as an
 * application would. Resolves with its pid once the server is up.
 */
function startOwner(path: string, port: number): Promise<number> {
  const module = new URL("./chroma_server.ts", import.meta.url).pathname;
  const code = `
    import { startChromaServer } from ${JSON.stringify(module)};
    await startChromaServer({ path: ${JSON.stringify(path)}, port: ${port} });
    process.send("ready");
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    detached: true,
    stdio: ["ignore", "ignore", "ignore", "ipc"],
  });
  return new Promise((done, fail) => {
    child.once("message", () => {
      child.disconnect();
      child.unref();
      done(child.pid ?? -1);
    });
    child.once("exit", (code) => fail(new Error(`owner exited early (${code})`)));
  });
}

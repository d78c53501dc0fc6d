import { afterAll, describe, expect, it, jest } from "@jest/globals";
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { alive, chromaPid, tempDir } from "../tests/chroma.js";

/*
 * A script whose only work is a call on a local Chroma that lives but does not answer. The
 * request's deadline timer was unref'd, a hung server's socket does not keep a process alive, and
 * neither did the restart's probe and its wait for the stopped server's exit: the process ended
 * in the middle of the call, before its deadline (exit code 13, "unsettled top-level await"; 0
 * and no word when the call was not awaited at the top level), the write left queued. Here the
 * script is a real child process that stops its own Chroma.
 */

jest.setTimeout(180_000);

const CHILD = fileURLToPath(new URL("../tests/hang_child.ts", import.meta.url));
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("a script awaiting a call on a hung local Chroma", () => {
  it("stays alive until the server is restarted and the call returns", async () => {
    const dataDir = await tempDir("engram-hang-exit-");
    dirs.push(dataDir);
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dataDir], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
    const code = await new Promise<number | null>((done) => child.once("exit", (exit) => done(exit)));
    // A Chroma left stopped by a child that ended early is not left behind.
    const left = chromaPid(join(dataDir, "chroma"));
    if (left !== undefined && alive(left)) {
      process.kill(left, "SIGCONT");
      process.kill(left, "SIGKILL");
    }
    expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
    expect(JSON.parse(out.trim())).toEqual({ pending: false, restarted: true });
  });
});

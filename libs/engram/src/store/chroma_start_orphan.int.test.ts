import { afterEach, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { localServerState } from "./chroma_server.js";
import { tempDir } from "../tests/chroma.js";
import { waitFor } from "../tests/wait.js";
import { chromasServing, serverChild, type ServerChild } from "./tests/server_children.js";

/*
 * The supervisor between an application and its Chroma is killed on its own: Chroma outlives it and
 * still serves the folder (docs/reliability.md: its owner goes on using it). A process that opens
 * the folder afterwards, or after the owner has exited, must use that server too, not start a
 * second one on the same files. Before, the folder's state file named only the supervisor, which
 * was dead, so the server read as gone and the newcomer launched another beside it.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const children: ServerChild[] = [];
const paths: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) await child.close();
  // The orphaned Chroma has no supervisor left to stop it: the test does.
  for (const path of paths.splice(0)) for (const pid of chromasServing(path)) process.kill(pid, "SIGKILL");
});

function start(path: string): ServerChild {
  const child = serverChild(path);
  children.push(child);
  return child;
}

describe("a data folder whose Chroma outlived its supervisor", () => {
  it("is reused by a process that opens it while the owner runs, and after the owner exited", async () => {
    const path = join(await tempDir("engram-orphan-"), "chroma");
    paths.push(path);
    const owner = start(path);
    expect(await owner.next()).toEqual({ ready: true });
    const first = await owner.next();
    expect(first.reused).toBe(false);
    const state = await localServerState(path);
    if (state.status !== "running") throw new Error("no server");
    const [chroma] = chromasServing(path);
    process.kill(state.server.pid, "SIGKILL");
    expect(await waitFor(async () => (await owner.ask("heal")).url === first.url)).toBe(true);

    const newcomer = start(path);
    expect(await newcomer.next()).toEqual({ ready: true });
    expect(await newcomer.next()).toMatchObject({ url: first.url, reused: true });
    expect(chromasServing(path)).toEqual([chroma]);
    await newcomer.close();

    // The owner exits; its Chroma, which it cannot stop, still serves the folder and is found.
    await owner.close();
    const late = start(path);
    expect(await late.next()).toEqual({ ready: true });
    expect(await late.next()).toMatchObject({ url: first.url, reused: true });
    expect(chromasServing(path)).toEqual([chroma]);
  });
});

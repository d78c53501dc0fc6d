import { describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { tempDir } from "../tests/chroma.js";
import { chromasServing, serverChildrenSuite } from "./tests/server_children.js";

/*
 * A data folder's Chroma runs but does not answer its heartbeat in time (a busy machine, or a hung
 * server; here frozen with SIGSTOP). A process that opens the folder then, or one on that server
 * whose heal finds it silent, must not start a second server on the same files: the server's
 * processes are alive (the folder's state file names them, with their start times), so it is
 * used as it is; its requests wait or time out as an outage, and its owner restarts it if it hangs.
 * Before, a heartbeat that did not answer within a second made the server read as gone.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const { start, frozen } = serverChildrenSuite();

describe("a data folder whose Chroma lives but does not answer", () => {
  it("is used as it is by a process opening the folder and by a heal: no second server on the folder", async () => {
    const path = join(await tempDir("engram-busy-"), "chroma");
    const owner = start(path);
    expect(await owner.next()).toEqual({ ready: true });
    const first = await owner.next();
    expect(first.reused).toBe(false);
    const [chroma] = chromasServing(path);
    process.kill(chroma!, "SIGSTOP");
    frozen.push(chroma!);

    const newcomer = start(path);
    expect(await newcomer.next()).toEqual({ ready: true });
    expect(await newcomer.next()).toMatchObject({ url: first.url, reused: true });
    expect(chromasServing(path)).toEqual([chroma]);
    // Its heal finds the server silent: after its grace, it looks for a server on the folder again.
    expect(await newcomer.ask("heal")).toMatchObject({ url: first.url });
    expect(chromasServing(path)).toEqual([chroma]);

    process.kill(chroma!, "SIGCONT");
    frozen.splice(0);
    expect(await newcomer.ask("heal")).toMatchObject({ url: first.url });
    expect(chromasServing(path)).toEqual([chroma]);
  });
});

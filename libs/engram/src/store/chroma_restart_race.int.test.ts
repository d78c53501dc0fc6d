import { describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { heartbeat, localServerState } from "./chroma_server.js";
import { killChroma, tempDir } from "../tests/chroma.js";
import { waitFor } from "../tests/wait.js";
import { chromasServing, serverChildrenSuite } from "./tests/server_children.js";

/*
 * A data folder's Chroma server dies while two application processes use it: its owner (the
 * process that started it) restarts it, and a process that reused it starts one itself once its
 * grace period has passed without a server. Both are starts on one folder: they take the folder's
 * start lock (store/start_lock.ts), and whichever comes second finds the first's server and uses
 * it. Before, the owner's restart took no lock: an owner slower than the reuser's grace (a busy
 * machine; here, frozen with SIGSTOP) launched a second server on the folder beside the reuser's.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const { start } = serverChildrenSuite();

describe("a data folder's Chroma server restarted by two processes at once", () => {
  it("the owner's restart after a reuser started a server joins it: one server on the folder, both processes on it", async () => {
    const path = join(await tempDir("engram-restart-race-"), "chroma");
    const owner = start(path, 1); // a second death within the minute would end in CHROMA_EXITED
    expect(await owner.next()).toEqual({ ready: true });
    const first = await owner.next();
    expect(first.reused).toBe(false);
    const reuser = start(path);
    expect(await reuser.next()).toEqual({ ready: true });
    expect(await reuser.next()).toMatchObject({ url: first.url, reused: true });

    // The owner is frozen (a busy machine) when Chroma dies: its supervisor exits, the owner does
    // not see it yet. The reuser's heal waits its grace, then starts a server on the folder.
    process.kill(owner.process.pid!, "SIGSTOP");
    killChroma(path);
    const healed = await reuser.ask("heal");
    expect(healed.error).toBeUndefined();
    expect(healed.url).not.toBe(first.url);
    const state = await localServerState(path);
    expect(state.status).toBe("running");

    // The owner wakes up, sees its server's death and restarts it.
    process.kill(owner.process.pid!, "SIGCONT");
    const after = await owner.ask("heal");
    expect(after.error).toBeUndefined();
    expect({ owner: after.url, chromas: chromasServing(path).length }).toEqual({ owner: healed.url, chromas: 1 });
    expect(await heartbeat("127.0.0.1", Number(new URL(after.url!).port))).toBe(true);

    // The server the owner joined is slow to answer (frozen): the owner's heal waits for it, as
    // for its own, and neither restarts it nor counts a death (before: CHROMA_EXITED at once).
    const [joined] = chromasServing(path);
    process.kill(joined!, "SIGSTOP");
    try {
      expect(await owner.ask("heal")).toEqual(after);
    } finally {
      process.kill(joined!, "SIGCONT");
    }
    expect(await owner.ask("heal")).toEqual(after);
    expect(chromasServing(path)).toEqual([joined]);

    // The owner lets go first: the reuser's server (now serving both) keeps running and its state
    // file stays; then the reuser stops it, and nothing is left on the folder.
    await owner.close();
    expect((await localServerState(path)).status).toBe("running");
    expect((await reuser.ask("url")).url).toBe(healed.url);
    await reuser.close();
    expect(await waitFor(() => chromasServing(path).length === 0)).toBe(true);
  });
});

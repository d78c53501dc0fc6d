import { describe, expect, it, jest } from "@jest/globals";
import { fileURLToPath } from "node:url";
import { tempDir } from "../tests/chroma.js";
import { runReportingChild, type ChildOutcome } from "../tests/reporting_child.js";

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const CHILD = fileURLToPath(new URL("../tests/fetch_pool_child.ts", import.meta.url));

interface ChildReport {
  before: number;
  after: number;
  hits: Array<string | undefined>;
}

function runChild(root: string, folders: number): Promise<ChildOutcome<ChildReport>> {
  return runReportingChild<ChildReport>(CHILD, { root, folders });
}

/**
 * The embedded default starts a Chroma server per data folder, on a port of its own. Every
 * request to it (the client's, the start's heartbeats, the hung-server probe) went through Node's
 * process-wide fetch pool (undici's global Agent), which keeps an entry per origin for the life of
 * the process: ~35 KB for each data folder a process ever opened and closed. Each connection now
 * has a pool of its own, destroyed in close(). Measured in a real child process: the pool is on
 * the process's global object, which a Jest test does not see.
 */
describe("opening and closing embedded data folders leaves nothing in Node's process-wide fetch pool", () => {
  it("three Memories, each on its own local server, opened, used and closed: no origin kept", async () => {
    const { code, report, err } = await runChild(await tempDir("engram-fetch-pool-"), 3);
    expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
    expect(report!.hits).toEqual(["I keep bees on the roof.", "I keep bees on the roof.", "I keep bees on the roof."]);
    // Before: one more origin per folder (3).
    expect(report!.after).toBe(report!.before);
  });
});

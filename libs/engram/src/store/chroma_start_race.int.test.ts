import { describe, expect, it, jest } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { tempDir } from "../tests/chroma.js";

/*
 * Several processes open one new data folder at the same moment (app workers starting together):
 * each found no server for the folder and launched one, and two Chroma servers on one folder either
 * died in their migration ("table collections already exists": CHROMA_EXITED during start) or ran
 * side by side on the same files. One start at a time (store/start_lock.ts): one process starts the
 * server, the others reuse it.
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const CHILD = fileURLToPath(new URL("../tests/start_race_child.ts", import.meta.url));
const PROCESSES = 4;

describe("processes starting one data folder's Chroma server at the same moment", () => {
  it("share one server: one starts it, the others reuse it, none fails", async () => {
    for (let round = 0; round < 3; round++) {
      const path = join(await tempDir("engram-start-race-"), "chroma");
      const startAt = Date.now() + 3_000; // every child loaded and waiting by then
      const children: ChildProcess[] = [];
      const reports = await Promise.all(
        Array.from({ length: PROCESSES }, async () => {
          const env = { ...process.env };
          delete env.NODE_OPTIONS;
          const child = spawn(process.execPath, ["--import", "tsx", CHILD, path, String(startAt)], { env, stdio: ["pipe", "pipe", "inherit"] });
          children.push(child);
          const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
          return JSON.parse(line) as { url?: string; reused?: boolean; error?: string };
        }),
      );
      // The one that started it closes last: the others' handles are on its server.
      const exits = children.map((child) => once(child, "exit"));
      const order = [...children.keys()].sort((a, b) => Number(reports[a]!.reused === false) - Number(reports[b]!.reused === false));
      for (const index of order) {
        children[index]!.stdin!.end();
        await exits[index];
      }
      expect({ round, errors: reports.filter((report) => report.error !== undefined) }).toEqual({ round, errors: [] });
      expect({ round, urls: new Set(reports.map((report) => report.url)).size, started: reports.filter((report) => report.reused === false).length }).toEqual({ round, urls: 1, started: 1 });
    }
  });
});

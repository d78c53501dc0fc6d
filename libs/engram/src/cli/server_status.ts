import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { heartbeat } from "../store/chroma_server.js";

/**
 * The file `startChromaServer` writes in the server's data folder while a server it started runs
 * (store/chroma_server.ts keeps the name private; this reads the same file, the one way another
 * process can find the server).
 */
export const SERVER_STATE_FILE = "engram-chroma.json";

export type ServerStatus =
  | { running: true; url: string; pid: number; path: string }
  | { running: false; path: string; reason: string };

/** Whether a local server serves the Chroma data folder `path`, and where. */
export async function localServerStatus(path: string): Promise<ServerStatus> {
  let state: { pid?: unknown; host?: unknown; port?: unknown };
  try {
    state = JSON.parse(await readFile(join(path, SERVER_STATE_FILE), "utf8")) as typeof state;
  } catch {
    return { running: false, path, reason: "no server was started for it" };
  }
  if (typeof state.pid !== "number" || typeof state.host !== "string" || typeof state.port !== "number") {
    return { running: false, path, reason: `its ${SERVER_STATE_FILE} is not readable` };
  }
  if (!isAlive(state.pid) || !(await heartbeat(state.host, state.port))) {
    return { running: false, path, reason: `the server last started for it (pid ${state.pid}, port ${state.port}) is gone` };
  }
  return { running: true, url: `http://${state.host}:${state.port}`, pid: state.pid, path };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

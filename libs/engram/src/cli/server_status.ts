import { localServerState, SERVER_STATE_FILE } from "../store/chroma_server.js";

export type ServerStatus =
  | { running: true; url: string; pid: number; path: string }
  | { running: false; path: string; reason: string };

/** Whether a local server serves the Chroma data folder `path`, and where, in the CLI's words. */
export async function localServerStatus(path: string): Promise<ServerStatus> {
  const state = await localServerState(path);
  switch (state.status) {
    case "none":
      return { running: false, path, reason: "no server was started for it" };
    case "unreadable":
      return { running: false, path, reason: `its ${SERVER_STATE_FILE} is not readable` };
    case "gone":
      return { running: false, path, reason: `the server last started for it (pid ${state.server.pid}, port ${state.server.port}) is gone` };
    case "running":
      return { running: true, url: `http://${state.server.host}:${state.server.port}`, pid: state.server.pid, path };
  }
}

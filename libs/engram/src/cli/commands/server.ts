import { resolve } from "node:path";
import type { Command } from "commander";
import { startChromaServer } from "../../store/chroma_server.js";
import { CliExit, type CliIO } from "../io.js";
import { addDataDirOption, integerIn } from "../memory_options.js";
import { localServerStatus } from "../server_status.js";

/** Exit code of `server status` when no server runs (0 when one does). */
export const SERVER_NOT_RUNNING_EXIT = 1;

/** `server start` and `server status`: the local Chroma server of a data folder. */
export function registerServerCommands(program: Command, io: CliIO): void {
  const server = program.command("server").description("the local Chroma server of a data folder");

  addDataDirOption(
    server
      .command("start")
      .description("start the local Chroma server and keep it running in the foreground until Ctrl+C (SIGINT) or SIGTERM")
      .option("--port <n>", "port on 127.0.0.1 (default: a free one)", integerIn(1, 65_535)),
  ).action(async (flags: { dataDir: string; port?: number }) => {
    const path = chromaPath(io, flags.dataDir);
    const handle = await startChromaServer({ path, ...(flags.port === undefined ? {} : { port: flags.port }) });
    if (handle.reused) {
      // Not ours to stop: its starter keeps it running.
      io.out(`Chroma for ${path} is already running at ${handle.url} (pid ${handle.pid}).\n`);
      await handle.stop();
      return;
    }
    io.out(
      `Chroma for ${path} is listening at ${handle.url} (pid ${handle.pid}).\n` +
        "Engram commands on this data folder use it; other processes can connect with --chroma-url. Ctrl+C stops it.\n",
    );
    const signal = await io.untilStopped();
    await handle.stop();
    io.out(`Stopped (${signal}).\n`);
  });

  addDataDirOption(
    server.command("status").description(`whether the local server of the data folder is running (exit code ${SERVER_NOT_RUNNING_EXIT} when not)`),
  ).action(async (flags: { dataDir: string }) => {
    const status = await localServerStatus(chromaPath(io, flags.dataDir));
    if (status.running) {
      io.out(`running at ${status.url} (pid ${status.pid}), data in ${status.path}\n`);
      return;
    }
    io.out(`not running: ${status.reason} (data folder ${status.path})\n`);
    throw new CliExit(SERVER_NOT_RUNNING_EXIT);
  });
}

/** The local server serves `<dataDir>/chroma`, the same folder `Memory` uses by default. */
function chromaPath(io: CliIO, dataDir: string): string {
  return resolve(io.cwd, dataDir, "chroma");
}

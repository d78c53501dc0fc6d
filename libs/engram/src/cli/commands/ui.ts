import { resolve } from "node:path";
import type { Command } from "commander";
import { startInspector, type Inspector } from "../../ui/server.js";
import type { UiOptions } from "../../ui/schemas.js";
import type { CliIO } from "../io.js";
import { addDataDirOption, integerIn } from "../memory_options.js";
import { embeddingsForFolder } from "../models.js";
import { stateFromUrl } from "../../state/open.js";

/** The flags of `engram ui`, as commander parses them (the same type the server validates). */
type UiFlags = Required<Pick<UiOptions, "dataDir" | "prefix" | "host">> & Pick<UiOptions, "chromaUrl" | "state" | "port" | "allowEdit">;

/**
 * `engram ui`: the memory inspector in a browser. Prints its URL with a fresh access token (only
 * there: the token is never logged anywhere else), serves until Ctrl+C (SIGINT) or SIGTERM, then
 * closes everything it opened.
 */
export function registerUiCommand(program: Command, io: CliIO, started?: (inspector: Inspector) => void): void {
  addDataDirOption(
    program
      .command("ui")
      .description("a local web page to inspect what agents remember: users, memories, ranked search with score parts, history, token costs")
      .option("--chroma-url <url>", "use the Chroma server at this URL instead of the local one for the data folder")
      .option("--prefix <prefix>", "collection name prefix of the app", "engram")
      .option("--state <url>", "the app's shared state: postgres://... for PostgreSQL, or a folder of SQLite state (default: the data folder)")
      .option("--port <n>", "port to listen on (default: a free one)", integerIn(0, 65_535))
      .option("--host <address>", "address to listen on; anything but 127.0.0.1 exposes personal data to the network", "127.0.0.1")
      .option("--allow-edit", "allow editing and deleting memories and erasing users (read-only without it)"),
  ).action(async (flags: UiFlags) => {
    const dataDir = resolve(io.cwd, flags.dataDir);
    // The model the folder records (search and edits embed with it), as every command opens a folder.
    const embeddings = await embeddingsForFolder(dataDir, flags.state === undefined ? undefined : stateFromUrl(flags.state));
    const inspector = await startInspector({
      dataDir,
      ...(embeddings === undefined ? {} : { embeddings }),
      prefix: flags.prefix,
      host: flags.host,
      allowEdit: flags.allowEdit === true,
      ...(flags.port === undefined ? {} : { port: flags.port }),
      ...(flags.chromaUrl === undefined ? {} : { chromaUrl: flags.chromaUrl }),
      ...(flags.state === undefined ? {} : { state: flags.state }),
      log: (message) => io.err(message),
    }).catch(async (error: unknown) => {
      await embeddings?.close?.();
      throw error;
    });
    io.out(
      `Engram inspector (${flags.allowEdit ? "edits allowed" : "read-only"}) for ${resolve(io.cwd, flags.dataDir)}:\n` +
        `    ${inspector.url}\n` +
        "Open that URL (the token in it is the only way in). Ctrl+C stops it.\n",
    );
    if (!["127.0.0.1", "::1", "localhost"].includes(flags.host)) {
      io.err(`Warning: listening on ${flags.host}, beyond this machine: anyone who can reach it and has the URL sees these memories.\n`);
    }
    started?.(inspector);
    const signal = await io.untilStopped();
    await inspector.close();
    await embeddings?.close?.();
    io.out(`Stopped (${signal}).\n`);
  });
}

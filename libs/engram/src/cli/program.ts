import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { EngramError } from "../core/errors.js";
import { registerEraseCommand } from "./commands/erase.js";
import { registerInspectCommands } from "./commands/inspect.js";
import { registerMcpCommand } from "./commands/mcp.js";
import { registerMigrateStateCommand } from "./commands/migrate_state.js";
import { registerReembedCommand } from "./commands/reembed.js";
import { registerServerCommands } from "./commands/server.js";
import { registerTransferCommands } from "./commands/transfer.js";
import { registerUiCommand } from "./commands/ui.js";
import { CliExit, resolveIO, type CliIO, type CliOptions } from "./io.js";

/** Exit codes: 0 done, 1 an error (an `EngramError`, printed with its code), 2 a usage error. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/**
 * The `engram` command line, built fresh for each run. Output goes to `options.out` / `options.err`
 * (the process streams by default) and errors are thrown rather than exiting the process, so a
 * test runs commands in process; {@link runCli} turns them into exit codes.
 */
export function buildProgram(options: CliOptions = {}): Command {
  const io: CliIO = resolveIO(options);
  const program = new Command("engram")
    .description("Engram's long-term memory from the command line: start the local server; inspect, search, export, import and erase a user's memory.")
    .version(packageVersion(), "-V, --version")
    // Set before the subcommands are added, which inherit both.
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text) })
    .showHelpAfterError("(add --help for usage)");
  registerServerCommands(program, io);
  registerInspectCommands(program, io);
  registerTransferCommands(program, io);
  registerEraseCommand(program, io);
  registerMcpCommand(program, io);
  registerUiCommand(program, io);
  registerReembedCommand(program, io);
  registerMigrateStateCommand(program, io);
  return program;
}

/** Runs one command line (without `node` and the script) and returns its exit code. */
export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  const io = resolveIO(options);
  try {
    await buildProgram(io).parseAsync([...argv], { from: "user" });
    return EXIT_OK;
  } catch (error) {
    return exitCodeOf(error, io);
  }
}

function exitCodeOf(error: unknown, io: CliIO): number {
  if (error instanceof CliExit) return error.exitCode;
  // Commander has already printed its message (help, version, or what was wrong with the line).
  if (error instanceof CommanderError) {
    if (error.exitCode === EXIT_OK) return EXIT_OK;
    return error.code === "engram.eraseNotConfirmed" ? error.exitCode : EXIT_USAGE;
  }
  if (error instanceof EngramError) {
    io.err(`error [${error.code}]: ${error.message}\n`);
    return EXIT_ERROR;
  }
  io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_ERROR;
}

function packageVersion(): string {
  // ../../package.json from both src/cli (tests) and dist/cli (the installed bin).
  const manifest = createRequire(import.meta.url)("../../package.json") as { version?: string };
  return manifest.version ?? "0.0.0";
}

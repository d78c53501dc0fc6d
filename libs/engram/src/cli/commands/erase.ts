import type { Command } from "commander";
import { json } from "../format.js";
import type { CliIO } from "../io.js";
import { addStoreOptions, withMemory, type StoreFlags } from "../memory_options.js";

/** Exit code of a refused erase (a usage error: the confirmation flag is missing). */
export const ERASE_NOT_CONFIRMED_EXIT = 2;

/** `erase`: the user's `deleteAll`, behind an explicit `--yes`. */
export function registerEraseCommand(program: Command, io: CliIO): void {
  const command = addStoreOptions(
    program
      .command("erase")
      .description("remove the user from every place Engram writes (store, history log, outbox); cannot be undone")
      .option("--yes", "confirm: without it nothing is removed")
      .option("--json", "print what was removed as JSON"),
  );
  command.action(async (flags: StoreFlags & { user: string; yes?: boolean; json?: boolean }) => {
    if (!flags.yes) {
      // Refused before the store is opened: nothing is read or removed.
      command.error(
        `error: erase removes every memory of user ${JSON.stringify(flags.user)} (store, history, pending writes) and cannot be undone; ` +
          "run it again with --yes to confirm.",
        { exitCode: ERASE_NOT_CONFIRMED_EXIT, code: "engram.eraseNotConfirmed" },
      );
    }
    const removed = await withMemory(io, flags, (memory) => memory.deleteAll({ userId: flags.user }));
    if (flags.json) {
      io.out(json(removed));
      return;
    }
    const parts = [
      `${removed.deleted} memories from the store`,
      `${removed.history} history entries`,
      `${removed.pending} pending writes`,
      ...(removed.extractions === undefined ? [] : [`${removed.extractions} waiting fact extractions`]),
    ];
    io.out(`Erased user ${JSON.stringify(flags.user)}: ${parts.join(", ")}.\n`);
  });
}

import { Option, type Command } from "commander";
import { EngramError } from "../../core/errors.js";
import { MEMORY_KINDS, type MemoryKind } from "../../core/types.js";
import { historyLine, json, recordDetails, recordLines, scoredLines } from "../format.js";
import type { CliIO } from "../io.js";
import { addStoreOptions, integerIn, withMemory, type StoreFlags } from "../memory_options.js";

interface UserFlags extends StoreFlags {
  user: string;
  json?: boolean;
}

/** A list as JSON with `--json`, else `empty` for no items, else the items as `lines` renders them. */
function printList<T>(io: CliIO, asJson: boolean | undefined, items: T[], empty: string, lines: (items: T[]) => string): void {
  if (asJson) io.out(json(items));
  else if (items.length === 0) io.out(`${empty}\n`);
  else io.out(lines(items));
}

/** `list`, `search`, `get` and `history`: read-only views of one user's memory. */
export function registerInspectCommands(program: Command, io: CliIO): void {
  addStoreOptions(
    program
      .command("list")
      .description("list a user's memories, newest first")
      .addOption(new Option("--kind <kind>", "only memories of this kind").choices(MEMORY_KINDS))
      .option("--limit <n>", "at most this many (1-10000)", integerIn(1, 10_000), 100)
      .option("--json", "print the records as a JSON array"),
  ).action(async (flags: UserFlags & { kind?: MemoryKind; limit: number }) => {
    const records = await withMemory(io, flags, (memory) =>
      memory.getAll({ userId: flags.user, limit: flags.limit, ...(flags.kind === undefined ? {} : { kind: flags.kind }) }),
    );
    printList(io, flags.json, records, `No memories for user ${JSON.stringify(flags.user)}.`, recordLines);
  });

  addStoreOptions(
    program
      .command("search")
      .description("a user's memories closest in meaning to the query, best first, with their score (0..1)")
      .argument("<query>", "what to look for, in plain words")
      .option("--limit <n>", "at most this many (1-1000)", integerIn(1, 1_000), 10)
      .option("--json", "print the hits as a JSON array (with score and scoreParts)"),
  ).action(async (query: string, flags: UserFlags & { limit: number }) => {
    const hits = await withMemory(io, flags, (memory) => memory.search(query, { userId: flags.user, limit: flags.limit }));
    printList(io, flags.json, hits, `No memories for user ${JSON.stringify(flags.user)}.`, scoredLines);
  });

  addStoreOptions(
    program
      .command("get")
      .description("one memory of the user, every field")
      .argument("<id>", "the memory's id")
      .option("--json", "print the record as JSON"),
  ).action(async (id: string, flags: UserFlags) => {
    const record = await withMemory(io, flags, (memory) => memory.get(id, { userId: flags.user }));
    // Another user's id reads as unknown too: existence never leaks across users.
    if (!record) throw new EngramError("NOT_FOUND", `No memory ${id} for user ${JSON.stringify(flags.user)}.`, { details: { id } });
    io.out(flags.json ? json(record) : `${recordDetails(record)}\n`);
  });

  addStoreOptions(
    program
      .command("history")
      .description("every version of one memory (ADD, UPDATE, DELETE), oldest first")
      .argument("<id>", "the memory's id")
      .option("--json", "print the entries as a JSON array"),
  ).action(async (id: string, flags: UserFlags) => {
    const entries = await withMemory(io, flags, (memory) => memory.history(id, { userId: flags.user }));
    printList(io, flags.json, entries, `No history for memory ${id} of user ${JSON.stringify(flags.user)}.`, (list) =>
      list.map((entry) => `${historyLine(entry)}\n`).join(""),
    );
  });
}

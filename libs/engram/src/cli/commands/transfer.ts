import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { EngramError } from "../../core/errors.js";
import type { Memory } from "../../memory/memory.js";
import { MAX_ADD_MANY_ITEMS, type AddManyItem } from "../../memory/add_many.js";
import { everyRecord } from "../every_record.js";
import type { CliIO } from "../io.js";
import { decodeImportFile, parseImportFile, toExportLine, type ImportedMemory } from "../jsonl.js";
import { addStoreOptions, integerIn, withMemory, type StoreFlags } from "../memory_options.js";

interface UserFlags extends StoreFlags {
  user: string;
}

interface ImportFlags extends UserFlags {
  /** An application's `maxContentChars` above the default: its export must import back. */
  maxContentChars?: number;
  /** Import `procedure` lines (core blocks, learned instructions) too. */
  allowInstructions?: boolean;
}

/** `export` and `import`: a user's memory as JSON Lines, out and back in. */
export function registerTransferCommands(program: Command, io: CliIO): void {
  addStoreOptions(
    program
      .command("export")
      .description("write every memory of the user as JSON Lines, oldest first (no vectors: import embeds again)")
      .option("--out <file>", "write to this file (created or replaced, readable by its owner only) instead of standard output"),
  ).action(async (flags: UserFlags & { out?: string }) => {
    const records = await withMemory(io, flags, (memory) => everyRecord(memory, flags.user));
    const text = records.map((record) => `${toExportLine(record)}\n`).join("");
    if (flags.out === undefined) {
      io.out(text);
      return;
    }
    const path = resolve(io.cwd, flags.out);
    await writeWhole(path, text);
    io.out(`Exported ${records.length} memories of user ${JSON.stringify(flags.user)} to ${flags.out}.\n`);
  });

  addStoreOptions(
    program
      .command("import")
      .description("add the memories of a JSON Lines file (from export) to the user; every line is checked before anything is written")
      .argument("<file>", "the JSON Lines file")
      .option(
        "--max-content-chars <n>",
        "longest content a line may hold, in characters: the maxContentChars of the application that wrote the memories (default 8000)",
        integerIn(2, 1_000_000),
      )
      .option("--allow-instructions", "also import instructions (procedure memories: core blocks and learned instructions, kept in every system prompt of the user)"),
  ).action(async (file: string, flags: ImportFlags) => {
    const path = resolve(io.cwd, file);
    let text: string;
    try {
      text = decodeImportFile(await readFile(path));
    } catch (cause) {
      if (cause instanceof EngramError) throw cause;
      throw new EngramError("INVALID_IMPORT", `Cannot read ${file}: ${(cause as Error).message}`, { cause, details: { path } });
    }
    // The whole file first: a bad line refuses the import before the store is even opened.
    const records = parseImportFile(text, flags.maxContentChars);
    refuseInstructions(records, flags.allowInstructions === true);
    // A line already past its expiresAt (an export older than its memories' TTL) is left out: stored,
    // it is a memory no read returns, and every later import of the file would store it anew (an
    // expired memory said again is a new memory: memory/replay.ts), each time with a history entry.
    const now = Date.now();
    const live = records.filter((record) => record.expiresAt === undefined || record.expiresAt > now);
    const expired = records.length - live.length;
    const report = await importRecords(io, flags, live);
    io.out(
      `Imported ${report.added} memories for user ${JSON.stringify(flags.user)} from ${file}` +
        ` (${live.length - report.added} already present` +
        `${expired > 0 ? `, ${expired} expired and not imported` : ""}` +
        `${report.pending ? `, ${report.pending} waiting in the outbox for the store` : ""}).\n`,
    );
  });
}

/**
 * A `procedure` line is not a memory but an instruction: every door puts it in the system prompt
 * of every later conversation of the user. An import file is often someone else's (a user's own
 * export handed back, another deployment's), so one line of `"kind":"procedure"` would plant an
 * instruction the operator never saw, as an MCP client could before `--allow-instructions`. They
 * are imported only when asked for; otherwise the file is refused before anything is written.
 */
function refuseInstructions(records: readonly ImportedMemory[], allowed: boolean): void {
  if (allowed) return;
  const first = records.find((record) => record.kind === "procedure");
  if (first === undefined) return;
  const count = records.filter((record) => record.kind === "procedure").length;
  throw new EngramError(
    "INVALID_IMPORT",
    `Line ${first.line}: a procedure memory is an instruction, kept in every system prompt of the user (${count} in this file); ` +
      "import instructions only from a file you trust, with --allow-instructions. Nothing was imported.",
    { details: { line: first.line, reason: "INSTRUCTION", instructions: count } },
  );
}

/**
 * Adds the records with `addMany` (every line checked before anything is written, one outbox
 * transaction per call), each with its id and its creation time: the record and its history entry
 * keep the original time.
 */
async function importRecords(io: CliIO, flags: ImportFlags, records: ImportedMemory[]): Promise<{ added: number; pending: number }> {
  const limits = flags.maxContentChars === undefined ? {} : { maxContentChars: flags.maxContentChars };
  return withMemory(io, flags, async (memory) => {
    // Counted by the file's own ids: an application writing the user meanwhile adds records the
    // import did not (a count of the user's records before and after took them for imported lines).
    const before = new Set((await everyRecord(memory, flags.user)).map((record) => record.id));
    const added = new Set<string>();
    const items: AddManyItem[] = records.map((record) => ({
      content: record.content,
      kind: record.kind,
      metadata: record.metadata,
      ...(record.role === undefined ? {} : { role: record.role }),
      ...(record.agentId === undefined ? {} : { agentId: record.agentId }),
      ...(record.threadId === undefined ? {} : { threadId: record.threadId }),
      ...(record.id === undefined ? {} : { id: record.id }),
      ...(record.importance === undefined ? {} : { importance: record.importance }),
      ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
      ...(record.source === undefined ? {} : { source: record.source }),
      ...(record.createdAt === undefined ? {} : { createdAt: record.createdAt }),
    }));
    let waiting = false;
    for (let first = 0; first < items.length; first += MAX_ADD_MANY_ITEMS) {
      const result = await memory
        .addMany(items.slice(first, first + MAX_ADD_MANY_ITEMS), { userId: flags.user, infer: false })
        .catch((error: unknown) => Promise.reject(refusedLine(error, records, first)));
      waiting ||= result.pending;
      for (const record of result.results) if (!before.has(record.id)) added.add(record.id);
      // A line whose id is already stored with other content is not imported (a replay keeps the
      // stored memory): say so, or the report's "already present" hides that the file's text was dropped.
      for (const warning of result.warnings) io.err(`warning: ${lineOf(warning, records, first)}\n`);
    }
    // Lines written while the store was down (a server restarting) wait in the outbox: the store
    // is usually back by the end of the file, so hand them over now rather than leave them for the
    // next process that opens the folder.
    const pending = waiting ? await flushedPending(memory, flags.user) : 0;
    return { added: added.size, pending };
  }, limits);
}

/**
 * addMany's refusal of one item (`items[i]: ...`, details.index), which checks every item before it
 * writes any, as the file's line: a check parseImportFile does not make itself still names the line
 * (its index in the call is not the line: blank and expired lines are left out).
 */
function refusedLine(error: unknown, records: readonly ImportedMemory[], first: number): unknown {
  if (!(error instanceof EngramError) || typeof error.details.index !== "number") return error;
  const record = records[first + error.details.index];
  if (record === undefined) return error;
  const done = first === 0 ? "Nothing was imported." : `Lines up to ${records[first - 1]!.line} were imported, none from line ${records[first]!.line} on.`;
  return new EngramError("INVALID_IMPORT", `Line ${record.line}: ${error.message.replace(/^items\[\d+\]: /, "")} (${error.code}) ${done}`, {
    cause: error,
    details: { line: record.line, reason: error.code },
  });
}

/** A warning of addMany with the file's line: `items[i]` of a chunk, or the memory id a line gave. */
function lineOf(warning: string, records: readonly ImportedMemory[], first: number): string {
  const item = /^items\[(\d+)\]: /.exec(warning);
  if (item) {
    const record = records[first + Number(item[1])];
    return record === undefined ? warning : `line ${record.line}: ${warning.slice(item[0].length)}`;
  }
  // The warning starts with the memory's id ("Memory <id> already exists ..."): the line of the
  // longest id it starts with, not the first id found in it ("pet-1" is in a warning about "pet-10").
  let named: ImportedMemory | undefined;
  for (const record of records) {
    if (record.id === undefined || !warning.startsWith(`Memory ${record.id} `)) continue;
    if (named === undefined || record.id.length > named.id!.length) named = record;
  }
  return named === undefined ? warning : `line ${named.line}: ${warning}`;
}

/** What is still queued after one replay of the outbox; with the store still down, the user's queued writes. */
async function flushedPending(memory: Memory, userId: string): Promise<number> {
  try {
    return (await memory.flush()).pending;
  } catch (error) {
    if (error instanceof EngramError && (error.code === "STORE_UNAVAILABLE" || error.code === "CHROMA_EXITED")) return memory.state.outbox().size(userId);
    throw error;
  }
}

/**
 * Writes beside the target, then renames: a failed export never leaves half a file in its place.
 * The temporary file is made new ("wx": never one that exists, never through a symbolic link) under
 * a random name: with a guessable name in a shared folder (/tmp), another local user could place a
 * link there (the export overwrote the file it pointed to with the memories) or a file of their own
 * (kept its owner and mode, so they could read the memories; 0o600 applies only to a new file).
 */
async function writeWhole(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(8).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o600, flag: "wx" });
    await rename(temporary, path);
  } catch (cause) {
    // A name already taken is someone else's file: left alone.
    if ((cause as NodeJS.ErrnoException).code !== "EEXIST") await rm(temporary, { force: true });
    throw new EngramError("INVALID_OPTIONS", `Cannot write ${path}: ${(cause as Error).message}`, { cause, details: { path } });
  }
}

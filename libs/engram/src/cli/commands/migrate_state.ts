import { resolve } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { COPIED_PARTS, copySqliteState, type CopiedPart } from "../../state/postgres/import_sqlite.js";
import type { CliIO } from "../io.js";
import { progressBar } from "../progress.js";

interface MigrateStateFlags {
  from: string;
  to: string;
  schema: string;
  batchSize: number;
}

/** What each part is called in the summary. */
const NOUNS: Record<CopiedPart, string> = {
  meta: "metadata entries",
  history: "history entries",
  outbox: "queued writes",
  jobs: "jobs",
  usage: "usage records",
  filed: "filed message keys",
  filings: "pending filings",
};

/** `migrate-state`: copies a data folder's SQLite state into PostgreSQL, for replicas. */
export function registerMigrateStateCommand(program: Command, io: CliIO): void {
  program
    .command("migrate-state")
    .description(
      "copy a data folder's state (history, queued writes, jobs, metadata, usage, the checkpointer's filing log) into PostgreSQL, " +
        "for replicas that share it (stop the apps using the folder first: a folder another process has open is refused; rerunning copies only what is not there yet)",
    )
    .requiredOption("--from <dir>", "the data folder (or its engram.sqlite file) to copy from")
    .requiredOption("--to <url>", "the PostgreSQL database to copy into: postgres://user:password@host:5432/db", parsePostgresUrl)
    .option("--schema <name>", "the schema holding Engram's tables", "engram")
    .option("--batch-size <n>", "rows copied per statement (1 to 10000)", parseBatchSize, 500)
    .action(async (flags: MigrateStateFlags) => {
      const progress = progressBar(io, process.stderr.isTTY === true, "migrate-state", "rows");
      try {
        const result = await copySqliteState({
          from: resolve(io.cwd, flags.from),
          to: { postgres: flags.to, schema: flags.schema },
          batchSize: flags.batchSize,
          onProgress: progress.update,
        });
        progress.end();
        const copied = COPIED_PARTS.filter((part) => result.copied[part] > 0).map((part) => `${result.copied[part]} ${NOUNS[part]}`);
        const skipped = COPIED_PARTS.reduce((sum, part) => sum + result.skipped[part], 0);
        io.out(
          `Copied ${copied.length === 0 ? "nothing" : copied.join(", ")} into schema "${flags.schema}"` +
            `${skipped > 0 ? `; ${skipped} rows were there already` : ""}.\n`,
        );
        for (const conflict of result.metaConflicts) {
          io.err(
            `warning: PostgreSQL already records ${conflict.key} = "${conflict.postgres}" (the folder has "${conflict.sqlite}"); ` +
              "kept PostgreSQL's. If this is the embedding model, the folder's vectors came from another model: see engram reembed.\n",
          );
        }
      } finally {
        progress.end();
      }
    });
}

/** Like memory_options' integerIn, kept here so this command loads no Memory. */
function parseBatchSize(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || parsed < 1 || parsed > 10_000) throw new InvalidArgumentError("must be a whole number from 1 to 10000.");
  return parsed;
}

function parsePostgresUrl(value: string): string {
  if (!/^postgres(ql)?:\/\//i.test(value)) throw new InvalidArgumentError("must be a postgres:// (or postgresql://) URL.");
  return value;
}

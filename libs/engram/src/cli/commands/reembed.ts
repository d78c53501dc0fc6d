import { resolve } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { reembed } from "../../memory/reembed.js";
import type { CliIO } from "../io.js";
import { addDataDirOption, integerIn } from "../memory_options.js";
import { CLI_MODELS } from "../models.js";
import { progressBar } from "../progress.js";

interface ReembedFlags {
  dataDir: string;
  chromaUrl?: string;
  prefix: string;
  model: string;
  batchSize: number;
}

/** `reembed`: moves a data folder to another embedding model, in place, resumably. */
export function registerReembedCommand(program: Command, io: CliIO): void {
  addDataDirOption(
    program
      .command("reembed")
      .description(
        "re-embed every memory of the data folder with another model and record it (stop the apps using the folder first; " +
          "after a crash, run it again: it resumes)",
      ),
  )
    .option("--chroma-url <url>", "the Chroma server holding the folder's records, when it is not the folder's local server")
    .option("--prefix <prefix>", "collection name prefix", "engram")
    .option("--model <name>", `the model to move to: ${Object.keys(CLI_MODELS).join(" (the default model) or ")}`, parseModel, "use-lite")
    .option("--batch-size <n>", "records embedded and written per step", integerIn(1, 5_000), 256)
    .action(async (flags: ReembedFlags) => {
      const embeddings = CLI_MODELS[flags.model]!.create();
      const progress = progressBar(io, process.stderr.isTTY === true, "reembed", "memories");
      try {
        const result = await reembed({
          dataDir: resolve(io.cwd, flags.dataDir),
          prefix: flags.prefix,
          ...(flags.chromaUrl === undefined ? {} : { chroma: { url: flags.chromaUrl } }),
          embeddings,
          batchSize: flags.batchSize,
          onProgress: progress.update,
        });
        progress.end();
        io.out(
          `Re-embedded ${result.reembedded} of ${result.total} memories in ${result.collections} collections ` +
            `${result.from === undefined ? "" : `from "${result.from}" `}to "${result.to}"` +
            `${result.queued > 0 ? `; ${result.queued} queued writes will be embedded when drained` : ""}.\n`,
        );
        if (result.store.collections > 0) {
          io.err(
            `note: the LangGraph store (EngramStore) of prefix "${flags.prefix}" was not moved: its ${result.store.collections} ` +
              `collections keep their vectors${result.store.model === undefined ? "" : ` of "${result.store.model}"`}, and it keeps ` +
              "working with that model. It stores each value, not the texts its index embedded, so reembed cannot redo them. " +
              "To move it, open an EngramStore with the new model under a new prefix and put every item again " +
              "(listNamespaces, then search each namespace); see docs/embeddings.md.\n",
          );
        }
      } finally {
        progress.end();
        await embeddings.close?.();
      }
    });
}

function parseModel(value: string): string {
  if (!(value in CLI_MODELS)) throw new InvalidArgumentError(`must be one of ${Object.keys(CLI_MODELS).join(", ")}.`);
  return value;
}

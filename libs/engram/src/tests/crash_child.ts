/**
 * An application process for the crash tests (memory/crash.int.test.ts): it writes through a real
 * `Memory` and prints one line per acknowledged call, until the test kills it with SIGKILL.
 *
 * Run with `node --import tsx crash_child.ts '<json>'`; the JSON is a {@link CrashChildConfig}.
 * Lines on stdout: `ack <i> <id>...` after `add` number i returned (the ids it acknowledged),
 * `extracting <i>...` when the scripted model starts an extraction (of those exchanges; for
 * the exchange named by `hangAt` it never answers).
 */
import { Memory } from "../memory/memory.js";
import { exchange, scriptedFactModel, type CrashChildConfig } from "./crash_script.js";

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "{}") as CrashChildConfig;
  const say = (line: string) => process.stdout.write(line + "\n");
  const model =
    config.mode === "facts"
      ? scriptedFactModel(async (exchanges) => {
          say(`extracting ${exchanges.join(" ")}`);
          if (config.hangAt !== undefined && exchanges.includes(config.hangAt)) await new Promise(() => undefined);
        })
      : undefined;
  const memory = new Memory({
    dataDir: config.dataDir,
    chroma: { url: config.chromaUrl },
    ...(model ? { model, facts: { debounceMs: 0 } } : {}),
  });
  for (let i = 0; i < config.count; i += 1) {
    const result = await memory.add(exchange(i), { userId: config.userId, threadId: `t${i % 3}` });
    say(`ack ${i} ${result.results.map((r) => r.id).join(" ")}`);
  }
  say("done");
  // Stay alive until killed: the test decides when the crash comes.
  setInterval(() => undefined, 1_000);
}

await main();

/**
 * A process with a data folder's SQLite state open, as a running app has it (cli/migrate_state.int
 * .test.ts): opens it, records a history entry, prints "open", records another on each line read
 * ("wrote" after each), and closes the state and exits when its stdin ends.
 * Run as `node --import tsx state_holder.ts <data folder>`.
 */
import { createInterface } from "node:readline";
import { SqliteState } from "../sqlite/index.js";

const state = new SqliteState({ path: process.argv[2]! });
let n = 0;
async function write(): Promise<void> {
  n += 1;
  await state.history.record([{ memoryId: `held-${n}`, userId: "carol", event: "ADD", oldContent: null, newContent: `note ${n}`, reason: "add" }]);
}

await state.setup();
await write();
process.stdout.write("open\n");
const lines = createInterface({ input: process.stdin });
lines.on("line", () => {
  write().then(
    () => process.stdout.write("wrote\n"),
    (error: unknown) => process.stdout.write(`failed ${error instanceof Error ? error.message : String(error)}\n`),
  );
});
lines.on("close", () => {
  void state.close().then(() => process.exit(0));
});

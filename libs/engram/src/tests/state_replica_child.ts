/**
 * A replica process for the PostgreSQL state's multi-process tests (state/postgres/replicas.int.test.ts).
 * Run with `node --import tsx state_replica_child.ts '<json>'`; the JSON is a {@link ReplicaChildConfig}.
 *
 * - `drain`: claims queued writes (a few at a time), "applies" each by inserting a row into the
 *   test's `applied` table (standing in for the vector store), then completes them; prints
 *   `claimed <seq>...` before applying and exits once the outbox is empty.
 * - `exclusive`: runs `rounds` exclusive sections of each user, each recording its start and end
 *   (on the server's clock) in the test's `sections` table; prints `inside <user>` on entering,
 *   and hangs inside section `hangAt` if given.
 * Prints `ready` once its state is set up.
 */
import pg from "pg";
import { setTimeout as sleep } from "node:timers/promises";
import { PostgresState } from "../state/postgres/index.js";

export interface ReplicaChildConfig {
  url: string;
  schema: string;
  owner: string;
  mode: "drain" | "exclusive";
  leaseMs?: number;
  users?: string[];
  rounds?: number;
  /** `exclusive`: the section (counted from 0) inside which this replica hangs until it is killed. */
  hangAt?: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "{}") as ReplicaChildConfig;
  const say = (line: string) => process.stdout.write(line + "\n");
  const state = new PostgresState({ postgres: config.url, schema: config.schema });
  const test = new pg.Client({ connectionString: config.url });
  await test.connect();
  await state.setup();
  say("ready");
  try {
    if (config.mode === "drain") {
      const outbox = state.outbox<{ n: number }>();
      for (;;) {
        const writes = await outbox.claim(config.owner, config.leaseMs ?? 1_500, { limit: 3 });
        if (writes.length === 0) {
          if ((await outbox.size()) === 0) break;
          await sleep(20);
          continue;
        }
        say(`claimed ${writes.map((write) => write.seq).join(" ")}`);
        for (const write of writes) {
          await test.query("INSERT INTO applied (seq, user_id, owner) VALUES ($1, $2, $3)", [write.seq, write.userId, config.owner]);
          await sleep(2);
        }
        await outbox.complete(writes.map((write) => write.seq));
      }
    } else {
      let section = 0;
      for (let round = 0; round < (config.rounds ?? 5); round += 1) {
        for (const user of config.users ?? ["alice"]) {
          await state.leases.exclusive(user, "facts", async () => {
            const { rows } = await test.query<{ id: string }>(
              "INSERT INTO sections (user_id, owner, started) VALUES ($1, $2, clock_timestamp()) RETURNING id",
              [user, config.owner],
            );
            say(`inside ${user}`);
            if (section++ === config.hangAt) await new Promise(() => undefined);
            await sleep(15);
            await test.query("UPDATE sections SET ended = clock_timestamp() WHERE id = $1", [rows[0]!.id]);
          });
        }
      }
    }
    say("done");
  } finally {
    await test.end();
    await state.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

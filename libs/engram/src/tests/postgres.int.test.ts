import { describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import pg from "pg";
import { freshDatabase, startPostgres } from "./postgres.js";

describe("startPostgres (the test harness)", () => {
  it("starts a private cluster, gives each caller a fresh database, and removes everything on stop", async () => {
    const postgres = await startPostgres();
    const folder = new URL(postgres.url);
    let dataDir = "";
    try {
      const a = await freshDatabase(postgres.url);
      const b = await freshDatabase(postgres.url);
      expect(a).not.toBe(b);
      const client = new pg.Client({ connectionString: a });
      await client.connect();
      try {
        await client.query("CREATE TABLE t (x int)");
        const { rows } = await client.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
        dataDir = rows[0]!.dir;
      } finally {
        await client.end();
      }
      const other = new pg.Client({ connectionString: b });
      await other.connect();
      try {
        const { rows } = await other.query("SELECT 1 FROM information_schema.tables WHERE table_name = 't'");
        expect(rows).toHaveLength(0);
      } finally {
        await other.end();
      }
      expect(folder.hostname).toBe("127.0.0.1");
      expect(existsSync(dataDir)).toBe(true);
    } finally {
      await postgres.stop();
    }
    expect(existsSync(dataDir)).toBe(false);
    await postgres.stop();
    const client = new pg.Client({ connectionString: postgres.url, connectionTimeoutMillis: 2000 });
    await expect(client.connect()).rejects.toThrow();
  });
});

import { execFile } from "node:child_process";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A private PostgreSQL cluster for one suite: started in a temporary folder, stopped after. */
export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth, loopback only). */
  url: string;
  stop(): Promise<void>;
}

/** Where Debian's PostgreSQL keeps its binaries (the newest installed major version). */
async function binDir(): Promise<string> {
  const { stdout } = await run("sh", ["-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1"]);
  const dir = stdout.trim();
  // A missing server fails the suite: integration tests are never skipped.
  if (dir === "") throw new Error("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin).");
  return dir;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * initdb refuses to run as root: as root, the cluster is made and run by the `postgres` user
 * (`su`), in a folder it owns; as anyone else, by the current user.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = await binDir();
  const dir = await mkdtemp(join(tmpdir(), "engram-pg-"));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const shell = async (command: string) => (asRoot ? run("su", ["postgres", "-s", "/bin/sh", "-c", command]) : run("sh", ["-c", command]));
  const port = await freePort();
  const data = join(dir, "data");
  await shell(`${bin}/initdb -D ${data} -A trust -U postgres >/dev/null`);
  await shell(`${bin}/pg_ctl -D ${data} -o "-p ${port} -k ${dir} -c listen_addresses=127.0.0.1" -l ${join(dir, "log")} -w start >/dev/null`);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await shell(`${bin}/pg_ctl -D ${data} stop -m fast >/dev/null`);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

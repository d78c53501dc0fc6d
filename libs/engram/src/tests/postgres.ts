import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

/** A private PostgreSQL cluster for one suite: started in a temporary folder, stopped after. */
export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth, loopback only). */
  url: string;
  /** Stops the server and removes its folder; safe to call twice. */
  stop(): Promise<void>;
  /** Restarts the server (a fast shutdown: every session ends), on the same port and data. */
  restart(): Promise<void>;
}

/** Where Debian's PostgreSQL keeps its binaries (the newest installed major version). */
async function binDir(): Promise<string> {
  const { stdout } = await run("sh", ["-c", "ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1"]);
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

function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Stops the cluster if this process dies without calling `stop()` (a crashed or killed Jest
 * worker): a detached shell polls our pid and, once it is gone, stops the server and removes the
 * folder. It runs as the current user so that it may probe our pid (root's, when run as root).
 */
function watchdog(pid: number, stopCommand: string, dir: string): () => void {
  const script = `while kill -0 ${pid} 2>/dev/null; do sleep 1; done; ${stopCommand} >/dev/null 2>&1; rm -rf ${quote(dir)}`;
  const child = spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });
  child.unref();
  return () => {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // Already gone: nothing to stop.
      }
    }
  };
}

/**
 * Starts a private PostgreSQL cluster in a temporary folder: `initdb`, then `pg_ctl start` on a
 * free port, listening on 127.0.0.1 with its unix socket in the folder. initdb refuses to run as
 * root: as root, the cluster is made and run by the `postgres` user (`su`), in a folder it owns;
 * as anyone else, by the current user. Durability is off (fsync, synchronous_commit): a test
 * cluster is thrown away, and this keeps start-up near a second on a busy machine. The cluster is
 * removed by `stop()`, when start-up fails half-way, and by a watchdog if this process dies.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = await binDir();
  const dir = await mkdtemp(join(tmpdir(), "engram-pg-"));
  const asRoot = process.getuid?.() === 0;
  const data = join(dir, "data");
  const wrap = (command: string) => (asRoot ? `su postgres -s /bin/sh -c ${quote(command)}` : command);
  const shell = (command: string) => run("sh", ["-c", wrap(command)]);
  const stopCommand = wrap(`${bin}/pg_ctl -D ${quote(data)} stop -m fast`);
  let cancelWatchdog = () => {};
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    cancelWatchdog();
    try {
      await shell(`test -f ${quote(join(data, "postmaster.pid"))} && ${bin}/pg_ctl -D ${quote(data)} stop -m fast >/dev/null || true`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  try {
    if (asRoot) {
      const { stdout: uid } = await run("id", ["-u", "postgres"]);
      const { stdout: gid } = await run("id", ["-g", "postgres"]);
      await chown(dir, Number(uid.trim()), Number(gid.trim()));
    }
    cancelWatchdog = watchdog(process.pid, stopCommand, dir);
    await shell(`${bin}/initdb -D ${quote(data)} -A trust -U postgres -N >/dev/null`);
    // The free port is only free when asked: another suite's server (this machine runs two Jest
    // workers and other processes) can take it before PostgreSQL binds it, and the start then
    // fails. Try again on a new port. pg_ctl waits 60 s by default; a loaded machine gets 300 s.
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
      try {
        await shell(`${bin}/pg_ctl -D ${quote(data)} -o "${settings}" -l ${quote(join(dir, "log"))} -w -t 300 start >/dev/null`);
        const restart = async () => {
          await shell(`${bin}/pg_ctl -D ${quote(data)} -m fast -w -t 300 -l ${quote(join(dir, "log"))} restart >/dev/null 2>&1`);
        };
        return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop, restart };
      } catch (error) {
        if (attempt >= 3) throw error;
        // A half-started server (it may have bound the socket and then failed) is stopped first.
        await shell(`${bin}/pg_ctl -D ${quote(data)} stop -m immediate >/dev/null 2>&1 || true`);
      }
    }
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

/** The name the older suites import; same cluster as {@link startPostgres}. */
export const startTestPostgres = startPostgres;

/**
 * Creates an empty database on the cluster of `url` and returns its url, so each test file (or
 * test) starts from nothing without a cluster of its own.
 */
export async function freshDatabase(url: string, prefix = "engram_test"): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const next = new URL(url);
  next.pathname = `/${name}`;
  return next.toString();
}

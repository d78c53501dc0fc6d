import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { isEngramError } from "../core/errors.js";

const run = promisify(execFile);

/** Stops and starts again the PostgreSQL cluster of a test (tests/postgres.ts): an outage of a while. */
export interface PostgresOutage {
  /** Stops the server (a fast shutdown: every session ends); connections are refused until `up()`. */
  down(): Promise<void>;
  /** Starts it again on the same port, settings and data. */
  up(): Promise<void>;
  /**
   * Stops the server's processes (SIGSTOP) without ending anything: connections stay open and
   * new ones are accepted by the kernel, but nothing answers (a frozen machine, a failover that
   * leaves clients talking to a host that is gone).
   */
  freeze(): Promise<void>;
  /** Lets the frozen processes run again (SIGCONT). */
  thaw(): Promise<void>;
}

function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The outage switch of the cluster serving `url`, a cluster started by `startPostgres()`. It asks
 * the server where its data is and reads the command line it was started with
 * (`postmaster.opts`), so that `up()` starts it exactly as before: tests/postgres.ts's `restart()`
 * restarts at once, this keeps the server down for as long as a test needs.
 */
export async function postgresOutage(url: string): Promise<PostgresOutage> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let data: string;
  try {
    data = (await client.query<{ data_directory: string }>("SHOW data_directory")).rows[0]!.data_directory;
  } finally {
    await client.end();
  }
  const opts = (await readFile(join(data, "postmaster.opts"), "utf8")).trim();
  // `<bin>/postgres "-D" "<data>" "-p" "<port>" ...`: the binary's folder and its arguments.
  const [binary, ...args] = [...opts.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!);
  const bin = dirname(binary!);
  const settings = args.map((arg) => (/^[\w=./:-]+$/.test(arg) ? arg : `"${arg}"`)).join(" ");
  const asRoot = process.getuid?.() === 0;
  const shell = (command: string) => run("sh", ["-c", asRoot ? `su postgres -s /bin/sh -c ${quote(command)}` : command]);
  const log = join(dirname(data), "log");
  // The postmaster (first line of its pid file) and its children: backends, checkpointer, ...
  const processes = async (): Promise<string[]> => {
    const postmaster = (await readFile(join(data, "postmaster.pid"), "utf8")).split("\n")[0]!.trim();
    const { stdout } = await run("ps", ["-o", "pid=", "--ppid", postmaster]);
    return [postmaster, ...stdout.split(/\s+/).filter((pid) => /^\d+$/.test(pid))];
  };
  // Each process on its own: one may end between the listing and its signal (a backend whose
  // client went away, continued before its turn), which is no failure of the freeze or thaw.
  const signal = async (name: "STOP" | "CONT") => {
    for (const pid of await processes()) await run("kill", [`-${name}`, pid]).catch(() => undefined);
  };
  return {
    down: async () => {
      await shell(`${bin}/pg_ctl -D ${quote(data)} -m fast -w -t 300 stop >/dev/null 2>&1`);
    },
    freeze: () => signal("STOP"),
    thaw: () => signal("CONT"),
    up: async () => {
      await shell(`${bin}/pg_ctl -D ${quote(data)} -o ${quote(settings)} -l ${quote(log)} -w -t 300 start >/dev/null 2>&1`);
    },
  };
}

/** How a call ended, or "waiting" if it had not after `ms` (a call that waits for ever, as before). */
export async function outcome(call: Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("waiting"), ms)));
  const ended = call.then(
    () => "done",
    (error: unknown) => (isEngramError(error) ? error.code : `not an EngramError: ${String(error)}`),
  );
  try {
    return await Promise.race([ended, waited]);
  } finally {
    clearTimeout(timer);
  }
}

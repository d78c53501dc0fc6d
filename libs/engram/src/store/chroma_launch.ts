import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EngramError } from "../core/errors.js";
import { FULL_DISK_BYTES, fullDiskNote } from "../core/full_disk.js";
import { chromaBindingPath } from "./chroma_binding.js";
import { heartbeat, SERVER_STATE_FILE, sleep, startedAt, type ServerState } from "./chroma_probe.js";
import { SUPERVISOR_SOURCE } from "./chroma_supervisor.js";

/*
 * One Chroma process: spawn it under its supervisor, wait for its first heartbeat, keep the last
 * of its output, stop it. Whether to start one again is chroma_restart.ts's job; handing servers
 * out to callers is chroma_server.ts's.
 */

/** Why a server's native bindings cannot load on an older Linux, and the way out. */
const GLIBC_HINT =
  "Its native bindings need a newer glibc than this system has. Engram pins bindings that run on glibc 2.34 and up " +
  "for Linux x64 (chromadb-js-bindings-linux-x64-gnu@1.0.5): check that your package manager installed that version " +
  "(optional dependencies must not be omitted), or run a Chroma server elsewhere and pass its url (chromaUrl).";

/** How much of a server's output is kept for error messages. */
export const STDERR_LIMIT = 8_192;

/**
 * Spawns a supervised server and waits for its heartbeat; records it in the folder's state file.
 * `spawned` is told the supervisor's pid first (the start lock records it: start_lock.ts).
 */
export async function launch(
  path: string,
  host: string,
  port: number,
  stopTimeoutMs: number,
  startTimeoutMs: number,
  spawned?: (pid: number | undefined) => Promise<void>,
): Promise<Launched> {
  const binding = chromaBindingPath();
  const args = ["run", "--path", path, "--host", host, "--port", String(port)];
  const child = spawn(
    process.execPath,
    ["-e", SUPERVISOR_SOURCE, binding, String(stopTimeoutMs), ...args],
    // fd 3: the supervisor tells Chroma's pid there.
    { stdio: ["pipe", "pipe", "pipe", "pipe"], env: { ...process.env, CHROMA_TELEMETRY: "false" } },
  );
  const chroma = chromaPidOf(child);
  const output = captureOutput(child);
  outputs.set(child, output);
  const exited = new Promise<number | string>((done) =>
    child.once("exit", (code, signal) => done(signal ?? code ?? "unknown")),
  );
  const deadline = Date.now() + startTimeoutMs;
  let ready = false;
  let exitedWith: number | string | undefined;
  void exited.then((value) => {
    exitedWith = value;
  });
  // After the exit listener: an exit during this wait is still seen.
  await spawned?.(child.pid);
  while (Date.now() < deadline && exitedWith === undefined) {
    if (await heartbeat(host, port)) {
      ready = true;
      break;
    }
    await Promise.race([sleep(50), exited]);
  }
  if (!ready) {
    const stderr = output();
    if (exitedWith !== undefined) {
      throw new EngramError(
        "CHROMA_EXITED",
        `The Chroma server exited during start (${exitedWith}) for data folder ${path} on ${host}:${port}.` +
          (/GLIBC_[\d.]+' not found/.test(stderr) ? ` ${GLIBC_HINT} (loaded: ${binding})` : "") +
          fullDiskHint(path) +
          (stderr ? `\nServer output:\n${stderr}` : ""),
        { details: { path, host, port, exit: exitedWith, stderr } },
      );
    }
    await stopChild(child, stopTimeoutMs);
    throw new EngramError(
      "CHROMA_START_TIMEOUT",
      `The Chroma server for ${path} did not answer its heartbeat on ${host}:${port} within ` +
        `${startTimeoutMs} ms.` + (stderr ? `\nServer output:\n${stderr}` : ""),
      { details: { path, host, port, stderr } },
    );
  }
  // Let the application exit without waiting on the server: when it does, the supervisor sees
  // its stdin close and stops Chroma. (No `process.on("exit")` hook: a library leaves no
  // listener on the host process, and the closing pipe is enough.)
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
  const state: ServerState = { pid: child.pid ?? -1, host, port, path };
  const chromaPid = await Promise.race([chroma, sleep(1_000).then(() => undefined)]);
  (child.stdio[3] as { destroy?: () => void } | null)?.destroy?.();
  const since = await startedAt(state.pid);
  if (since !== undefined) state.since = since;
  if (chromaPid !== undefined) {
    state.chroma = chromaPid;
    const chromaSince = await startedAt(chromaPid);
    if (chromaSince !== undefined) state.chromaSince = chromaSince;
  }
  await writeFile(join(path, SERVER_STATE_FILE), JSON.stringify(state));
  return { child, state };
}

/** A started server: its supervisor, and what the folder's state file records of it. */
export interface Launched {
  child: ChildProcess;
  state: ServerState;
}

/** The pid the supervisor writes on fd 3 (written at once, long before the first heartbeat). */
function chromaPidOf(child: ChildProcess): Promise<number | undefined> {
  return new Promise((done) => {
    const stream = child.stdio[3] as NodeJS.ReadableStream | null | undefined;
    if (!stream) return done(undefined);
    let text = "";
    stream.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const pid = Number(text.split("\n")[0]);
      if (text.includes("\n")) done(Number.isInteger(pid) && pid > 0 ? pid : undefined);
    });
    stream.on("error", () => done(undefined));
    stream.on("end", () => done(undefined));
  });
}

/** The recent output of each supervisor this process spawned. */
export const outputs = new WeakMap<ChildProcess, () => string>();

export function childExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Stops a supervisor (and so its Chroma): SIGINT, then SIGKILL after the timeout. */
export async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (childExited(child)) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 1_000);
  await exited;
  clearTimeout(timer);
}

function captureOutput(child: ChildProcess): () => string {
  let text = "";
  const append = (chunk: Buffer) => {
    text = (text + chunk.toString("utf8")).slice(-STDERR_LIMIT);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  return () => plainText(text);
}

/** A server's output without terminal escapes (Chroma colours its banner), trimmed. */
export function plainText(output: string): string {
  return output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").trim();
}

/**
 * A sentence for an error when the disk holding `path` is (nearly) full, else "": Chroma exits
 * during start on a full disk with only its banner as output, which does not say why.
 */
export function fullDiskHint(path: string, below = FULL_DISK_BYTES): string {
  const note = fullDiskNote(path, below);
  return note ? `${note.slice(0, -1)}: free some space, then open the Memory again.` : "";
}

/**
 * The Chroma server's process: what chromadb's own CLI (`chromadb/dist/cli.mjs`) does, with the
 * bindings Engram chose (chroma_binding.ts) instead of those chromadb's CLI would find. The native
 * `cli` call runs the server on this thread until the process ends. argv: <bindings file> <args...>
 */
const LAUNCHER_SOURCE = String.raw`
const [binding, ...args] = process.argv.slice(1);
process.on("SIGINT", () => process.exit(0));
require(binding).cli(["chroma", ...args]);
`;

/**
 * The source of a tiny Node process that sits between Engram and the Chroma server.
 *
 * Why: the Chroma CLI runs the native server on its own JS thread, so nothing inside it can notice
 * that the process which started it has died; a directly spawned server outlives a killed parent.
 * The supervisor stops Chroma (SIGINT, then SIGKILL after a timeout) when its stdin closes (the
 * parent died or let go), when its parent changes, or when it is itself signalled.
 *
 * It tells its parent Chroma's own pid on fd 3 (the folder's state file records it: a Chroma that
 * outlives a killed supervisor still serves the folder, and must not read as gone).
 *
 * It is plain CommonJS run with `node -e`, so it works the same from `src/` under a test runner and
 * from the compiled `dist/`. argv: <bindings file> <stop timeout ms> <chroma args...>
 */
export const SUPERVISOR_SOURCE = String.raw`
const { spawn } = require("node:child_process");
const [binding, stopTimeout, ...args] = process.argv.slice(1);
const parent = process.ppid;
const child = spawn(process.execPath, ["-e", ${JSON.stringify(LAUNCHER_SOURCE)}, binding, ...args], { stdio: ["ignore", "inherit", "inherit"] });
try { require("node:fs").writeSync(3, String(child.pid) + "\n"); } catch {}
let stopping = false;
const exited = () => child.exitCode !== null || child.signalCode !== null;
function stop() {
  if (stopping) return;
  stopping = true;
  if (exited()) process.exit(0);
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), Number(stopTimeout));
  child.once("exit", () => { clearTimeout(timer); process.exit(0); });
}
child.on("exit", (code, signal) => {
  if (!stopping) {
    process.stderr.write("[engram] chroma exited (" + (signal || code) + ")\n");
    process.exit(code === null ? 1 : code || 1);
  }
});
child.on("error", (error) => { process.stderr.write(String(error) + "\n"); process.exit(1); });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, stop);
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.on("close", stop);
process.stdin.resume();
setInterval(() => { if (process.ppid !== parent) stop(); }, 250);
`;

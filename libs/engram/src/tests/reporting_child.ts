import { spawn } from "node:child_process";

/** How a child started by {@link runReportingChild} ended, and the report it printed last. */
export interface ChildOutcome<R> {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The child's last line of standard output as JSON; undefined when it printed none or not JSON. */
  report?: R;
  err: string;
}

/**
 * Runs `script` in a real Node process (through tsx, with none of Jest's flags), `config` as its one
 * argument, the way a user's script runs; resolves once it has exited by itself.
 */
export function runReportingChild<R>(script: string, config: unknown): Promise<ChildOutcome<R>> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ["--import", "tsx", script, JSON.stringify(config)], {
      env: { ...process.env, NODE_OPTIONS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    proc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    proc.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    proc.on("close", (code, signal) => {
      let report: R | undefined;
      try {
        report = JSON.parse(out.trim().split("\n").pop() ?? "") as R;
      } catch {
        report = undefined;
      }
      resolve({ code, signal, report, err });
    });
  });
}

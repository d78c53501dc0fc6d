/**
 * Where the CLI writes and what it waits on. The real process streams and signals by default; a
 * test passes its own, so commands run in process with their output captured.
 */
export interface CliIO {
  /** Results (what a script reads). @default process.stdout */
  out(text: string): void;
  /** Errors and usage messages. @default process.stderr */
  err(text: string): void;
  /** Folder that relative paths (`--data-dir`, files) resolve against. @default process.cwd() */
  cwd: string;
  /**
   * Resolves, with the signal's name, when a foreground command (`server start`) should stop; with
   * "cancelled" once `cancel` aborts, for a command that ends on its own too (`mcp` when its
   * client closes the pipe): the wait then leaves nothing behind that would keep the process alive.
   * @default the first SIGINT or SIGTERM the process receives
   */
  untilStopped(cancel?: AbortSignal): Promise<string>;
}

/** What a caller may override; everything left out comes from the process. */
export type CliOptions = Partial<CliIO>;

export function resolveIO(options: CliOptions = {}): CliIO {
  return {
    out: options.out ?? ((text) => void process.stdout.write(text)),
    err: options.err ?? ((text) => void process.stderr.write(text)),
    cwd: options.cwd ?? process.cwd(),
    untilStopped: options.untilStopped ?? untilSignal,
  };
}

/**
 * Waits for SIGINT or SIGTERM, or for `cancel`. Signal listeners do not keep Node's event loop
 * alive, and the local server's child process is unref'd on purpose, so a timer holds the process
 * open meanwhile: every way out clears it (a wait left behind kept `engram mcp` running for ever
 * after its client had gone).
 */
function untilSignal(cancel?: AbortSignal): Promise<string> {
  return new Promise((done) => {
    if (cancel?.aborted) return done("cancelled");
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const finish = (reason: string) => {
      clearInterval(keepAlive);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      cancel?.removeEventListener("abort", cancelled);
      done(reason);
    };
    const stop = (signal: NodeJS.Signals) => finish(signal);
    const cancelled = () => finish("cancelled");
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    cancel?.addEventListener("abort", cancelled, { once: true });
  });
}

/** Thrown by a command that has said what it had to and ends with this exit code. */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = "CliExit";
  }
}

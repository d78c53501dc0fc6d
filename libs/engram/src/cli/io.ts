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
   * Resolves, with the signal's name, when a foreground command (`server start`) should stop.
   * @default the first SIGINT or SIGTERM the process receives
   */
  untilStopped(): Promise<string>;
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
 * Waits for SIGINT or SIGTERM. Signal listeners do not keep Node's event loop alive, and the
 * local server's child process is unref'd on purpose, so a timer holds the process open meanwhile.
 */
function untilSignal(): Promise<string> {
  return new Promise((done) => {
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const stop = (signal: NodeJS.Signals) => {
      clearInterval(keepAlive);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** Thrown by a command that has said what it had to and ends with this exit code. */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = "CliExit";
  }
}

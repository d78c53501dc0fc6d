/** Progress bars on stderr (cli-progress). When stderr is not a terminal, a line every few seconds. */
import cliProgress from "cli-progress";

export interface Progress {
  increment(by?: number): void;
  stop(): void;
}

export function progressBar(label: string, total: number): Progress {
  const tty = Boolean(process.stderr.isTTY);
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label.padEnd(34)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} | ETA {eta_formatted}`,
      barsize: 24,
      fps: 5, // rendering runs on the benchmark's event loop: keep it rare
      hideCursor: tty,
      noTTYOutput: !tty,
      notTTYSchedule: 10_000,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    increment: (by = 1) => bar.increment(by),
    stop: () => bar.stop(),
  };
}

/** A plain status line on stderr. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

import type { CliIO } from "./io.js";

/** Work done of a total, as a long command reports it. */
export interface Progress {
  done: number;
  total: number;
}

/** A progress display: `update` as work is done, `end` once (safe to call again). */
export interface ProgressBar {
  update(progress: Progress): void;
  end(): void;
}

/**
 * Progress on standard error: a bar redrawn in place on a terminal, plain lines otherwise (a log
 * file or a pipe gets one line per tenth of the work, and the last). `label` starts the line and
 * `unit` names what is counted (`reembed 40% 400/1000 memories 120/s`).
 */
export function progressBar(io: CliIO, tty: boolean, label: string, unit: string): ProgressBar {
  const started = Date.now();
  let lastDraw = 0;
  let lastTenth = -1;
  let drawn = false;
  let last: Progress | undefined;
  const line = ({ done, total }: Progress): string => {
    const fraction = total === 0 ? 1 : done / total;
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? `${(done / seconds).toFixed(0)}/s` : "";
    return `${label} ${(fraction * 100).toFixed(0).padStart(3)}% ${done}/${total} ${unit} ${rate}`.trimEnd();
  };
  return {
    update(progress) {
      last = progress;
      const now = Date.now();
      if (tty) {
        if (now - lastDraw < 100 && progress.done < progress.total) return;
        lastDraw = now;
        const width = 30;
        const filled = progress.total === 0 ? width : Math.round((progress.done / progress.total) * width);
        io.err(`\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${line(progress)}`);
        drawn = true;
        return;
      }
      const tenth = progress.total === 0 ? 10 : Math.floor((progress.done / progress.total) * 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      io.err(`${line(progress)}\n`);
    },
    end() {
      if (tty && drawn) io.err("\n");
      drawn = false;
      if (!tty && last && lastTenth < 10 && last.done >= last.total) io.err(`${line(last)}\n`);
      last = undefined;
    },
  };
}

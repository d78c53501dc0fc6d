/**
 * The bin's standard output and error. A reader that goes away before the end (`engram export |
 * head`) makes the next write fail with EPIPE, which a process stream emits as an 'error' event:
 * with no listener, Node ends the process with a stack trace. Here the closed pipe only ends the
 * output; the command still closes what it opened, and the bin exits with {@link EXIT_PIPE_CLOSED}.
 */
export interface PipeOut {
  write(text: string): void;
  /** True once the reader has gone: nothing more is written. */
  readonly closed: boolean;
}

/** What a shell reports for a program stopped by SIGPIPE (128 + 13): the output was cut short. */
export const EXIT_PIPE_CLOSED = 141;

/**
 * Writes to `stream` until its reader goes away, then calls `onClosed` (a write is asynchronous:
 * the EPIPE may come after the command has returned). Used by the bin only, on the process's own streams.
 */
export function pipeOut(stream: NodeJS.WritableStream, onClosed: () => void = () => undefined): PipeOut {
  let closed = false;
  stream.on("error", (error: NodeJS.ErrnoException) => {
    // Any other failure of the stream (a full disk under `> file`) is as fatal as before.
    if (error.code !== "EPIPE") throw error;
    closed = true;
    onClosed();
  });
  return {
    write(text) {
      if (!closed) stream.write(text);
    },
    get closed() {
      return closed;
    },
  };
}

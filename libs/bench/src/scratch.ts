import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startChromaServer, type ChromaServer } from "engram";
import { log } from "./progress.js";

/**
 * A benchmark's temporary folder and the Chroma server it runs in it (one at a time). `close()`
 * stops the server and removes the folder; SIGINT and SIGTERM do the same, then exit, so an
 * interrupted run leaves neither a server nor a folder behind.
 */
export class Scratch {
  private server: ChromaServer | undefined;
  private onSignal: ((signal: NodeJS.Signals) => void) | undefined;

  private constructor(readonly dir: string) {}

  /** `onInterrupt` runs first on a signal (e.g. to mark the errors that follow as expected). */
  static async open(prefix: string, onInterrupt?: () => void): Promise<Scratch> {
    const scratch = new Scratch(await mkdtemp(join(tmpdir(), prefix)));
    const onSignal = (signal: NodeJS.Signals) => {
      onInterrupt?.();
      log(`\n${signal}: stopping the Chroma server`);
      void scratch.close().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    scratch.onSignal = onSignal;
    return scratch;
  }

  /** Starts a Chroma server on `<dir>/<name>`. */
  async startServer(name = "chroma"): Promise<ChromaServer> {
    this.server = await startChromaServer({ path: join(this.dir, name) });
    return this.server;
  }

  /** Stops the server and removes its data folder `<dir>/<name>`. */
  async stopServer(name = "chroma"): Promise<void> {
    await this.stopCurrent();
    await rm(join(this.dir, name), { recursive: true, force: true });
  }

  /** Stops the server, removes the folder and the signal handlers. */
  async close(): Promise<void> {
    if (this.onSignal) {
      process.off("SIGINT", this.onSignal);
      process.off("SIGTERM", this.onSignal);
      this.onSignal = undefined;
    }
    await this.stopCurrent();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async stopCurrent(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop();
  }
}

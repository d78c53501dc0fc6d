import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runCli } from "../cli/program.js";
import { startTestChroma, tempDir, type TestChroma } from "../tests/chroma.js";
import { TOKEN_HEADER } from "./security.js";

const BIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const URL_LINE = /(http:\/\/127\.0\.0\.1:(\d+))\/\?token=([A-Za-z0-9_-]+)/;

let chroma: TestChroma;
let dir: string;

beforeAll(async () => {
  chroma = await startTestChroma();
  dir = await tempDir("engram-ui-cli-");
});

afterAll(async () => {
  await chroma?.stop();
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("engram ui (the CLI command)", () => {
  it("prints its URL with a token once, serves with it only, and stops on the signal", async () => {
    let out = "";
    let err = "";
    let stop!: (signal: string) => void;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    const exit = runCli(["ui", "--data-dir", "data", "--chroma-url", chroma.server.url], {
      out: (text) => void (out += text),
      err: (text) => void (err += text),
      cwd: dir,
      untilStopped: () => stopped,
    });
    await until(() => URL_LINE.test(out));
    const [, origin, port, token] = URL_LINE.exec(out)!;
    expect(out).toContain("(read-only)");
    const users = await fetch(`${origin}/api/users`, { headers: { [TOKEN_HEADER]: token! } });
    expect(users.status).toBe(200);
    expect(await users.json()).toEqual({ users: [] });
    expect((await fetch(`${origin}/api/users`)).status).toBe(401);
    stop("SIGINT");
    expect(await exit).toBe(0);
    expect(out.endsWith("Stopped (SIGINT).\n")).toBe(true);
    // The token is printed once, in the URL, and nowhere else.
    expect(out.split(token!).length - 1).toBe(1);
    expect(err).toBe("");
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it("refuses bad flags before listening", async () => {
    const silent = { out: () => undefined, err: () => undefined, cwd: dir, untilStopped: () => new Promise<string>(() => undefined) };
    expect(await runCli(["ui", "--port", "70000"], silent)).toBe(2);
    let err = "";
    expect(await runCli(["ui", "--chroma-url", "not a url", "--data-dir", "data"], { ...silent, err: (text) => void (err += text) })).toBe(1);
    expect(err).toContain("INVALID_OPTIONS");
  });

  it("the built bin stops cleanly on Ctrl+C (SIGINT)", async () => {
    expect(existsSync(BIN) ? "built" : `missing ${BIN}: run the build first`).toBe("built");
    const child = spawn(process.execPath, [BIN, "ui", "--data-dir", "data", "--chroma-url", chroma.server.url], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await until(() => URL_LINE.test(out) || child.exitCode !== null);
      const [, origin, , token] = URL_LINE.exec(out)!;
      expect((await fetch(`${origin}/`, { headers: { [TOKEN_HEADER]: token! } })).status).toBe(200);
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(out).toMatch(/Stopped \(SIGINT\)\.\n$/);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

import { afterAll, beforeAll } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A temporary folder for one suite: made before its tests, removed with everything in it after
 * them. Read `path` from a hook or a test.
 */
export function suiteTempDir(prefix: string): { readonly path: string } {
  let path: string | undefined;
  beforeAll(async () => {
    path = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (path !== undefined) await rm(path, { recursive: true, force: true });
  });
  return {
    get path() {
      if (path === undefined) throw new Error("suiteTempDir(): the folder is made in beforeAll; read it from a hook or a test.");
      return path;
    },
  };
}

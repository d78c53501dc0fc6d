#!/usr/bin/env node
// One-time set-up shared by `npm run main` and `npm test`: install the workspace with the pinned
// Yarn, then build the library (the examples import its compiled output).
import { yarn } from "./yarn.mjs";

// The install goes over the network (corepack fetches Yarn, Yarn the packages): a transient failure
// there is retried twice, after a pause, rather than failing the whole CI run. The build is not.
for (const [args, attempts] of [[["install", "--immutable"], 3], [["workspace", "engram", "run", "build"], 1]]) {
  let status = 1;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    status = yarn(args);
    if (status === 0) break;
    if (attempt < attempts) {
      console.error(`yarn ${args.join(" ")} failed (exit ${status}); retrying in 15 s (${attempt}/${attempts - 1}).`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 15_000);
    }
  }
  if (status !== 0) process.exit(status);
}

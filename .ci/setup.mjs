#!/usr/bin/env node
// One-time set-up shared by `npm run main` and `npm test`: install the workspace with the pinned
// Yarn, then build the library (the examples import its compiled output).
import { yarn } from "./yarn.mjs";

for (const args of [["install", "--immutable"], ["workspace", "engram", "run", "build"]]) {
  const status = yarn(args);
  if (status !== 0) process.exit(status);
}

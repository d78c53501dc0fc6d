#!/usr/bin/env node
/**
 * The `engram` bin (package.json `bin`). Only runs the program: it is built by `buildProgram` in
 * program.ts, which tests import without running anything.
 */
import { runCli } from "./program.js";

// An exit code rather than process.exit(): output piped to another program is flushed first, and
// the process ends on its own once the command has closed everything it opened.
process.exitCode = await runCli(process.argv.slice(2));

#!/usr/bin/env node
/**
 * The `engram` bin (package.json `bin`). Only runs the program: it is built by `buildProgram` in
 * program.ts, which tests import without running anything.
 */
import { EXIT_PIPE_CLOSED, pipeOut } from "./pipe_out.js";
import { runCli } from "./program.js";

// The process's own streams, so that a reader gone away (`engram export | head`) ends the output
// instead of ending the process with a stack trace (an 'error' event no one listened to).
const out = pipeOut(process.stdout, () => void (process.exitCode = EXIT_PIPE_CLOSED));
const err = pipeOut(process.stderr);
// An exit code rather than process.exit(): output piped to another program is flushed first, and
// the process ends on its own once the command has closed everything it opened.
const code = await runCli(process.argv.slice(2), { out: (text) => out.write(text), err: (text) => err.write(text) });
process.exitCode = out.closed ? EXIT_PIPE_CLOSED : code;

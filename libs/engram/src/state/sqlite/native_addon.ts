/**
 * better-sqlite3 is a native addon: its install script fetches or compiles the binary. A package
 * manager that skips dependencies' install scripts (npm with `ignore-scripts`, or for a package
 * its `allowScripts` does not approve; pnpm 10 for one not in `onlyBuiltDependencies`) installs it
 * without one, and the first open then fails with a list of a dozen paths and nothing about why.
 * This says why, and what to run.
 */
export function missingAddonSentence(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (message.includes("Could not locate the bindings file")) {
    return (
      " better-sqlite3's native module was never built: its install script did not run (npm runs a dependency's" +
      " install script once it is approved: `npm install-scripts approve better-sqlite3`; pnpm: `pnpm approve-builds`)." +
      " Then run `npm rebuild better-sqlite3`."
    );
  }
  if (code === "ERR_DLOPEN_FAILED" || message.includes("NODE_MODULE_VERSION")) {
    return " better-sqlite3's native module does not load in this Node.js (built for another version or platform): run `npm rebuild better-sqlite3`.";
  }
  return "";
}

#!/usr/bin/env node
// Runs the Yarn version pinned in package.json through corepack, fetched from the npm registry
// that npm is configured with (corepack would otherwise go to a host that is unreachable here).
import { execFileSync, spawnSync } from "node:child_process";

export function yarnEnv() {
  const env = { ...process.env, COREPACK_ENABLE_DOWNLOAD_PROMPT: "0" };
  if (!env.COREPACK_NPM_REGISTRY) {
    const registry = execFileSync("npm", ["config", "get", "registry"], { encoding: "utf8" });
    env.COREPACK_NPM_REGISTRY = registry.trim().replace(/\/+$/, "");
  }
  return env;
}

export function yarn(args, options = {}) {
  const result = spawnSync("corepack", ["yarn", ...args], {
    stdio: "inherit",
    env: yarnEnv(),
    ...options,
  });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(yarn(process.argv.slice(2)));
}

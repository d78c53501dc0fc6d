import type { createMiddleware as langchainCreateMiddleware } from "langchain";

/** `MIDDLEWARE_BRAND`, which `langchain` exports: a registered symbol, the same in every copy of the package. */
const MIDDLEWARE_BRAND = Symbol.for("AgentMiddleware");

/**
 * `createMiddleware` of `langchain`, without loading `langchain`: loading it is slow (docs/benchmarks.md,
 * "Cold start"), and `import "engram"` would pay it for every user, not only those of the middleware. langchain's
 * own only copies the config's hooks and schemas onto an object marked with its exported
 * `MIDDLEWARE_BRAND`; this does the same (create.test.ts checks that both give the same object).
 */
export const createMiddleware = ((config: Record<string, unknown>) => {
  const middleware: Record<string | symbol, unknown> = { [MIDDLEWARE_BRAND]: true };
  for (const [key, value] of Object.entries(config)) if (value !== undefined) middleware[key] = value;
  return middleware;
}) as unknown as typeof langchainCreateMiddleware;

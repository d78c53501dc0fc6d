import { expect, it } from "@jest/globals";
import { createMiddleware as langchainCreateMiddleware, MIDDLEWARE_BRAND } from "langchain";
import { z } from "zod";
import { createMiddleware } from "./create.js";

it("gives the object langchain's createMiddleware gives, brand included", () => {
  const config = {
    name: "Probe",
    stateSchema: z.object({ n: z.number().default(0) }),
    contextSchema: z.object({ userId: z.string().optional() }),
    beforeAgent: () => undefined,
    wrapModelCall: async (request: unknown, handler: (request: unknown) => unknown) => handler(request),
    afterAgent: () => undefined,
  };
  const ours = createMiddleware(config as never) as unknown as Record<string | symbol, unknown>;
  const theirs = langchainCreateMiddleware(config as never) as unknown as Record<string | symbol, unknown>;
  const defined = (object: Record<string | symbol, unknown>) =>
    Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
  expect(defined(ours)).toEqual(defined(theirs));
  expect(Object.getOwnPropertySymbols(ours)).toEqual(Object.getOwnPropertySymbols(theirs));
  expect(ours[MIDDLEWARE_BRAND]).toBe(true);
  expect(theirs[MIDDLEWARE_BRAND]).toBe(true);
});

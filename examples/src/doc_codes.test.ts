/**
 * Every code a user can branch on is in the docs: each `EngramErrorCode` (core/errors.ts) and each
 * process warning code Engram emits (`process.emitWarning(..., { code: "ENGRAM_..." })`) is named
 * on some page of docs/ or the README. A code added without a word leaves users guessing what
 * `UNKNOWN_BLOCK` or `ENGRAM_DRAIN_FAILED` means and when it comes.
 */
import { describe, expect, it } from "@jest/globals";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SRC = join(ROOT, "libs", "engram", "src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "tests" ? [] : sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [readFileSync(path, "utf8")] : [];
  });
}

/** The members of the `EngramErrorCode` union. */
function errorCodes(errorsTs: string): string[] {
  const union = /export type EngramErrorCode =([\s\S]*?);/.exec(errorsTs)![1]!;
  return [...union.matchAll(/\|\s*"([A-Z_]+)"/g)].map((match) => match[1]!);
}

/** Codes given to `process.emitWarning`. */
function warningCodes(source: string): string[] {
  return [...source.matchAll(/code:\s*"(ENGRAM_[A-Z_]+)"/g)].map((match) => match[1]!);
}

const docs = [join(ROOT, "README.md"), ...readdirSync(join(ROOT, "docs")).filter((name) => name.endsWith(".md")).map((name) => join(ROOT, "docs", name))]
  .map((path) => readFileSync(path, "utf8"))
  .join("\n");
const named = (code: string) => new RegExp(`\\b${code}\\b`).test(docs);

describe("codes users branch on are documented", () => {
  const errors = errorCodes(readFileSync(join(SRC, "core", "errors.ts"), "utf8"));
  const warnings = [...new Set(sources(SRC).flatMap(warningCodes))];

  it("reads the codes (the union and the warnings)", () => {
    expect(errors).toEqual(expect.arrayContaining(["INVALID_USER_ID", "STORE_UNAVAILABLE", "CLOSED"]));
    expect(warnings).toEqual(expect.arrayContaining(["ENGRAM_WRITE_REFUSED"]));
    expect(warningCodes('process.emitWarning("x", { code: "ENGRAM_NEW_ONE" })')).toEqual(["ENGRAM_NEW_ONE"]);
    expect(named("ENGRAM_NEW_ONE")).toBe(false);
  });

  it("every EngramError code is named in the docs", () => {
    expect(errors.filter((code) => !named(code))).toEqual([]);
  });

  it("every process warning code is named in the docs", () => {
    expect(warnings.filter((code) => !named(code))).toEqual([]);
  });
});

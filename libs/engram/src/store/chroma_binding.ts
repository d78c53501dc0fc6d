import { createRequire } from "node:module";
import { EngramError } from "../core/errors.js";
import { chromaCliPath } from "./chroma_probe.js";

/*
 * Which Chroma server the embedded default runs: the native bindings that hold the server, found
 * here rather than by the `chromadb` package's own CLI.
 *
 * Why: chromadb 3.5 asks for the newest bindings (^1.3.4), whose Linux x64 build needs glibc 2.38.
 * On Debian 12 (glibc 2.36), Ubuntu 22.04 (2.35) or RHEL 9 (2.34), a fresh `npm install engram`
 * got them and its first `add` failed ("GLIBC_2.38 not found"). Engram depends on bindings 1.0.5
 * (the Chroma 1.0.0 server, glibc 2.34 and up), the server its tests run, and loads the bindings
 * from its own dependencies first: npm then nests chromadb's newer copy under chromadb, where only
 * chromadb's CLI would find it. Where Engram pins none (macOS, Windows, Linux arm64), chromadb's
 * own copy is used, as its CLI would.
 */

/** The bindings package of a platform, named as chromadb names them; undefined where none exists. */
export function chromaBindingPackage(platform: string = process.platform, arch: string = process.arch): string | undefined {
  const suffix: Record<string, string> = {
    "darwin-arm64": "darwin-arm64",
    "darwin-x64": "darwin-x64",
    "linux-arm64": "linux-arm64-gnu",
    "linux-x64": "linux-x64-gnu",
    "win32-arm64": "win32-arm64-msvc",
    "win32-x64": "win32-x64-msvc",
  };
  const name = suffix[`${platform}-${arch}`];
  return name === undefined ? undefined : `chromadb-js-bindings-${name}`;
}

/**
 * The file of the Chroma server's native bindings for this platform: resolved from Engram's own
 * dependencies first (the pinned version), then from the `chromadb` package's.
 */
export function chromaBindingPath(): string {
  const name = chromaBindingPackage();
  if (name === undefined) {
    throw new EngramError(
      "CHROMA_CLI_NOT_FOUND",
      `Chroma's server has no build for ${process.platform}-${process.arch}: run a Chroma server yourself and pass its url (chromaUrl).`,
    );
  }
  const attempts: unknown[] = [];
  for (const from of [() => import.meta.url, chromaCliPath]) {
    try {
      return createRequire(from()).resolve(name);
    } catch (error) {
      attempts.push(error);
    }
  }
  throw new EngramError(
    "CHROMA_CLI_NOT_FOUND",
    `The Chroma server's native bindings (${name}) are not installed: install them (npm install ${name}), ` +
      "or run a Chroma server yourself and pass its url (chromaUrl).",
    { cause: attempts.at(-1) },
  );
}

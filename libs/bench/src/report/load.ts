/** Reading the results folder: every `*.json` sorted by name, classified by its shape (see main.ts). */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { log } from "../progress.js";
import type { GenericReport, Loaded, LocomoReport, StoreLayoutReport } from "./types.js";

export function load(resultsDir: string): Loaded[] {
  if (!existsSync(resultsDir)) throw new Error(`results folder not found: ${resultsDir}`);
  const loaded: Loaded[] = [];
  for (const name of readdirSync(resultsDir).filter((f) => f.endsWith(".json")).sort()) {
    const file = join(resultsDir, name);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      log(`report: skipping ${name}: not JSON (${(error as Error).message})`);
      continue;
    }
    const obj = (data ?? {}) as Record<string, unknown>;
    if (obj.benchmark === "locomo" && Array.isArray(obj.results)) loaded.push({ kind: "locomo", file, data: obj as unknown as LocomoReport });
    else if (obj.benchmark === "store_layout" && Array.isArray(obj.results)) {
      loaded.push({ kind: "store_layout", file, data: obj as unknown as StoreLayoutReport });
    } else if (typeof obj.title === "string" && typeof obj.markdown === "string") {
      loaded.push({ kind: "generic", file, data: obj as unknown as GenericReport });
    } else log(`report: skipping ${name}: neither a known benchmark nor { title, markdown }`);
  }
  return loaded;
}

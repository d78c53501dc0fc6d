/**
 * The soak benches' common frame: the library's working tree and, first, a baseline ref's source
 * (baseline_source.ts), run one after the other in one process, with one static model shared by
 * both, so the two runs meet the same machine and the same heap.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { importBaseline } from "./baseline_source.js";

/** What every soak needs of the engram module it runs. */
export interface SoakModule {
  StaticEmbeddings: new () => { close?(): Promise<void> };
}

/** One run of a soak: the module, the shared embeddings, the run's name and the forced GC. */
export type SoakRun<M, S> = (engram: M, embeddings: unknown, name: string, gc: () => void) => Promise<S>;

/** `run` on the baseline (when given), then on the tree; the samples by run name. */
export async function treeAgainstBaseline<M extends SoakModule, S>(baseline: string | undefined, run: SoakRun<M, S>): Promise<Record<string, S>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  const tree = (await import(fileURLToPath(new URL("../../engram/src/index.ts", import.meta.url)))) as M;
  const embeddings = new tree.StaticEmbeddings();
  const runs: Record<string, S> = {};
  try {
    if (baseline) runs[`baseline ${baseline}`] = await run(await importBaseline<M>(baseline), embeddings, `baseline ${baseline}`, gc);
    runs.tree = await run(tree, embeddings, "tree", gc);
  } finally {
    await embeddings.close?.();
  }
  return runs;
}

/** Writes a soak's report as `<out>/<name>.json` and says where. */
export async function writeSoakReport(out: string, name: string, report: unknown): Promise<void> {
  await mkdir(out, { recursive: true });
  const file = join(out, `${name}.json`);
  await writeFile(file, JSON.stringify(report, null, 2));
  console.log(`written to ${file}`);
}

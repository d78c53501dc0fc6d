/**
 * The LoCoMo section of the benchmarks page: rows by group (a model's own engram row is a system,
 * not an ablation), in-sample marking, the J table, and held-out figures read from lab.ts's files.
 */
import { describe, expect, it } from "@jest/globals";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadLabResults, locomoSection } from "./locomo.js";
import type { LocomoReport, LocomoResult } from "./types.js";

const byK = (r5: number, r10: number, r25: number) => ({ 5: r5, 10: r10, 25: r25 });

function result(id: string, name: string, r10: number, extra: Partial<LocomoResult> = {}): LocomoResult {
  const group = { questions: 2, recall: byK(r10 - 0.1, r10, r10 + 0.05), hit: byK(0.5, 0.6, 0.7), tokens: byK(100, 200, 500) };
  return {
    id,
    name,
    description: `${name} described`,
    ingestSeconds: 1,
    query: { p50: 1, p95: 2 },
    scores: { overall: group, byCategory: { 1: group, 2: group } },
    answerRecall: { overall: { questions: 2, recall: byK(0.4, 0.5, 0.6) }, byCategory: { 1: { questions: 1, recall: byK(0.3, 0.4, 0.5) }, 2: { questions: 1, recall: byK(0.5, 0.6, 0.7) } } },
    ...extra,
  };
}

const report: LocomoReport = {
  benchmark: "locomo",
  command: "corepack yarn workspace engram-bench locomo --systems bm25,engram,engram-static,engram-no-dates",
  machine: { cpus: 2, cpuModel: "test cpu", node: "v20", totalMemBytes: 1, totalMemGiB: 1, platform: "linux", arch: "x64", release: "6", date: "2026-12-06T08:46:00Z" },
  parameters: { systems: ["bm25", "engram", "engram-static", "engram-no-dates"], ks: [5, 10, 25] },
  load: { start: 10, end: 20, mean: 15, max: 21, samples: 4, nice: 10, cpus: 2 },
  results: [
    result("bm25", "bm25", 0.555, { group: "system" }),
    result("engram", "engram, USE-Lite (defaults)", 0.75, {
      group: "system",
      judge: {
        reader: "reader-m",
        judge: "judge-m",
        k: 10,
        seconds: 12,
        scores: { overall: { questions: 2, j: 0.5 }, byCategory: { 1: { questions: 1, j: 0 }, 2: { questions: 1, j: 1 } }, unreadable: 0 },
      },
    }),
    result("engram-static", "engram, static", 0.718, { group: "system" }),
    result("engram-no-dates", "engram without dates", 0.734, { group: "ablation" }),
  ],
};

function sub(markdown: string, heading: string): string {
  const start = markdown.indexOf(`### ${heading}\n`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = markdown.indexOf("\n### ", start + 4);
  return markdown.slice(start, end < 0 ? undefined : end);
}

describe("LoCoMo report section", () => {
  it("keeps a model's engram row among the systems, marks tuned rows in-sample, and prints J", () => {
    const { markdown } = locomoSection(report, "chart.svg");
    const systems = sub(markdown, "Systems");
    expect(systems).toContain("| **engram, static** | in-sample | 61.8 | 71.8 |");
    expect(systems).toContain("| **bm25** | untuned |");
    expect(systems).not.toContain("engram without dates");
    const ablation = sub(markdown, "Ablation");
    expect(ablation).toContain("| engram without dates | 63.4 | 73.4 | 78.4 | -1.6 |");
    expect(ablation).not.toContain("engram, static");
    expect(sub(markdown, "LLM judge (J)")).toContain("| **engram, USE-Lite (defaults)** (in-sample) | 50.0 | 0.0 | 100.0 | 0 | 12 |");
    expect(markdown).toContain("load average 10.0 at the start, 20.0 at the end");
    expect(markdown).not.toContain("### In-sample and held-out");
  });

  it("says how to get J when the run had no judge", () => {
    const noJudge = { ...report, results: report.results.map(({ judge: _judge, ...r }) => r) };
    expect(sub(locomoSection(noJudge, "chart.svg").markdown, "LLM judge (J)")).toContain("--judge-model <model>");
  });

  it("puts lab.ts's held-out figures beside the run's in-sample row of the same model", () => {
    const dir = mkdtempSync(join(tmpdir(), "locomo-report-"));
    const row = (label: string, r10: number) => ({
      label,
      r5: r10 - 0.1,
      r10,
      r25: r10 + 0.08,
      range: [r10 - 0.04, r10 + 0.03],
      byCategory: { "multi-hop": 0.4, temporal: 0.85 },
      inSampleR10: r10 - 0.003,
    });
    writeFileSync(join(dir, "lab-static.json"), JSON.stringify({ defaults: row("shipped", 0.693), final: row("re-fitted", 0.716) }));
    writeFileSync(join(dir, "lab-vectors-static.json"), JSON.stringify([["text", [1, 0]]]));
    writeFileSync(join(dir, "lab-notes.json"), JSON.stringify({ something: 1 }));
    const lab = loadLabResults(dir);
    expect(lab.map((l) => l.model)).toEqual(["static"]);
    const heldOut = sub(locomoSection(report, "chart.svg", lab).markdown, "In-sample and held-out");
    expect(heldOut).toContain("| static: re-fitted | 61.6 | **71.6** | 79.6 | 67.6-74.6 | 40.0 | 85.0 | 71.3 | 69.3 | 71.8 | lab-static.json");
  });
});

/**
 * Builds `docs/benchmarks.md` (and SVG charts next to it) from the result JSONs of the benchmarks.
 *
 *   node --import tsx src/report.ts [--results bench-results] [--out ../../docs/benchmarks.md]
 *
 * Every `*.json` in the results folder becomes a section:
 * - `{ benchmark: "locomo", ... }` (src/locomo/run.ts) and `{ benchmark: "store_layout", ... }`
 *   (src/store_layout.ts) are rendered from their data: tables and charts;
 * - any other JSON that carries `{ title: string, markdown: string }` (optionally `command`: the
 *   command line that produced it, `machine`: `MachineInfo` from machine.ts, `order`: a number for
 *   its place, default 100) is included as is: its `markdown` under `## <title>`. That is the whole
 *   convention for a new benchmark: write those fields into its JSON in the same folder.
 * JSONs of neither kind are skipped (named on stderr).
 *
 * Charts are hand-written SVG (no dependencies): `benchmarks-locomo.svg` (R@5/R@10/R@25 per
 * system, grouped bars) and `benchmarks-scale.svg` (search p50/p95 against N per layout).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { formatMachine, type MachineInfo } from "./machine.js";
import { log } from "./progress.js";
import { formatMs } from "./stats.js";
import type { StoreLayoutParameters } from "./store_layout_params.js";

const BENCH_ROOT = fileURLToPath(new URL("../", import.meta.url));
const REPO_ROOT = resolve(BENCH_ROOT, "../..");

// ---------------------------------------------------------------------------------------------
// Shapes read from the JSONs (only what the report uses; everything optional is checked).

interface Summary {
  p50: number;
  p95: number;
}

type ByK = Record<string, number>;

interface LocomoScores {
  questions: number;
  recall: ByK;
  hit: ByK;
  tokens: ByK;
}

interface LocomoResult {
  id: string;
  name: string;
  description: string;
  ingestSeconds: number;
  query: Summary;
  add?: Summary;
  scores: { overall: LocomoScores; byCategory: Record<string, LocomoScores> };
}

interface LocomoReport {
  benchmark: "locomo";
  command?: string;
  machine: MachineInfo;
  chromaServerVersion?: string;
  chromadbClient?: string;
  parameters: { data?: string; systems: string[]; conversations?: number; embeddingCache?: boolean; ks?: number[] };
  dataset?: {
    conversations: string[];
    turns: number;
    sessions: number;
    questions: number;
    byCategory: Record<string, number>;
    skipped?: { adversarial: number; noEvidence: number; droppedEvidenceIds: number };
    fullContextTokens?: number;
  };
  embeddings?: { model: string; embedded: number; cached: number };
  reference?: Array<{ method: string; r5: number; r10: number; r25: number }>;
  results: LocomoResult[];
  notes?: string[];
  totalSeconds?: number;
}

interface OpResult {
  summary: Summary;
  badResults?: number;
}

interface LayoutResult {
  layout: string;
  description: string;
  ingest: { records: number; seconds: number; recordsPerSec: number };
  search: OpResult;
  add: OpResult;
  probes: Record<string, OpResult>;
  oneTime?: Record<string, OpResult>;
}

interface StoreLayoutReport {
  benchmark: "store_layout";
  command?: string;
  machine: MachineInfo;
  chromaServerVersion?: string;
  chromadbClient?: string;
  parameters: StoreLayoutParameters;
  notes?: string[];
  results: Array<{ size: number; recordsPerUser: number; layouts: LayoutResult[] }>;
  totalSeconds?: number;
}

/** The convention for any other benchmark's JSON. */
interface GenericReport {
  title: string;
  markdown: string;
  command?: string;
  machine?: MachineInfo;
  order?: number;
}

type Loaded =
  | { kind: "locomo"; file: string; data: LocomoReport }
  | { kind: "store_layout"; file: string; data: StoreLayoutReport }
  | { kind: "generic"; file: string; data: GenericReport };

interface Section {
  order: number;
  /** Anchor-friendly heading, for the table of contents. */
  title: string;
  markdown: string;
}

interface Chart {
  file: string;
  svg: string;
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers.

const CATEGORY_NAMES: Record<string, string> = { 1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop" };

function pct(x: number | undefined): string {
  return x !== undefined && Number.isFinite(x) ? (x * 100).toFixed(1) : "n/a";
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function fmtSigned(points: number): string {
  if (!Number.isFinite(points)) return "n/a";
  const s = points.toFixed(1);
  return points > 0 ? `+${s}` : s === "-0.0" ? "0.0" : s;
}

function table(header: string[], align: Array<"l" | "r">, rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${align.map((a) => (a === "r" ? "---:" : "---")).join("|")}|`,
    ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`),
  ].join("\n");
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fence(command: string): string {
  return ["```sh", command, "```"].join("\n");
}

function date(machine: MachineInfo | undefined): string {
  return machine?.date ? machine.date.slice(0, 16).replace("T", " ") + " UTC" : "unknown date";
}

// ---------------------------------------------------------------------------------------------
// LoCoMo.

/** Rows of the ablation table: engram variants other than the defaults. */
function isAblation(r: LocomoResult): boolean {
  return r.id.startsWith("engram-");
}

function locomoCommand(report: LocomoReport): string {
  if (report.command) return report.command;
  const p = report.parameters;
  const args = [`--systems ${p.systems.join(",")}`];
  if (p.conversations !== undefined) args.push(`--conversations ${p.conversations}`);
  if (p.embeddingCache === false) args.push("--no-embedding-cache");
  return `corepack yarn workspace engram-bench locomo ${args.join(" ")}`;
}

function locomoSection(report: LocomoReport, chartFile: string): Section {
  const d = report.dataset;
  const ks = report.parameters.ks ?? [5, 10, 25];
  const [k1, k2, k3] = [ks[0] ?? 5, ks[1] ?? 10, ks[2] ?? 25];
  const systems = report.results.filter((r) => !isAblation(r));
  const ablation = report.results.filter(isAblation);
  const engram = report.results.find((r) => r.id === "engram");
  const categories = Object.keys(d?.byCategory ?? report.results[0]?.scores.byCategory ?? {}).sort();
  const catLabel = (c: string) => `${CATEGORY_NAMES[c] ?? `category ${c}`}${d?.byCategory[c] !== undefined ? ` (${d.byCategory[c]})` : ""}`;
  const hasAdd = report.results.some((r) => r.add);

  const out: string[] = [];
  out.push(fence(locomoCommand(report)), "");
  out.push(`- Run: ${date(report.machine)}, ${formatMachine(report.machine)}${report.totalSeconds ? `; ${fmtInt(report.totalSeconds)} s in all` : ""}`);
  if (report.chromaServerVersion) {
    out.push(`- Chroma server ${report.chromaServerVersion} (npm chromadb ${report.chromadbClient ?? "?"}), one local server`);
  }
  if (d) {
    const cats = categories.map((c) => `${d.byCategory[c]} ${CATEGORY_NAMES[c] ?? `category ${c}`}`).join(", ");
    out.push(
      `- Data: ${d.conversations.length} conversations (${d.conversations.join(", ")}), ${fmtInt(d.turns)} turns in ${d.sessions} sessions; ` +
        `${d.questions} questions (${cats})` +
        (d.skipped ? `; skipped ${d.skipped.adversarial} adversarial and ${d.skipped.noEvidence} without usable evidence` : ""),
    );
  }
  if (report.embeddings) out.push(`- Embeddings: ${report.embeddings.model}`);
  out.push(
    `- Metric: recall@k of the evidence turns (and hit@k: at least one found), averaged over questions, in %; ` +
      `tokens@k = characters / 4 of the top-k turns` +
      (d?.fullContextTokens ? ` (the whole conversation is ≈ ${fmtInt(d.fullContextTokens)} tokens)` : ""),
    "",
  );
  out.push(`![Recall@${k1}/${k2}/${k3} per system](${chartFile})`, "");

  out.push("### Systems", "");
  const sysHeader = ["system", `R@${k1}`, `R@${k2}`, `R@${k3}`, `hit@${k2}`, `tokens@${k2}`, "ingest (s)"];
  if (hasAdd) sysHeader.push("add p50 (ms)", "add p95 (ms)");
  sysHeader.push("query p50 (ms)", "query p95 (ms)");
  out.push(
    table(
      sysHeader,
      ["l", ...sysHeader.slice(1).map(() => "r" as const)],
      systems.map((r) => {
        const o = r.scores.overall;
        const row = [`**${r.name}**`, pct(o.recall[k1]), pct(o.recall[k2]), pct(o.recall[k3]), pct(o.hit[k2]), fmtInt(o.tokens[k2] ?? NaN), r.ingestSeconds.toFixed(1)];
        if (hasAdd) row.push(r.add ? formatMs(r.add.p50) : "–", r.add ? formatMs(r.add.p95) : "–");
        row.push(formatMs(r.query.p50), formatMs(r.query.p95));
        return row;
      }),
    ),
    "",
  );
  for (const r of systems) out.push(`- **${r.name}**: ${r.description}`);
  out.push("");

  if (ablation.length) {
    out.push("### Ablation", "");
    out.push(`Engram's ranker with one part switched off (or vector similarity alone); Δ = change of R@${k2} against the defaults, in points.`, "");
    const rows = [...(engram ? [engram] : []), ...ablation].map((r) => {
      const o = r.scores.overall;
      const delta = engram && r !== engram ? fmtSigned(((o.recall[k2] ?? NaN) - (engram.scores.overall.recall[k2] ?? NaN)) * 100) : "–";
      return [r === engram ? `**${r.name}** (defaults)` : r.name, pct(o.recall[k1]), pct(o.recall[k2]), pct(o.recall[k3]), delta, formatMs(r.query.p50)];
    });
    out.push(table(["row", `R@${k1}`, `R@${k2}`, `R@${k3}`, `Δ R@${k2}`, "query p50 (ms)"], ["l", "r", "r", "r", "r", "r"], rows), "");
  }

  if (categories.length) {
    out.push("### Per category", "");
    out.push(`R@${k2} by question category (questions in brackets).`, "");
    out.push(
      table(
        ["row", ...categories.map(catLabel)],
        ["l", ...categories.map(() => "r" as const)],
        report.results.map((r) => [isAblation(r) ? r.name : `**${r.name}**`, ...categories.map((c) => pct(r.scores.byCategory[c]?.recall[k2]))]),
      ),
      "",
    );
  }

  if (report.reference?.length) {
    out.push("### Reference figures", "");
    out.push("From the README beside the data (same questions and metric):", "");
    out.push(
      table(
        ["method", `R@${k1}`, `R@${k2}`, `R@${k3}`],
        ["l", "r", "r", "r"],
        report.reference.map((r) => [r.method, r.r5.toFixed(1), r.r10.toFixed(1), r.r25.toFixed(1)]),
      ),
      "",
    );
  }
  if (report.notes?.length) out.push("Notes:", "", ...report.notes.map((n) => `- ${n}`), "");
  return { order: 10, title: "LoCoMo retrieval", markdown: out.join("\n") };
}

const BAR_COLORS = ["#9ecae1", "#4292c6", "#08306b"];

/** Grouped bars: R@k1/k2/k3 per row of the LoCoMo results. */
function locomoChart(report: LocomoReport): string {
  const ks = (report.parameters.ks ?? [5, 10, 25]).slice(0, 3);
  const rows = [...report.results.filter((r) => !isAblation(r)), ...report.results.filter(isAblation)];
  const firstAblation = rows.findIndex(isAblation);
  const bar = 22;
  const gap = 3;
  const groupWidth = ks.length * bar + (ks.length - 1) * gap + 34;
  const left = 56;
  const top = 84;
  const plotH = 260;
  const labelLines = Math.max(1, ...rows.map((r) => Math.min(3, wrap(r.name, 14).length)));
  const bottom = 28 + labelLines * 14;
  const width = Math.max(520, left + rows.length * groupWidth + 24);
  const height = top + plotH + bottom;
  const y = (v: number) => top + plotH - (v / 100) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">LoCoMo retrieval: recall@k of evidence turns (%)</text>`,
  );
  const d = report.dataset;
  if (d) {
    parts.push(
      `<text x="${left}" y="42" fill="#555">${escapeXml(`${d.conversations.length} conversations, ${d.questions} questions (categories 1-4), ${date(report.machine)}`)}</text>`,
    );
  }
  // Legend, on its own row under the title.
  ks.forEach((k, i) => {
    const lx = left + i * 70;
    parts.push(`<rect x="${lx}" y="52" width="12" height="12" fill="${BAR_COLORS[i]}"/>`, `<text x="${lx + 16}" y="62">R@${k}</text>`);
  });
  // Grid and axis.
  for (let v = 0; v <= 100; v += 20) {
    parts.push(
      `<line x1="${left}" y1="${y(v)}" x2="${width - 16}" y2="${y(v)}" stroke="${v === 0 ? "#333" : "#e3e3e3"}"/>`,
      `<text x="${left - 8}" y="${y(v) + 4}" text-anchor="end" fill="#555">${v}</text>`,
    );
  }
  if (firstAblation > 0) {
    const x = left + firstAblation * groupWidth - 2;
    parts.push(
      `<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${top + plotH + 60}" stroke="#999" stroke-dasharray="4 3"/>`,
      `<text x="${x + 6}" y="${top + 4}" fill="#777" font-style="italic">ablation</text>`,
    );
  }
  rows.forEach((r, g) => {
    const x0 = left + g * groupWidth + 17;
    ks.forEach((k, i) => {
      const v = (r.scores.overall.recall[k] ?? 0) * 100;
      const x = x0 + i * (bar + gap);
      parts.push(
        `<rect x="${x}" y="${y(v).toFixed(1)}" width="${bar}" height="${(plotH - (y(v) - top)).toFixed(1)}" fill="${BAR_COLORS[i]}"/>`,
        `<text x="${x + bar / 2}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="9.5" fill="#333">${v.toFixed(0)}</text>`,
      );
    });
    // Label under the group, on up to three lines.
    const cx = x0 + (ks.length * bar + (ks.length - 1) * gap) / 2;
    wrap(r.name, 14).slice(0, 3).forEach((line, i) => {
      parts.push(
        `<text x="${cx}" y="${top + plotH + 18 + i * 14}" text-anchor="middle"${r.id === "engram" ? ' font-weight="bold"' : ""}>${escapeXml(line)}</text>`,
      );
    });
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && (line + " " + word).length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Store layout (cost and scale).

function storeLayoutCommand(report: StoreLayoutReport): string {
  if (report.command) return report.command;
  const p = report.parameters;
  return (
    `corepack yarn workspace engram-bench store-layout --sizes ${p.sizes.join(",")} --users ${p.users} --dim ${p.dim} ` +
    `--queries ${p.queries} --adds ${p.adds} --warmup ${p.warmup} --k ${p.k} --seed ${p.seed} --layouts ${p.layouts.join(",")}`
  );
}

function storeLayoutSection(report: StoreLayoutReport, chartFile: string | undefined): Section {
  const p = report.parameters;
  const out: string[] = [];
  out.push(fence(storeLayoutCommand(report)), "");
  out.push(`- Run: ${date(report.machine)}, ${formatMachine(report.machine)}${report.totalSeconds ? `; ${fmtInt(report.totalSeconds)} s in all` : ""}`);
  if (report.chromaServerVersion) {
    out.push(`- Chroma server ${report.chromaServerVersion} (npm chromadb ${report.chromadbClient ?? "?"}), one local server, client on the same machine`);
  }
  out.push(
    `- Data: N = ${p.sizes.map(fmtInt).join(", ")} records over ${p.users} users, ${p.dim}-d seeded random unit vectors (no embedding model); ` +
      `top-${p.k}; ${p.queries} searches and ${p.adds} single-record adds per layout and N, after ${p.warmup} warm-up calls each`,
    "",
    "Layouts:",
    "",
    ...report.results[0]!.layouts.map((l) => `- \`${l.layout}\`: ${l.description}`),
    "- `floor`: an unfiltered top-k query over the whole shared collection: the ANN search alone",
    "",
  );
  if (chartFile) out.push(`![Search latency against N per layout](${chartFile})`, "");
  const rows: string[][] = [];
  for (const size of report.results) {
    for (const r of size.layouts) {
      rows.push([
        fmtInt(size.size),
        r.layout === "engram" ? "**engram**" : r.layout,
        fmtInt(r.ingest.recordsPerSec),
        formatMs(r.search.summary.p50),
        formatMs(r.search.summary.p95),
        formatMs(r.add.summary.p50),
        formatMs(r.add.summary.p95),
      ]);
      for (const [label, probe] of [...Object.entries(r.probes ?? {}), ...Object.entries(r.oneTime ?? {})]) {
        rows.push([fmtInt(size.size), label, "–", formatMs(probe.summary.p50), formatMs(probe.summary.p95), "–", "–"]);
      }
    }
  }
  out.push(
    table(
      ["N", "layout", "ingest (records/s)", "search p50 (ms)", "search p95 (ms)", "add p50 (ms)", "add p95 (ms)"],
      ["r", "l", "r", "r", "r", "r", "r"],
      rows,
    ),
    "",
  );
  const overhead = engramOverhead(report);
  if (overhead.length) out.push("Engram over the raw per-user layout (the same collections without Engram):", "", ...overhead, "");
  const bad = report.results.flatMap((s) =>
    s.layouts.filter((l) => (l.search.badResults ?? 0) > 0).map((l) => `N=${fmtInt(s.size)} ${l.layout}: ${l.search.badResults} searches failed the sanity check`),
  );
  if (bad.length) out.push("**Warnings:**", "", ...bad.map((b) => `- ${b}`), "");
  if (report.notes?.length) out.push("Notes:", "", ...report.notes.map((n) => `- ${n}`), "");
  return { order: 20, title: "Cost and scale: store layout", markdown: out.join("\n") };
}

function engramOverhead(report: StoreLayoutReport): string[] {
  const lines: string[] = [];
  for (const size of report.results) {
    const perUser = size.layouts.find((l) => l.layout === "per-user");
    const floor = size.layouts.flatMap((l) => Object.entries(l.probes ?? {})).find(([label]) => label.startsWith("floor"))?.[1];
    const s = (x: OpResult) => `${formatMs(x.summary.p50)} / ${formatMs(x.summary.p95)}`;
    for (const engram of size.layouts.filter((l) => l.layout.startsWith("engram"))) {
      if (!perUser) continue;
      lines.push(
        `- N=${fmtInt(size.size)}, ${engram.layout}: search p50 / p95 ${s(engram.search)} ms vs ${s(perUser.search)} ms` +
          (floor ? ` (floor ${s(floor)})` : "") +
          `; add ${s(engram.add)} ms vs ${s(perUser.add)} ms; ingest ${fmtInt(engram.ingest.recordsPerSec)} vs ${fmtInt(perUser.ingest.recordsPerSec)} records/s`,
      );
    }
  }
  return lines;
}

const LINE_COLORS: Record<string, string> = {
  shared: "#d62728",
  "per-user": "#1f77b4",
  engram: "#2ca02c",
  "engram-background": "#98df8a",
  floor: "#7f7f7f",
};
const EXTRA_COLORS = ["#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf"];

/** Search p50 (solid) and p95 (dashed) against N (log scale) per layout, plus the floor. */
function scaleChart(report: StoreLayoutReport): string | undefined {
  const sizes = report.results.map((s) => s.size);
  if (sizes.length < 2) return undefined;
  const series = new Map<string, Array<{ n: number; p50: number; p95: number }>>();
  for (const size of report.results) {
    for (const l of size.layouts) {
      const add = (name: string, r: OpResult) => {
        const list = series.get(name) ?? [];
        list.push({ n: size.size, p50: r.summary.p50, p95: r.summary.p95 });
        series.set(name, list);
      };
      add(l.layout, l.search);
      for (const [label, probe] of Object.entries(l.probes ?? {})) if (label.startsWith("floor")) add("floor", probe);
    }
  }
  const left = 64;
  const right = 210;
  const top = 56;
  const plotW = 520;
  const plotH = 300;
  const width = left + plotW + right;
  const height = top + plotH + 56;
  // Log scale on both axes: the layouts that stay flat sit within a few ms of each other.
  const all = [...series.values()].flat().flatMap((p) => [p.p50, p.p95]).filter((v) => v > 0);
  const ticks = (e: number) => [1, 2, 5].map((m) => m * 10 ** e);
  const e0 = Math.floor(Math.log10(Math.min(...all)));
  const e1 = Math.floor(Math.log10(Math.max(...all)));
  const tickValues = [...Array(e1 - e0 + 2).keys()].flatMap((i) => ticks(e0 + i));
  // Axis from the last 1-2-5 tick at or under the smallest value to the first at or over the largest.
  const bottomTick = Math.max(...tickValues.filter((v) => v <= Math.min(...all)));
  const topTick = Math.min(...tickValues.filter((v) => v >= Math.max(...all)));
  const yLo = Math.log10(bottomTick);
  const yHi = Math.log10(topTick);
  const [lo, hi] = [Math.log10(Math.min(...sizes)), Math.log10(Math.max(...sizes))];
  const x = (n: number) => left + ((Math.log10(n) - lo) / (hi - lo || 1)) * plotW;
  const y = (ms: number) => top + plotH - ((Math.log10(Math.max(ms, 10 ** yLo)) - yLo) / (yHi - yLo || 1)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">Top-${report.parameters.k} search latency against N (${report.parameters.users} users)</text>`,
    `<text x="${left}" y="42" fill="#555">p50 solid, p95 dashed; ms (log scale), client-observed, no embedding model; ${escapeXml(date(report.machine))}</text>`,
  ];
  for (const v of tickValues.filter((t) => t >= bottomTick && t <= topTick)) {
    const power = Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9)) === 1;
    parts.push(
      `<line x1="${left}" y1="${y(v).toFixed(1)}" x2="${left + plotW}" y2="${y(v).toFixed(1)}" stroke="${power ? "#d0d0d0" : "#efefef"}"/>`,
      `<text x="${left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${+v.toPrecision(3)}</text>`,
    );
  }
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`);
  for (const n of sizes) {
    parts.push(
      `<line x1="${x(n)}" y1="${top}" x2="${x(n)}" y2="${top + plotH}" stroke="#f0f0f0"/>`,
      `<text x="${x(n)}" y="${top + plotH + 18}" text-anchor="middle">${fmtInt(n)}</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${top + plotH + 40}" text-anchor="middle" fill="#555">N (total records, log scale)</text>`,
    `<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#555">ms</text>`,
  );
  let extra = 0;
  let legendY = top + 8;
  for (const [name, points] of series) {
    const color = LINE_COLORS[name] ?? EXTRA_COLORS[extra++ % EXTRA_COLORS.length]!;
    const path = (key: "p50" | "p95") => points.map((p, i) => `${i ? "L" : "M"}${x(p.n).toFixed(1)} ${y(p[key]).toFixed(1)}`).join(" ");
    const strong = name === "engram" ? 3 : 2;
    parts.push(
      `<path d="${path("p50")}" fill="none" stroke="${color}" stroke-width="${strong}"/>`,
      `<path d="${path("p95")}" fill="none" stroke="${color}" stroke-width="${strong - 0.5}" stroke-dasharray="6 4"/>`,
      ...points.flatMap((p) => [
        `<circle cx="${x(p.n).toFixed(1)}" cy="${y(p.p50).toFixed(1)}" r="3.5" fill="${color}"/>`,
        `<circle cx="${x(p.n).toFixed(1)}" cy="${y(p.p95).toFixed(1)}" r="3" fill="#fff" stroke="${color}" stroke-width="1.5"/>`,
      ]),
    );
    const last = points[points.length - 1]!;
    parts.push(
      `<line x1="${left + plotW + 16}" y1="${legendY}" x2="${left + plotW + 40}" y2="${legendY}" stroke="${color}" stroke-width="${strong}"/>`,
      `<text x="${left + plotW + 46}" y="${legendY + 4}"${name === "engram" ? ' font-weight="bold"' : ""}>${escapeXml(name)}</text>`,
      `<text x="${left + plotW + 46}" y="${legendY + 18}" fill="#555" font-size="10.5">${escapeXml(`${formatMs(last.p50)} / ${formatMs(last.p95)} ms at ${fmtInt(last.n)}`)}</text>`,
    );
    legendY += 40;
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Loading and writing.

function load(resultsDir: string): Loaded[] {
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

function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .trim()
    .replace(/ /g, "-");
}

async function main(): Promise<void> {
  const o = new Command()
    .name("report")
    .description("Write docs/benchmarks.md (and SVG charts) from the benchmarks' result JSONs.")
    .option("--results <dir>", "folder of the result JSONs", join(BENCH_ROOT, "bench-results"))
    .option("--out <file>", "markdown file to write (charts go next to it)", join(REPO_ROOT, "docs", "benchmarks.md"))
    .parse(process.argv)
    .opts<{ results: string; out: string }>();
  const resultsDir = resolve(o.results);
  const outFile = resolve(o.out);
  const outDir = dirname(outFile);
  const stem = basename(outFile, ".md");
  const loaded = load(resultsDir);
  if (loaded.length === 0) throw new Error(`no result JSONs in ${resultsDir}`);

  const sections: Section[] = [];
  const charts: Chart[] = [];
  const machines: MachineInfo[] = [];
  for (const item of loaded) {
    if (item.kind === "locomo") {
      const chart = `${stem}-locomo.svg`;
      charts.push({ file: chart, svg: locomoChart(item.data) });
      sections.push(locomoSection(item.data, chart));
      machines.push(item.data.machine);
    } else if (item.kind === "store_layout") {
      const svg = scaleChart(item.data);
      const chart = svg ? `${stem}-scale.svg` : undefined;
      if (svg && chart) charts.push({ file: chart, svg });
      sections.push(storeLayoutSection(item.data, chart));
      machines.push(item.data.machine);
    } else {
      const g = item.data;
      const body: string[] = [];
      if (g.command) body.push(fence(g.command), "");
      if (g.machine) {
        body.push(`- Run: ${date(g.machine)}, ${formatMachine(g.machine)}`, "");
        machines.push(g.machine);
      }
      body.push(g.markdown.trim(), "");
      sections.push({ order: typeof g.order === "number" ? g.order : 100, title: g.title, markdown: body.join("\n") });
    }
  }
  sections.sort((a, b) => a.order - b.order);

  const sameMachine = machines.every((m) => m && formatMachine(m) === formatMachine(machines[0]!));
  const rel = (path: string) => relative(REPO_ROOT, path) || ".";
  const doc = [
    "# Benchmarks",
    "",
    `<!-- Generated by libs/bench/src/report.ts from ${rel(resultsDir)}/*.json; edit the benchmarks, not this file. -->`,
    "",
    "Figures measured on this repository's benchmarks (libs/bench), against a real local Chroma server " +
      "started for each run. Regenerate this page from the result JSONs with " +
      "`corepack yarn workspace engram-bench report`.",
    "",
    machines.length ? `Machine: ${sameMachine ? formatMachine(machines[0]!) : "see each section"}.` : "",
    "",
    "How to run:",
    "",
    fence(
      [
        "npm run bench      # quick run, under 10 min on 2 cores: installs and builds, then LoCoMo (default systems),",
        "                   # the store layout at 1k and 10k records, and this page (results in libs/bench/bench-results)",
        "# full runs (build libs/engram first: corepack yarn workspace engram build)",
        "corepack yarn workspace engram-bench locomo --systems <list>   # exact command: see the LoCoMo section",
        "corepack yarn workspace engram-bench store-layout   # 1k, 10k and 100k records; about 12 min",
        "corepack yarn workspace engram-bench report         # rewrites this page from libs/bench/bench-results/*.json",
      ].join("\n"),
    ),
    "",
    "Contents:",
    "",
    ...sections.map((s) => `- [${s.title}](#${slug(s.title)})`),
    "",
    ...sections.flatMap((s) => [`## ${s.title}`, "", s.markdown.trim(), ""]),
  ]
    .filter((line, i, all) => line !== "" || all[i - 1] !== "")
    .join("\n");

  await mkdir(outDir, { recursive: true });
  await writeFile(outFile, doc.endsWith("\n") ? doc : `${doc}\n`);
  for (const chart of charts) await writeFile(join(outDir, chart.file), chart.svg);
  log(`Wrote ${rel(outFile)}${charts.length ? ` and ${charts.map((c) => rel(join(outDir, c.file))).join(", ")}` : ""} from ${loaded.length} result file(s).`);
}

main().catch((error: unknown) => {
  process.stderr.write(`report failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

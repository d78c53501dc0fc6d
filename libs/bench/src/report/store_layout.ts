/** The cost-and-scale section (src/store_layout.ts's `store_layout.json`): table, Engram's overhead, and the line chart `benchmarks-scale.svg`. */
import { formatMachine } from "../machine.js";
import { formatMs } from "../stats.js";
import { date, escapeXml, fence, fmtInt, table } from "./format.js";
import type { OpResult, Section, StoreLayoutReport } from "./types.js";

function storeLayoutCommand(report: StoreLayoutReport): string {
  if (report.command) return report.command;
  const p = report.parameters;
  return (
    `corepack yarn workspace engram-bench store-layout --sizes ${p.sizes.join(",")} --users ${p.users} --dim ${p.dim} ` +
    `--queries ${p.queries} --adds ${p.adds} --warmup ${p.warmup} --k ${p.k} --seed ${p.seed} --layouts ${p.layouts.join(",")}`
  );
}

export function storeLayoutSection(report: StoreLayoutReport, chartFile: string | undefined): Section {
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
export function scaleChart(report: StoreLayoutReport): string | undefined {
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

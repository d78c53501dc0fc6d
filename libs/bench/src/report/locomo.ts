/** The LoCoMo section (src/locomo/run.ts's `locomo.json`): tables, and the grouped-bar chart `benchmarks-locomo.svg`. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { formatMachine } from "../machine.js";
import { formatMs } from "../stats.js";
import { date, escapeXml, fence, fmtInt, fmtSigned, pct, table, wrap } from "./format.js";
import type { LabResults, LabRow, LocomoReport, LocomoResult, Section } from "./types.js";

const CATEGORY_NAMES: Record<string, string> = { 1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop" };

/** Rows of the ablation table: engram variants with a part switched off (older files: every engram- row). */
function isAblation(r: LocomoResult): boolean {
  return r.group ? r.group === "ablation" : r.id.startsWith("engram-");
}

/** Rows whose weights were fitted on these conversations (Engram's ranker): their figures are in-sample. */
function isTuned(r: LocomoResult): boolean {
  return r.id === "engram" || r.id.startsWith("engram-");
}

/**
 * locomo/lab.ts's cross-validation results in the results folder (`lab-<model>.json`, rows keyed
 * by variant, e.g. "defaults" and "final"), for the held-out figures beside the run's in-sample ones.
 */
export function loadLabResults(resultsDir: string): LabResults[] {
  if (!existsSync(resultsDir)) return [];
  const out: LabResults[] = [];
  for (const name of readdirSync(resultsDir).sort()) {
    const m = /^lab-([a-z0-9-]+)\.json$/.exec(name);
    if (!m || m[1]!.startsWith("vectors")) continue;
    const file = join(resultsDir, name);
    try {
      const data = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      const rows: Record<string, LabRow> = {};
      for (const [key, value] of Object.entries(data)) {
        const row = value as Partial<LabRow> | null;
        if (row && typeof row.label === "string" && typeof row.r10 === "number" && Array.isArray(row.range)) rows[key] = row as LabRow;
      }
      if (Object.keys(rows).length) out.push({ model: m[1]!, file: name, date: statSync(file).mtime.toISOString(), rows });
    } catch {
      // not a lab file
    }
  }
  return out;
}

function locomoCommand(report: LocomoReport): string {
  if (report.command) return report.command;
  const p = report.parameters;
  const args = [`--systems ${p.systems.join(",")}`];
  if (p.conversations !== undefined) args.push(`--conversations ${p.conversations}`);
  if (p.embeddingCache === false) args.push("--no-embedding-cache");
  return `corepack yarn workspace engram-bench locomo ${args.join(" ")}`;
}

export function locomoSection(report: LocomoReport, chartFile: string, lab: LabResults[] = []): Section {
  const d = report.dataset;
  const ks = report.parameters.ks ?? [5, 10, 25];
  const [k1, k2, k3] = [ks[0] ?? 5, ks[1] ?? 10, ks[2] ?? 25];
  const systems = report.results.filter((r) => !isAblation(r));
  const ablation = report.results.filter(isAblation);
  const engram = report.results.find((r) => r.id === "engram");
  const tunedNote = (r: LocomoResult) => (isTuned(r) && !isAblation(r) ? " (in-sample)" : "");
  const categories = Object.keys(d?.byCategory ?? report.results[0]?.scores.byCategory ?? {}).sort();
  const catLabel = (c: string) => `${CATEGORY_NAMES[c] ?? `category ${c}`}${d?.byCategory[c] !== undefined ? ` (${d.byCategory[c]})` : ""}`;
  const hasAdd = report.results.some((r) => r.add);

  const out: string[] = [];
  out.push(fence(locomoCommand(report)), "");
  out.push(`- Run: ${date(report.machine)}, ${formatMachine(report.machine)}${report.totalSeconds ? `; ${fmtInt(report.totalSeconds)} s in all` : ""}`);
  if (report.load) {
    const l = report.load;
    out.push(
      `- Load: the machine was shared; 1-minute load average ${l.start.toFixed(1)} at the start, ${l.end.toFixed(1)} at the end ` +
        `(mean ${l.mean.toFixed(1)}, max ${l.max.toFixed(1)} over ${l.samples} samples, ${l.cpus} cores), run under nice ${l.nice}: times are inflated; CPU seconds per row are in the cost table`,
    );
  }
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
  if (report.embeddings) {
    out.push(
      `- Embeddings: ${report.embeddings.model}` +
        (report.embeddings.defaultModel ? `; rows named with another model embed with it (and get Memory's ranker defaults for it)` : ""),
    );
  }
  out.push(
    `- Metric: recall@k of the evidence turns (and hit@k: at least one found), averaged over questions, in %; ` +
      `tokens@k = characters / 4 of the top-k turns` +
      (d?.fullContextTokens ? ` (the whole conversation is ≈ ${fmtInt(d.fullContextTokens)} tokens)` : ""),
    "",
  );
  out.push(`![Recall@${k1}/${k2}/${k3} per system](${chartFile})`, "");

  out.push("### Systems", "");
  out.push(
    "Figures marked *in-sample* come from Engram's ranker, whose weights were chosen on these same five conversations " +
      "(by leave-one-conversation-out cross-validation: every fold chose the same setting); the held-out figures are under " +
      "[In-sample and held-out](#in-sample-and-held-out). bm25, dense and mem0 are not tuned on LoCoMo.",
    "",
  );
  const sysHeader = ["system", "figures", `R@${k1}`, `R@${k2}`, `R@${k3}`, `hit@${k2}`, `tokens@${k2}`, "ingest (s)"];
  if (hasAdd) sysHeader.push("add p50 (ms)", "add p95 (ms)");
  sysHeader.push("query p50 (ms)", "query p95 (ms)");
  const hasCpu = systems.some((r) => r.cpuSeconds !== undefined);
  if (hasCpu) sysHeader.push("row (s)", "CPU (s)");
  out.push(
    table(
      sysHeader,
      ["l", ...sysHeader.slice(1).map(() => "r" as const)],
      systems.map((r) => {
        const o = r.scores.overall;
        const row = [
          `**${r.name}**`,
          isTuned(r) ? "in-sample" : "untuned",
          pct(o.recall[k1]),
          pct(o.recall[k2]),
          pct(o.recall[k3]),
          pct(o.hit[k2]),
          fmtInt(o.tokens[k2] ?? NaN),
          r.ingestSeconds.toFixed(1),
        ];
        if (hasAdd) row.push(r.add ? formatMs(r.add.p50) : "–", r.add ? formatMs(r.add.p95) : "–");
        row.push(formatMs(r.query.p50), formatMs(r.query.p95));
        if (hasCpu) row.push(r.seconds !== undefined ? fmtInt(r.seconds) : "–", r.cpuSeconds !== undefined ? fmtInt(r.cpuSeconds) : "–");
        return row;
      }),
    ),
    "",
  );
  for (const r of systems) out.push(`- **${r.name}**: ${r.description}`);
  out.push("");

  if (ablation.length) {
    out.push("### Ablation", "");
    out.push(`Engram's ranker with one part switched off (or vector similarity alone), all in-sample; Δ = change of R@${k2} against the defaults, in points.`, "");
    const rows = [...(engram ? [engram] : []), ...ablation].map((r) => {
      const o = r.scores.overall;
      const delta = engram && r !== engram ? fmtSigned(((o.recall[k2] ?? NaN) - (engram.scores.overall.recall[k2] ?? NaN)) * 100) : "–";
      return [r === engram ? `**${r.name}**${r.name.includes("defaults") ? "" : " (defaults)"}` : r.name, pct(o.recall[k1]), pct(o.recall[k2]), pct(o.recall[k3]), delta, formatMs(r.query.p50)];
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
        report.results.map((r) => [isAblation(r) ? r.name : `**${r.name}**${tunedNote(r)}`, ...categories.map((c) => pct(r.scores.byCategory[c]?.recall[k2]))]),
      ),
      "",
    );
  }

  const withAnswers = report.results.filter((r) => r.answerRecall);
  if (withAnswers.length) {
    out.push("### Answer recall", "");
    out.push(
      `AR@k: the share of the gold answer's tokens found in the top-k texts, in % (LoCoMo's F1 normalization: commas, ` +
        `punctuation and "a/an/the/and" dropped, lowercase, Porter stems; src/locomo/answer_recall.ts). An offline upper bound ` +
        `on what a reader model could copy from the context. Temporal answers are mostly dates: a system whose texts carry the session date (bm25's document) can hold them, one returning \`<speaker>: <text>\` rarely does.`,
      "",
    );
    out.push(
      table(
        ["row", `AR@${k1}`, `AR@${k2}`, `AR@${k3}`, ...categories.map((c) => `${catLabel(c)} AR@${k2}`)],
        ["l", "r", "r", "r", ...categories.map(() => "r" as const)],
        withAnswers.map((r) => {
          const a = r.answerRecall!;
          return [
            isAblation(r) ? r.name : `**${r.name}**${tunedNote(r)}`,
            pct(a.overall.recall[k1]),
            pct(a.overall.recall[k2]),
            pct(a.overall.recall[k3]),
            ...categories.map((c) => pct(a.byCategory[c]?.recall[k2])),
          ];
        }),
      ),
      "",
    );
  }

  const judged = report.results.filter((r) => r.judge);
  out.push("### LLM judge (J)", "");
  if (judged.length) {
    const j0 = judged[0]!.judge!;
    out.push(
      `The Mem0 paper's protocol (src/locomo/judge.ts): a reader model (${j0.reader}) answers each question from the top ${j0.k} turns ` +
        `with their dates, a judge model (${j0.judge}) labels the answer CORRECT or WRONG against the gold answer; J = share CORRECT, in %. ` +
        "The prompts are this repository's wording of the protocol: compare the rows with each other, not with the paper's table.",
      "",
    );
    out.push(
      table(
        ["row", "J", ...categories.map((c) => `${catLabel(c)} J`), "unreadable", "time (s)"],
        ["l", "r", ...categories.map(() => "r" as const), "r", "r"],
        judged.map((r) => {
          const j = r.judge!;
          return [
            `**${r.name}**${tunedNote(r)}`,
            pct(j.scores.overall.j),
            ...categories.map((c) => pct(j.scores.byCategory[c]?.j)),
            String(j.scores.unreadable),
            fmtInt(j.seconds),
          ];
        }),
      ),
      "",
    );
  } else {
    out.push(
      "Not measured in this run (it needs an OpenAI-compatible server): `OPENAI_BASE_URL=... OPENAI_API_KEY=... " +
        "corepack yarn workspace engram-bench locomo --systems ... --judge-model <model>` adds J per row and category " +
        "(src/locomo/judge.ts: the Mem0 paper's answer-then-judge protocol, CORRECT/WRONG).",
      "",
    );
  }

  const heldOut = lab.flatMap((l) => {
    const final = l.rows.final ?? Object.values(l.rows).at(-1);
    return final ? [{ lab: l, row: final, before: l.rows.defaults }] : [];
  });
  if (heldOut.length) {
    out.push("### In-sample and held-out", "");
    out.push(
      "Held-out figures: `src/locomo/lab.ts` (leave-one-conversation-out over the five conversations: each fold chooses the ranker's " +
        "weights on four and is scored on the fifth; the mean of the five held-out scores, conversations weighing equally, and their range). " +
        "Its replay ranks the same candidates with the library's own scoring code; \"in-sample\" is the best setting scored on all five. " +
        "This run's engram rows use the weights the folds chose (the library's defaults for each model), so they are in-sample figures.",
      "",
    );
    const rows = heldOut.map(({ lab: l, row, before }) => {
      const run = report.results.find((r) => r.id === `engram-${l.model}`);
      return [
        `${l.model}: ${row.label}`,
        pct(row.r5),
        `**${pct(row.r10)}**`,
        pct(row.r25),
        `${pct(row.range[0])}-${pct(row.range[1])}`,
        ...categories.map((c) => pct(row.byCategory[CATEGORY_NAMES[c] ?? c])),
        pct(row.inSampleR10),
        before ? pct(before.r10) : "–",
        run ? pct(run.scores.overall.recall[k2]) : "–",
        `${l.file} (${l.date.slice(0, 16).replace("T", " ")} UTC)`,
      ];
    });
    out.push(
      table(
        [
          "model: lab row",
          `held-out R@${k1}`,
          `held-out R@${k2}`,
          `held-out R@${k3}`,
          `held-out R@${k2} range`,
          ...categories.map((c) => `${CATEGORY_NAMES[c] ?? c}`),
          `in-sample R@${k2} (replay)`,
          `held-out R@${k2} before (shipped defaults of that time)`,
          `this run, R@${k2} (in-sample)`,
          "source",
        ],
        ["l", "r", "r", "r", "l", ...categories.map(() => "r" as const), "r", "r", "r", "l"],
        rows,
      ),
      "",
    );
    out.push(
      `The replay's means weigh conversations equally; this run's means weigh questions equally (the conversations have different numbers of questions), so the two differ slightly for the same weights.`,
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
export function locomoChart(report: LocomoReport): string {
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

/**
 * The graph's prompt budget against its recall, with the budget chosen by leave-one-conversation-
 * out cross-validation (issue 15, item 3: R@10 within 1 point of plain `Memory.add`, prompt tokens
 * at most 0.1 of the full history).
 *
 * Reads the JSONs of `graph-replay-sessions` runs (one with the `add` replay, any number with
 * `graph + endSession` replays at other window sizes and summary budgets). A setting is a replay's
 * (window, summary budget) and a recalled k from 1 to its recallLimit: what is stored does not
 * depend on k (the turn's novelty is the best recalled match, the same in any top k), so R@10 is
 * the replay's and the prompt is the last turn's with the first k recalled memories
 * (`lastRatioByK`). For each held-out conversation, the setting with the best R@10 on the other
 * four among those whose prompt stays at most 0.1 of the full history on each of them is chosen
 * and measured on the held-out one.
 *
 *   node --import tsx src/graph_replay_cv.ts --inputs a.json,b.json [--out bench-results]
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { crossValidate } from "./locomo/cv.js";
import { log } from "./progress.js";

/** The prompt budget of the target: at most this share of the full history. */
export const PROMPT_TARGET = 0.1;

interface ConversationResult {
  sampleId: string;
  recall10: number[];
  lastRatio?: number;
  lastRatioByK?: number[];
}

interface ReplayResult {
  mode: "add" | "graph" | "graph-end";
  settings: { window?: number; summaryMaxTokens?: number; recallLimit?: number; threshold?: number; forgetEvery?: number };
  conversations: ConversationResult[];
}

/** One point of the budget: a replay's settings and a recalled k. */
export interface BudgetSetting {
  window: number;
  summaryMaxTokens: number;
  k: number;
  /** Per conversation (sample id): R@10 of each question, and the last turn's prompt / full history. */
  byConversation: Record<string, { recall10: number[]; ratio: number }>;
}

/** A command-line argument as a shell reads it back (single quotes when it needs any). */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

const mean = (values: readonly number[]) => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);
const pct = (x: number) => (Number.isFinite(x) ? (x * 100).toFixed(1) : "n/a");
const signed = (points: number) => `${points > 0 ? "+" : ""}${points.toFixed(1)}`;

/**
 * Replays of the same mode and settings from several runs (e.g. the conversations split over two
 * processes) as one, their conversations joined in the order given.
 */
export function mergeRuns(replays: readonly ReplayResult[]): ReplayResult[] {
  const merged = new Map<string, ReplayResult>();
  for (const replay of replays) {
    const key = JSON.stringify([replay.mode, Object.entries(replay.settings).sort()]);
    const seen = merged.get(key);
    if (seen) seen.conversations = [...seen.conversations, ...replay.conversations.filter((c) => !seen.conversations.some((s) => s.sampleId === c.sampleId))];
    else merged.set(key, { ...replay, conversations: [...replay.conversations] });
  }
  return [...merged.values()];
}

/** Every (replay, k) of the graph + endSession replays, largest budget first (ties go to it). */
export function budgetSettings(replays: readonly ReplayResult[]): BudgetSetting[] {
  const settings: BudgetSetting[] = [];
  for (const replay of replays.filter((r) => r.mode === "graph-end")) {
    const byK = replay.conversations[0]?.lastRatioByK ?? [];
    for (let k = byK.length - 1; k >= 1; k--) {
      settings.push({
        window: replay.settings.window ?? 10,
        summaryMaxTokens: replay.settings.summaryMaxTokens ?? 400,
        k,
        byConversation: Object.fromEntries(replay.conversations.map((c) => [c.sampleId, { recall10: c.recall10, ratio: c.lastRatioByK?.[k] ?? Number.NaN }])),
      });
    }
  }
  return settings.sort((a, b) => b.window - a.window || b.summaryMaxTokens - a.summaryMaxTokens || b.k - a.k);
}

export function label(s: Pick<BudgetSetting, "window" | "summaryMaxTokens" | "k">): string {
  return `window ${s.window}, summary ${s.summaryMaxTokens}, k ${s.k}`;
}

export interface BudgetCv {
  folds: Array<{ heldOut: string; chosen: string; graph: number; add: number; ratio: number }>;
  /** Means over the folds (conversations weigh equally). */
  heldOut: { graph: number; add: number; gap: number; maxRatio: number };
  inSample: { chosen: string; graph: number; add: number; gap: number; maxRatio: number };
}

/**
 * Leave-one-conversation-out choice of the budget: items are questions, grouped by conversation;
 * a setting scores a question's R@10, minus 1,000 when the question's conversation is over the
 * prompt target, so that on the training conversations any setting within the target wins over
 * any that is not (`crossValidate` then picks the best R@10 among them).
 */
export function crossValidateBudget(settings: readonly BudgetSetting[], add: Record<string, number[]>): BudgetCv {
  const conversations = Object.keys(settings[0]?.byConversation ?? {});
  const groups = conversations.flatMap((c) => settings[0]!.byConversation[c]!.recall10.map(() => c));
  const cv = crossValidate(groups, settings, (s) =>
    conversations.flatMap((c) => {
      const { recall10, ratio } = s.byConversation[c]!;
      return recall10.map((r) => r - (ratio > PROMPT_TARGET ? 1_000 : 0));
    }),
  );
  const folds = cv.folds.map((fold) => {
    const held = fold.chosen.byConversation[fold.heldOut]!;
    return { heldOut: fold.heldOut, chosen: label(fold.chosen), graph: mean(held.recall10), add: mean(add[fold.heldOut] ?? []), ratio: held.ratio };
  });
  const pooled = (s: BudgetSetting) => mean(conversations.flatMap((c) => s.byConversation[c]!.recall10));
  const addPooled = mean(conversations.flatMap((c) => add[c] ?? []));
  const best = cv.inSample.setting;
  return {
    folds,
    heldOut: {
      graph: mean(folds.map((f) => f.graph)),
      add: mean(folds.map((f) => f.add)),
      gap: mean(folds.map((f) => f.graph - f.add)),
      maxRatio: Math.max(...folds.map((f) => f.ratio)),
    },
    inSample: {
      chosen: label(best),
      graph: pooled(best),
      add: addPooled,
      gap: pooled(best) - addPooled,
      maxRatio: Math.max(...conversations.map((c) => best.byConversation[c]!.ratio)),
    },
  };
}

/** Per conversation: plain add against the graph + endSession at the graph's defaults (the largest budget, window 10, summary 400, k 5). */
export function renderDefaults(settings: readonly BudgetSetting[], add: Record<string, number[]>, noEnd?: Record<string, number[]>): string[] {
  const defaults = settings.find((s) => s.window === 10 && s.summaryMaxTokens === 400 && s.k === 5);
  if (!defaults) return [];
  const conversations = Object.keys(defaults.byConversation);
  const rows = conversations.map((c) => {
    const graph = mean(defaults.byConversation[c]!.recall10);
    const plain = mean(add[c] ?? []);
    const without = noEnd ? ` ${pct(mean(noEnd[c] ?? []))} |` : "";
    return `| ${c} | ${defaults.byConversation[c]!.recall10.length} | ${pct(plain)} |${without} ${pct(graph)} | ${signed((graph - plain) * 100)} | ${defaults.byConversation[c]!.ratio.toFixed(3)} |`;
  });
  const withoutAll = noEnd ? ` ${pct(mean(conversations.flatMap((c) => noEnd[c] ?? [])))} |` : "";
  const graphAll = mean(conversations.flatMap((c) => defaults.byConversation[c]!.recall10));
  const addAll = mean(conversations.flatMap((c) => add[c] ?? []));
  const worst = Math.max(...conversations.map((c) => defaults.byConversation[c]!.ratio));
  return [
    "The graph with its defaults (window 10, summary budget 400 tokens, 5 recalled memories, threshold 0.1, forgetting every 20 turns) and `graph.endSession` when each session ends, against plain `Memory.add` of every turn:",
    "",
    `| conversation | questions | plain add R@10 |${noEnd ? " graph, sessions left as they end |" : ""} graph + endSession R@10 | Δ vs add | prompt / full history, last turn |`,
    `|---|---:|---:|${noEnd ? "---:|" : ""}---:|---:|---:|`,
    ...rows,
    `| **all** | ${conversations.reduce((n, c) => n + defaults.byConversation[c]!.recall10.length, 0)} | **${pct(addAll)}** |${withoutAll} **${pct(graphAll)}** | **${signed((graphAll - addAll) * 100)}** | ${worst.toFixed(3)} (worst) |`,
    "",
  ];
}

export function renderBudget(settings: readonly BudgetSetting[], add: Record<string, number[]>, cv: BudgetCv, noEnd?: Record<string, number[]>): string {
  const conversations = Object.keys(settings[0]?.byConversation ?? {});
  const addPooled = mean(conversations.flatMap((c) => add[c] ?? []));
  const lines = [
    ...renderDefaults(settings, add, noEnd),
    `The curve: each graph + \`endSession\` replay (window, stored summary budget in tokens) with the first k of its recalled memories in the prompt (k = recallLimit; what is stored does not depend on it). R@10 pooled over the ${conversations.length} conversations' questions; plain \`Memory.add\` of every turn gives ${pct(addPooled)} in the same runs. Prompt: the model's prompt at a conversation's last turn against the whole conversation so far (target ≤ ${PROMPT_TARGET}).`,
    "",
    "| setting | R@10 | Δ R@10 vs add | prompt / full history, worst conversation | mean over conversations |",
    "|---|---:|---:|---:|---:|",
  ];
  for (const s of settings) {
    const r10 = mean(conversations.flatMap((c) => s.byConversation[c]!.recall10));
    const ratios = conversations.map((c) => s.byConversation[c]!.ratio);
    const worst = Math.max(...ratios);
    lines.push(`| ${label(s)} | ${pct(r10)} | ${signed((r10 - addPooled) * 100)} | ${worst <= PROMPT_TARGET ? `**${worst.toFixed(3)}**` : worst.toFixed(3)} | ${mean(ratios).toFixed(3)} |`);
  }
  lines.push(
    "",
    `Leave-one-conversation-out choice: for each conversation, the setting with the best R@10 on the other ${conversations.length - 1} among those within the prompt target on each of them, measured on the held-out one.`,
    "",
    "| held out | chosen on the others | graph R@10 | add R@10 | Δ | prompt / full history |",
    "|---|---|---:|---:|---:|---:|",
    ...cv.folds.map((f) => `| ${f.heldOut} | ${f.chosen} | ${pct(f.graph)} | ${pct(f.add)} | ${signed((f.graph - f.add) * 100)} | ${f.ratio.toFixed(3)} |`),
    `| **held-out mean** | | **${pct(cv.heldOut.graph)}** | ${pct(cv.heldOut.add)} | **${signed(cv.heldOut.gap * 100)}** | ${cv.heldOut.maxRatio.toFixed(3)} (worst) |`,
    `| in-sample (chosen on all five: ${cv.inSample.chosen}) | | ${pct(cv.inSample.graph)} | ${pct(cv.inSample.add)} | ${signed(cv.inSample.gap * 100)} | ${cv.inSample.maxRatio.toFixed(3)} (worst) |`,
    "",
    "The held-out mean weighs conversations equally; the in-sample row pools questions.",
  );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const o = new Command()
    .name("graph-replay-cv")
    .description("The graph's prompt budget (window, summary, recalled k) against R@10, chosen by leave-one-conversation-out CV.")
    .requiredOption("--inputs <files>", "graph-replay-sessions JSONs, comma-separated (one must hold the add replay)", (v) => v.split(",").filter(Boolean))
    .option("--out <dir>", "folder for the JSON", "bench-results")
    .option("--name <name>", "the JSON's name (without .json)", "graph-replay-cv")
    .option("--title <text>", "the section's title", "The graph keeps what matters: sessions that end")
    .option("--order <n>", "the section's place in docs/benchmarks.md", Number, 16)
    .option("--model <text>", "the embeddings, as the section names them", "the static embeddings (StaticEmbeddings)")
    .parse(process.argv)
    .opts<{ inputs: string[]; out: string; name: string; title: string; order: number; model: string }>();
  const files = await Promise.all(
    o.inputs.map(async (f) => JSON.parse(await readFile(resolve(f), "utf8")) as { results: ReplayResult[]; machine?: unknown; command?: string; loadAverage?: { start: number[]; end: number[] }; totalSeconds?: number }),
  );
  const replays = mergeRuns(files.flatMap((f) => f.results));
  const addReplay = replays.find((r) => r.mode === "add");
  if (!addReplay) throw new Error("no add replay in the inputs");
  const add = Object.fromEntries(addReplay.conversations.map((c) => [c.sampleId, c.recall10]));
  const graphOnly = replays.find((r) => r.mode === "graph" && Object.keys(r.settings).length === 0);
  const noEnd = graphOnly ? Object.fromEntries(graphOnly.conversations.map((c) => [c.sampleId, c.recall10])) : undefined;
  const settings = budgetSettings(replays);
  if (settings.length === 0) throw new Error("no graph-end replay with lastRatioByK in the inputs");
  const cv = crossValidateBudget(settings, add);
  const report = {
    title: o.title,
    command: `corepack yarn workspace engram-bench graph-replay-cv ${process.argv.slice(2).map(shellQuote).join(" ")}`,
    ...(files[0]?.machine ? { machine: files[0].machine } : {}),
    order: o.order,
    markdown: [
      `Replays (LoCoMo dev conversations, one user per conversation and one thread per session, ${o.model}, a scripted model that answers \"OK.\", each process on its own Chroma server; a run's conversations split over processes started together; \`--out\` left out):`,
      "",
      // The replays' commands were saved as their arguments joined by spaces (none holds a space).
      ...files.map((f) => `- \`${(f.command ?? "?").replace(/ --out \S+/, "").split(" ").map(shellQuote).join(" ")}\`${f.totalSeconds !== undefined ? ` (${Math.round(f.totalSeconds)} s` : ""}${f.loadAverage ? `, load average ${f.loadAverage.start[0]!.toFixed(0)} at the start` : ""}${f.totalSeconds !== undefined ? ")" : ""}`),
      "",
      renderBudget(settings, add, cv, noEnd),
    ].join("\n"),
    cv,
  };
  await mkdir(resolve(o.out), { recursive: true });
  const file = join(resolve(o.out), `${o.name}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${report.markdown}\n`);
  log(`Wrote ${file}`);
}

// Run only as a script (the test imports the functions).
if (process.argv[1]?.endsWith("graph_replay_cv.ts")) {
  main().catch((error: unknown) => {
    process.stderr.write(`graph-replay-cv failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}

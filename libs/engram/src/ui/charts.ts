import { html, raw, type Html } from "./html.js";
import type { ScoreParts } from "../scoring/ranker.js";

/**
 * Inline SVG charts, drawn on the server from numbers: no script, no build step. Each bar has a
 * `<title>` (the browser's tooltip) with its exact value.
 */

export interface Bar {
  label: string;
  value: number;
}

const num = (value: number): string => (Math.round(value * 100) / 100).toString();

/** Vertical bars with the first, middle and last labels under them (memories per day, importance histogram). */
export function columnChart(bars: readonly Bar[], options: { width?: number; height?: number; name: string }): Html {
  const width = options.width ?? 480;
  const height = options.height ?? 120;
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const step = bars.length > 0 ? width / bars.length : width;
  const gap = step > 4 ? 1 : 0;
  const rects = bars.map((bar, i) => {
    const h = (bar.value / max) * (height - 30);
    return html`<rect x="${num(i * step)}" y="${num(height - 16 - h)}" width="${num(Math.max(1, step - gap))}" height="${num(h)}" class="bar"><title>${bar.label}: ${bar.value}</title></rect>`;
  });
  const labelAt = (i: number, anchor: string) =>
    bars[i] ? html`<text x="${num(i * step + (anchor === "end" ? step : 0))}" y="${height - 2}" text-anchor="${anchor}" class="axis">${bars[i]!.label}</text>` : "";
  const labels = bars.length === 0 ? "" : [labelAt(0, "start"), bars.length > 2 ? labelAt(Math.floor(bars.length / 2), "middle") : "", bars.length > 1 ? labelAt(bars.length - 1, "end") : ""];
  return html`<svg class="chart" data-chart="${options.name}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${options.name}">${rects}<text x="${width}" y="10" text-anchor="end" class="axis">max ${max}</text>${labels}</svg>`;
}

/** Horizontal bars, one row each with its label and value (memory kinds, tokens by kind). */
export function rowChart(bars: readonly Bar[], options: { width?: number; name: string }): Html {
  const width = options.width ?? 360;
  const row = 20;
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const rows = bars.map((bar, i) => {
    const w = (bar.value / max) * (width - 170);
    return html`<text x="0" y="${i * row + 14}" class="axis">${bar.label}</text><rect x="100" y="${i * row + 3}" width="${num(w)}" height="14" class="bar"><title>${bar.label}: ${bar.value}</title></rect><text x="${num(104 + w)}" y="${i * row + 14}" class="axis">${bar.value}</text>`;
  });
  return html`<svg class="chart" data-chart="${options.name}" viewBox="0 0 ${width} ${bars.length * row}" width="${width}" height="${bars.length * row}" role="img" aria-label="${options.name}">${rows}</svg>`;
}

/** The score parts of one search result, or the weight of each (the ranker's own parts). */
export type ScoreBreakdown = ScoreParts;

export const SCORE_PARTS = ["relevance", "lexical", "recency", "importance", "neighbour"] as const;

/**
 * How much each part adds to the fused score, by the ranker's formula: the weighted mean of
 * relevance, lexical, recency and importance, then mixed with the neighbour part. The shares sum
 * to the ranker's score (the entity boost, when any, comes on top).
 */
export function contributions(parts: ScoreBreakdown, weights: ScoreBreakdown): ScoreBreakdown {
  const total = weights.relevance + weights.lexical + weights.recency + weights.importance || 1;
  const mix = 1 + weights.neighbour;
  const share = (part: "relevance" | "lexical" | "recency" | "importance") => (weights[part] * parts[part]) / total / mix;
  return {
    relevance: share("relevance"),
    lexical: share("lexical"),
    recency: share("recency"),
    importance: share("importance"),
    neighbour: (weights.neighbour * parts.neighbour) / mix,
  };
}

/** One stacked bar per result: a segment per score part, as wide as what it adds (full width = 1). */
export function scoreBar(parts: ScoreBreakdown, weights: ScoreBreakdown, width = 300): Html {
  const shares = contributions(parts, weights);
  let x = 0;
  const segments = SCORE_PARTS.map((part) => {
    const w = shares[part] * width;
    const rect = html`<rect x="${num(x)}" y="0" width="${num(w)}" height="14" class="part-${part}" data-part="${part}" data-value="${num(parts[part])}"><title>${part}: ${num(parts[part])} × weight ${num(weights[part])} → +${num(shares[part])}</title></rect>`;
    x += w;
    return rect;
  });
  return html`<svg class="score-bar" viewBox="0 0 ${width} 14" width="${width}" height="14" role="img" aria-label="score parts"><rect x="0" y="0" width="${width}" height="14" class="track"></rect>${segments}</svg>`;
}

/** The colour key of the score parts. */
export function scoreLegend(): Html {
  return raw(SCORE_PARTS.map((part) => `<span class="key"><i class="part-${part}"></i>${part}</span>`).join(" "));
}

/** Formatting helpers: numbers, markdown tables and fences, XML escaping, dates, line wrapping, anchors. */
import type { MachineInfo } from "../machine.js";

export function pct(x: number | undefined): string {
  return x !== undefined && Number.isFinite(x) ? (x * 100).toFixed(1) : "n/a";
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function fmtSigned(points: number): string {
  if (!Number.isFinite(points)) return "n/a";
  const s = points.toFixed(1);
  return points > 0 ? `+${s}` : s === "-0.0" ? "0.0" : s;
}

export function table(header: string[], align: Array<"l" | "r">, rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${align.map((a) => (a === "r" ? "---:" : "---")).join("|")}|`,
    ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`),
  ].join("\n");
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function fence(command: string): string {
  return ["```sh", command, "```"].join("\n");
}

export function date(machine: MachineInfo | undefined): string {
  return machine?.date ? machine.date.slice(0, 16).replace("T", " ") + " UTC" : "unknown date";
}

export function wrap(text: string, width: number): string[] {
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

export function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .trim()
    .replace(/ /g, "-");
}

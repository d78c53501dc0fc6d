import { html, raw, type Html } from "./html.js";

/** What every page's frame needs. */
export interface PageFrame {
  title: string;
  /** Nonce of the inline scripts (the content security policy allows only these). */
  nonce: string;
  /** The access token, for the scripts' change requests (the cookie is HttpOnly). */
  token: string;
  allowEdit: boolean;
  /** Breadcrumb links, after "Users". */
  crumbs?: Array<{ href?: string; label: string }>;
}

const STYLE = `
:root { --fg:#1d2330; --muted:#6b7280; --line:#e5e7eb; --accent:#4f46e5; --bg:#fafafa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { background: #111827; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: baseline; }
header a { color: #c7d2fe; text-decoration: none; }
header .mode { margin-left: auto; font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #374151; }
header .mode.edit { background: #b45309; }
main { padding: 16px 20px; max-width: 1200px; }
h1 { font-size: 20px; margin: 4px 0 12px; } h2 { font-size: 16px; margin: 20px 0 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
a { color: var(--accent); }
.muted { color: var(--muted); } .small { font-size: 12px; }
.cards { display: flex; flex-wrap: wrap; gap: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
form.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 8px 0; }
label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
input, select, textarea, button { font: inherit; padding: 4px 6px; }
button { cursor: pointer; } button.danger { background: #b91c1c; color: #fff; border: 0; border-radius: 4px; padding: 5px 10px; }
.chart .bar { fill: var(--accent); } .chart .axis { font-size: 10px; fill: var(--muted); }
.score-bar .track { fill: #f3f4f6; }
.part-relevance { fill: #4f46e5; background: #4f46e5; } .part-lexical { fill: #0891b2; background: #0891b2; }
.part-recency { fill: #16a34a; background: #16a34a; } .part-importance { fill: #d97706; background: #d97706; }
.part-neighbour { fill: #db2777; background: #db2777; }
.key { font-size: 12px; margin-right: 8px; } .key i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
.weights { display: flex; gap: 12px; flex-wrap: wrap; }
.weights label { width: 150px; }
.timeline { list-style: none; padding: 0; border-left: 2px solid var(--line); margin-left: 6px; }
.timeline li { padding: 4px 0 10px 14px; position: relative; }
.timeline li::before { content: ""; position: absolute; left: -7px; top: 8px; width: 12px; height: 12px; border-radius: 6px; background: var(--accent); }
.timeline li.DELETE::before { background: #b91c1c; } .timeline li.UPDATE::before { background: #d97706; }
.pill { display: inline-block; padding: 0 6px; border-radius: 8px; background: #eef2ff; font-size: 12px; margin: 1px; }
.invalid { text-decoration: line-through; color: var(--muted); }
.current-row { background: #fef9c3; }
pre.content { white-space: pre-wrap; background: #fff; border: 1px solid var(--line); padding: 10px; border-radius: 6px; }
#status { min-height: 1.4em; }
`;

/**
 * The frame of every page. Change requests from the pages' scripts carry the token in a header:
 * the only way a change is accepted (security.ts).
 */
export function page(frame: PageFrame, body: Html, script?: string): string {
  const crumbs = (frame.crumbs ?? []).map((crumb) => (crumb.href ? html` / <a href="${crumb.href}">${crumb.label}</a>` : html` / <span>${crumb.label}</span>`));
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${frame.title} · Engram inspector</title><style>${raw(STYLE)}</style></head>
<body data-token="${frame.token}" data-edit="${frame.allowEdit ? "1" : "0"}">
<header><strong>Engram</strong><nav><a href="/">Users</a>${crumbs}</nav><span class="mode${frame.allowEdit ? " edit" : ""}">${frame.allowEdit ? "edits allowed" : "read-only"}</span></header>
<main>${body}</main>
<script nonce="${frame.nonce}">${raw(COMMON_SCRIPT)}${script ? raw(script) : ""}</script>
</body></html>`.value;
}

/** `send(method, url, body)`: a change request with the token header; shows the outcome in #status. */
const COMMON_SCRIPT = `
const TOKEN = document.body.dataset.token;
async function send(method, url, body) {
  const status = document.getElementById("status");
  const response = await fetch(url, { method, headers: { "content-type": "application/json", "x-engram-token": TOKEN }, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) { if (status) status.textContent = "Refused: " + (data.error ? data.error.message : response.status); throw new Error(String(response.status)); }
  return data;
}
`;

export function formatTime(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "–";
}

export function userHref(userId: string): string {
  return `/users/${encodeURIComponent(userId)}`;
}

export function recordHref(userId: string, id: string): string {
  return `${userHref(userId)}/memories/${encodeURIComponent(id)}`;
}

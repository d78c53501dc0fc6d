import { isCurrent } from "../consolidation/validity.js";
import { MEMORY_KINDS, type MemoryRecord } from "../core/types.js";
import type { UsageReport } from "../memory/usage.js";
import { columnChart, rowChart } from "./charts.js";
import { html, type Html } from "./html.js";
import { formatTime, recordHref, userHref } from "./layout.js";
import type { RecordPage, RecordStats } from "./records_view.js";
import type { ListQuery } from "./schemas.js";
import { usageCard } from "./users_page.js";

/** A row of a memory table (the list and a record's thread). */
export function recordRow(record: MemoryRecord, now: number, highlight = false): Html {
  const current = isCurrent(record, now);
  return html`<tr data-id="${record.id}" class="${highlight ? "current-row" : ""}"><td class="small">${formatTime(record.createdAt)}</td><td>${record.kind}</td>
<td class="num">${record.importance.toFixed(2)}</td>
<td class="${current ? "" : "invalid"}"><a href="${recordHref(record.scope.userId, record.id)}">${record.content.length > 240 ? `${record.content.slice(0, 240)}…` : record.content}</a></td>
<td class="small">${record.scope.threadId ?? record.source.threadId ?? ""}</td></tr>`;
}

function queryString(query: ListQuery, page: number): string {
  const params = new URLSearchParams();
  if (query.kind) params.set("kind", query.kind);
  if (query.thread) params.set("thread", query.thread);
  if (query.validity !== "all") params.set("validity", query.validity);
  if (query.text) params.set("text", query.text);
  if (query.sort !== "newest") params.set("sort", query.sort);
  if (query.size !== 50) params.set("size", String(query.size));
  params.set("page", String(page));
  return params.toString();
}

/** `/users/:user`: charts, filters, one page of memories, the search box, and (with --allow-edit) erase. */
export function userBody(userId: string, stats: RecordStats, view: RecordPage, query: ListQuery, usage: UsageReport, allowEdit: boolean, now: number): Html {
  const option = (value: string, selected: string | undefined, label = value) => html`<option value="${value}" ${value === (selected ?? "") ? html`selected` : ""}>${label}</option>`;
  const base = userHref(userId);
  const pager = html`<p class="pager">${view.page > 1 ? html`<a rel="prev" href="${base}?${queryString(query, view.page - 1)}">← newer page</a> ` : ""}
page <span data-page>${view.page}</span> of <span data-pages>${view.pages}</span> · <span data-matching>${view.matching}</span> matching
${view.page < view.pages ? html` <a rel="next" href="${base}?${queryString(query, view.page + 1)}">next page →</a>` : ""}</p>`;
  return html`<h1>${userId} <span class="muted small">${stats.total} memories${stats.invalid > 0 ? `, ${stats.invalid} no longer valid` : ""}</span></h1>
<form class="filters" method="get" action="${base}/search" id="search-form"><label>Search (ranked, with score parts)<input name="q" size="40" required placeholder="what did they say about…"></label><button>Search</button></form>
<div class="cards">
<div class="card"><h2>Memories per day</h2>${columnChart(stats.perDay.map((d) => ({ label: d.day, value: d.count })), { name: "per-day" })}</div>
<div class="card"><h2>Importance</h2>${columnChart(stats.importance.map((value, i) => ({ label: (i / 10).toFixed(1), value })), { name: "importance", width: 300 })}</div>
<div class="card"><h2>Kinds</h2>${rowChart(MEMORY_KINDS.map((kind) => ({ label: kind, value: stats.byKind[kind] })), { name: "kinds", width: 300 })}</div>
</div>
<h2>Memories</h2>
<form class="filters" method="get" action="${base}" id="filters">
<label>kind<select name="kind">${option("", query.kind, "any")}${MEMORY_KINDS.map((kind) => option(kind, query.kind))}</select></label>
<label>thread<select name="thread">${option("", query.thread, "any")}${stats.threads.map((thread) => option(thread, query.thread))}</select></label>
<label>validity<select name="validity">${option("all", query.validity)}${option("current", query.validity)}${option("invalid", query.validity, "no longer valid")}</select></label>
<label>text<input name="text" value="${query.text ?? ""}"></label>
<label>sort<select name="sort">${option("newest", query.sort, "newest first")}${option("oldest", query.sort, "oldest first")}${option("importance", query.sort, "most important")}</select></label>
<label>per page<select name="size">${[20, 50, 100, 200].map((n) => option(String(n), String(query.size)))}</select></label>
<button>Apply</button></form>
${pager}
<table id="memories"><thead><tr><th>created (UTC)</th><th>kind</th><th class="num">importance</th><th>content</th><th>thread</th></tr></thead>
<tbody>${view.records.map((record) => recordRow(record, now))}</tbody></table>
${pager}
<div class="cards">${usageCard(usage, "user")}</div>
${allowEdit ? html`<h2>Erase this user</h2><form id="erase"><p class="small">Removes every memory, history entry, queued write and token count of this user. Type the user id to confirm.</p>
<label>user id<input name="confirm" autocomplete="off"></label> <button class="danger">Erase ${userId}</button></form><p id="status"></p>` : ""}`;
}

/** Erase: the typed id goes to the server, which compares it too. */
export const ERASE_SCRIPT = `
const erase = document.getElementById("erase");
if (erase) erase.addEventListener("submit", async (event) => {
  event.preventDefault();
  const confirm = erase.elements.confirm.value;
  const result = await send("POST", "/api" + location.pathname + "/erase", { confirm });
  document.getElementById("status").textContent = "Erased: " + result.deleted + " memories, " + result.history + " history entries.";
});
`;

import type { UsageReport } from "../memory/usage.js";
import { rowChart } from "./charts.js";
import { html, type Html } from "./html.js";
import { formatTime, userHref } from "./layout.js";
import type { UserSummary } from "./source.js";

/** The model tokens memory added, as a card: totals and a bar per kind of call. */
export function usageCard(report: UsageReport, name: string): Html {
  const kinds = Object.entries(report.byKind).map(([label, totals]) => ({ label, value: totals.totalTokens }));
  return html`<div class="card usage" data-usage="${name}">
<h2>What memory costs</h2>
<p><strong data-total-tokens>${report.total.totalTokens}</strong> tokens in <span data-calls>${report.total.calls}</span> model calls
(${report.total.inputTokens} in, ${report.total.outputTokens} out)${report.total.unreported > 0 ? html`; ${report.total.unreported} calls reported no usage` : ""}.</p>
${rowChart(kinds, { name: `${name}-tokens-by-kind` })}
<p class="small muted">Engram's own calls only: fact extraction, reconciliation, summaries and LLM importance.</p></div>`;
}

/** `/`: every user, with memory counts, last activity and tokens. */
export function usersBody(users: readonly UserSummary[], usage: UsageReport): Html {
  const tokens = new Map(usage.byUser.map((row) => [row.userId, row.total.totalTokens]));
  const rows = users.map(
    (user) => html`<tr data-user="${user.userId}"><td><a href="${userHref(user.userId)}">${user.userId}</a></td>
<td class="num">${user.memories}</td><td>${formatTime(user.lastActivity)}</td><td class="num">${tokens.get(user.userId) ?? 0}</td></tr>`,
  );
  return html`<h1>Users</h1>
<div class="cards"><div class="card" style="flex:1 1 500px">
<table id="users"><thead><tr><th>user</th><th class="num">memories</th><th>last activity (UTC)</th><th class="num">model tokens</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="4" class="muted">No memories in this store yet.</td></tr>`}</tbody></table></div>
${usageCard(usage, "all")}</div>`;
}

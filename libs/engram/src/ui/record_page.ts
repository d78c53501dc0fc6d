import { SUPERSEDED_BY_KEY, SUPERSEDES_KEY, VALID_FROM_KEY, VALID_UNTIL_KEY, isCurrent } from "../consolidation/validity.js";
import type { HistoryEntry, MemoryRecord } from "../core/types.js";
import { entitiesOf } from "../scoring/entities.js";
import { html, type Html } from "./html.js";
import { formatTime, recordHref } from "./layout.js";
import { recordRow } from "./user_page.js";

const VALIDITY_KEYS = new Set([VALID_FROM_KEY, VALID_UNTIL_KEY, SUPERSEDED_BY_KEY, SUPERSEDES_KEY, "entities"]);

function timeline(entries: readonly HistoryEntry[]): Html {
  if (entries.length === 0) return html`<p class="muted">No history.</p>`;
  return html`<ol class="timeline" id="history">${entries.map(
    (entry) => html`<li class="${entry.event}" data-event="${entry.event}"><strong>${entry.event}</strong> <span class="small muted">${formatTime(entry.at)} · ${entry.reason ?? ""}</span>
${entry.oldContent !== null && entry.event !== "DELETE" ? html`<div class="small invalid">${entry.oldContent}</div>` : ""}
<div>${entry.newContent ?? html`<span class="muted">(removed)</span>`}</div></li>`,
  )}</ol>`;
}

function validity(record: MemoryRecord, now: number): Html {
  const meta = record.metadata;
  const time = (key: string) => (typeof meta[key] === "number" ? formatTime(meta[key] as number) : undefined);
  const link = (key: string) =>
    typeof meta[key] === "string" ? String(meta[key]).split(",").filter(Boolean).map((id) => html`<a href="${recordHref(record.scope.userId, id)}">${id.slice(0, 12)}…</a> `) : "–";
  return html`<table class="small"><tr><th>now</th><td data-valid="${isCurrent(record, now) ? "current" : "invalid"}">${isCurrent(record, now) ? "current" : "no longer valid"}</td></tr>
<tr><th>valid from</th><td>${time(VALID_FROM_KEY) ?? "–"}</td></tr><tr><th>valid until</th><td>${time(VALID_UNTIL_KEY) ?? "–"}</td></tr>
<tr><th>expires</th><td>${record.expiresAt ? formatTime(record.expiresAt) : "–"}</td></tr>
<tr><th>supersedes</th><td>${link(SUPERSEDES_KEY)}</td></tr><tr><th>superseded by</th><td>${link(SUPERSEDED_BY_KEY)}</td></tr></table>`;
}

/**
 * `/users/:user/memories/:id`: a record (or what is left of a deleted one: its history). The edit
 * form's importance takes any value in 0..1 (step "any"): scorers store values such as 0.42, and a
 * coarser step made the browser refuse to submit the form, so such a memory could not be edited.
 */
export function recordBody(userId: string, id: string, record: MemoryRecord | null, entries: readonly HistoryEntry[], thread: readonly MemoryRecord[], allowEdit: boolean, now: number): Html {
  const head = html`<h1>Memory <code class="small">${id}</code></h1>`;
  if (!record) return html`${head}<p id="gone"><strong>Not in the store</strong> (deleted, or never written for this user).</p><h2>History</h2>${timeline(entries)}`;
  const others = Object.entries(record.metadata).filter(([key]) => !VALIDITY_KEYS.has(key));
  return html`${head}
<pre class="content" id="content">${record.content}</pre>
<div class="cards">
<div class="card"><h2>Record</h2><table class="small">
<tr><th>kind</th><td>${record.kind}</td></tr><tr><th>importance</th><td id="importance">${record.importance.toFixed(2)}</td></tr>
<tr><th>role</th><td>${record.role ?? "–"}</td></tr><tr><th>created</th><td>${formatTime(record.createdAt)}</td></tr>
<tr><th>updated</th><td>${formatTime(record.updatedAt)}</td></tr><tr><th>agent</th><td>${record.scope.agentId ?? "–"}</td></tr>
<tr><th>thread</th><td>${record.scope.threadId ?? "–"}</td></tr>
<tr><th>source thread</th><td>${record.source.threadId ?? "–"}</td></tr>
<tr><th>source messages</th><td>${(record.source.messageIds ?? []).map((m) => html`<span class="pill">${m}</span>`)}</td></tr></table></div>
<div class="card"><h2>Entities</h2><p id="entities">${entitiesOf(record.metadata).map((name) => html`<span class="pill">${name}</span>`)}${entitiesOf(record.metadata).length === 0 ? html`<span class="muted">none found</span>` : ""}</p>
<h2>Metadata</h2>${others.length === 0 ? html`<p class="muted">none</p>` : html`<table class="small">${others.map(([key, value]) => html`<tr><th>${key}</th><td>${String(value)}</td></tr>`)}</table>`}</div>
<div class="card"><h2>Validity</h2>${validity(record, now)}</div>
</div>
<h2>History</h2>${timeline(entries)}
${thread.length > 0 ? html`<h2>Its thread (${thread.length} memories)</h2><table id="thread"><tbody>${thread.map((item) => recordRow(item, now, item.id === record.id))}</tbody></table>` : ""}
${allowEdit ? html`<h2>Edit</h2><form id="edit"><label>content<textarea name="content" rows="4" cols="80">${record.content}</textarea></label>
<label>importance<input name="importance" type="number" min="0" max="1" step="any" value="${record.importance}"></label>
<p><button>Save</button> <button type="button" class="danger" id="delete">Delete this memory</button></p></form><p id="status"></p>` : ""}`;
}

/** Edit and delete through the JSON API (which goes through `Memory.update` / `Memory.delete`). */
export const RECORD_SCRIPT = `
const edit = document.getElementById("edit");
if (edit) {
  const api = "/api" + location.pathname;
  edit.addEventListener("submit", async (event) => {
    event.preventDefault();
    await send("PATCH", api, { content: edit.elements.content.value, importance: Number(edit.elements.importance.value) });
    location.reload();
  });
  document.getElementById("delete").addEventListener("click", async () => {
    if (!window.confirm("Delete this memory? Its history stays.")) return;
    await send("DELETE", api);
    location.reload();
  });
}
`;

import { isCurrent } from "../consolidation/validity.js";
import type { ScoredMemory } from "../core/types.js";
import { DEFAULT_RANKER } from "../scoring/ranker.js";
import { SCORE_PARTS, scoreBar, scoreLegend, type ScoreBreakdown } from "./charts.js";
import { html, type Html } from "./html.js";
import { recordHref, userHref } from "./layout.js";
import type { SearchQuery } from "./schemas.js";

/** The weights a search ran with: those asked for, the defaults for the rest. */
export function weightsOf(query: SearchQuery): ScoreBreakdown {
  return {
    relevance: query.relevance ?? DEFAULT_RANKER.relevance,
    lexical: query.lexical ?? DEFAULT_RANKER.lexical,
    recency: query.recency ?? DEFAULT_RANKER.recency,
    importance: query.importance ?? DEFAULT_RANKER.importance,
    neighbour: query.neighbour ?? DEFAULT_RANKER.neighbour,
  };
}

/** The ranked results with a score bar each: the fragment the weight sliders reload. */
export function resultsFragment(hits: readonly ScoredMemory[], weights: ScoreBreakdown, now: number): Html {
  if (hits.length === 0) return html`<p class="muted" id="no-results">Nothing found.</p>`;
  const rows = hits.map(
    (hit, rank) => html`<tr data-id="${hit.id}" data-score="${hit.score.toFixed(4)}"><td class="num">${rank + 1}</td>
<td class="num">${hit.score.toFixed(3)}</td><td>${scoreBar(hit.scoreParts, weights)}<div class="small muted">${SCORE_PARTS.map((part) => `${part} ${hit.scoreParts[part].toFixed(2)}`).join(" · ")}</div></td>
<td>${hit.kind}</td><td class="${isCurrent(hit, now) ? "" : "invalid"}"><a href="${recordHref(hit.scope.userId, hit.id)}">${hit.content.length > 200 ? `${hit.content.slice(0, 200)}…` : hit.content}</a></td></tr>`,
  );
  return html`<table id="results"><thead><tr><th class="num">#</th><th class="num">score</th><th>what the score is made of</th><th>kind</th><th>content</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** `/users/:user/search`: the query, the ranker's weights as sliders, and the results. */
export function searchBody(userId: string, query: SearchQuery, weights: ScoreBreakdown, results: Html): Html {
  const slider = (part: keyof ScoreBreakdown) =>
    html`<label>${part} <output id="w-${part}-value">${weights[part]}</output><input type="range" id="w-${part}" name="${part}" min="0" max="3" step="0.05" value="${weights[part]}"></label>`;
  return html`<h1>Search ${userId}'s memories</h1>
<form class="filters" method="get" action="${userHref(userId)}/search" id="search-form">
<label>query<input name="q" size="50" value="${query.q}" required></label>
<label>results<input name="limit" type="number" min="1" max="100" value="${query.limit}"></label>
<label>include no longer valid<select name="includeInvalid"><option value="false">no</option><option value="true" ${query.includeInvalid === "true" ? html`selected` : ""}>yes</option></select></label>
<button>Search</button>
<div class="card" style="width:100%"><strong>Ranker weights</strong> <span class="small muted">(change one: the results are ranked again with it)</span>
<div class="weights">${SCORE_PARTS.map(slider)}</div><div>${scoreLegend()}</div></div>
</form>
<p id="status" class="small muted"></p>
<div id="results-box">${results}</div>`;
}

/**
 * Moving a slider asks the server for the results again with the new weights (the fragment route).
 * Only the newest request's answer is shown: an earlier one that answers late (a slow search on a
 * busy server) must not put back the ranking of weights the page no longer shows.
 */
export const SEARCH_SCRIPT = `
const form = document.getElementById("search-form");
let pending;
let newest = 0;
form.addEventListener("input", (event) => {
  if (event.target.type !== "range") return;
  document.getElementById(event.target.id + "-value").textContent = event.target.value;
  clearTimeout(pending);
  pending = setTimeout(async () => {
    const request = ++newest;
    const params = new URLSearchParams(new FormData(form));
    history.replaceState(null, "", location.pathname + "?" + params);
    const response = await fetch(location.pathname + "/results?" + params, { headers: { "x-engram-token": TOKEN } });
    const fragment = await response.text();
    if (request !== newest) return;
    document.getElementById("results-box").innerHTML = fragment;
    document.getElementById("status").textContent = "Ranked again with " + params.toString().split("&").filter((p) => !p.startsWith("q=") && !p.startsWith("limit=") && !p.startsWith("includeInvalid=")).join(", ");
  }, 150);
});
`;

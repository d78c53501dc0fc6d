import { Hono, type Context } from "hono";
import type { z } from "zod";
import { isEngramError } from "../core/errors.js";
import { page } from "./layout.js";
import { recordBody, RECORD_SCRIPT } from "./record_page.js";
import { pageOf, statsOf, threadOf } from "./records_view.js";
import { eraseBodySchema, idSchema, listQuerySchema, patchBodySchema, searchQuerySchema, type SearchQuery } from "./schemas.js";
import { resultsFragment, searchBody, SEARCH_SCRIPT, weightsOf } from "./search_page.js";
import { guard, type GuardVariables } from "./security.js";
import type { InspectorSource } from "./source.js";
import { userBody, ERASE_SCRIPT } from "./user_page.js";
import { usersBody } from "./users_page.js";

export interface InspectorAppOptions {
  source: InspectorSource;
  token: string;
  /** The token cookie's name (security.ts `newCookieName`). */
  cookieName: string;
  allowEdit: boolean;
  /** Host headers answered (security.ts `allowedHosts`); undefined answers any. */
  hosts?: ReadonlySet<string>;
  /** @default Date.now */
  clock?: () => number;
  /** Where an unexpected failure is told (the CLI's terminal). @default nowhere */
  log?: (message: string) => void;
}

type Env = { Variables: GuardVariables };

/** Thrown by `parse` for input the schema refuses: answered 400 with zod's explanation. */
class BadInput extends Error {}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new BadInput(result.error.issues.map((issue) => `${issue.path.join(".") || "input"}: ${issue.message}`).join("; "));
  return result.data;
}

/**
 * The inspector's routes: HTML pages and the JSON API they (and scripts) use. Every route is behind
 * `guard` (token, host, origin, --allow-edit); every input is parsed by a zod schema (schemas.ts);
 * every change goes through `Memory`, so history and the outbox stay right.
 */
export function createInspectorApp(options: InspectorAppOptions): Hono<Env> {
  const { source, allowEdit } = options;
  const memory = source.memory;
  const clock = options.clock ?? Date.now;
  const app = new Hono<Env>();
  app.use("*", guard({ token: options.token, cookieName: options.cookieName, allowEdit, ...(options.hosts ? { hosts: options.hosts } : {}) }));

  const frame = (c: Context<Env>, title: string, crumbs: Array<{ href?: string; label: string }> = []) => ({
    title,
    nonce: c.get("nonce"),
    token: options.token,
    allowEdit,
    crumbs,
  });
  const userParam = (c: Context<Env>) => parse(idSchema, c.req.param("user"));
  const idParam = (c: Context<Env>) => parse(idSchema, c.req.param("id"));
  const search = (userId: string, query: SearchQuery) =>
    memory.search(query.q, {
      userId,
      limit: query.limit,
      includeInvalid: query.includeInvalid === "true",
      // Ranked by the parts the score bars and sliders show: the date and session boosts, which
      // have no bar, are off here (a bar would not add up to the score).
      ranker: { ...weightsOf(query), dates: 0, session: 0 },
    });

  // ---- pages
  app.get("/", async (c) => c.html(page(frame(c, "Users"), usersBody(await source.users(), await memory.usage()))));

  app.get("/users/:user", async (c) => {
    const userId = userParam(c);
    const query = parse(listQuerySchema, c.req.query());
    const records = await source.records(userId);
    const now = clock();
    const body = userBody(userId, statsOf(records, now), pageOf(records, query, now), query, await memory.usage({ userId }), allowEdit, now);
    return c.html(page(frame(c, userId, [{ label: userId }]), body, ERASE_SCRIPT));
  });

  app.get("/users/:user/search", async (c) => {
    const userId = userParam(c);
    const query = parse(searchQuerySchema, c.req.query());
    const weights = weightsOf(query);
    const results = resultsFragment(await search(userId, query), weights, clock());
    const crumbs = [{ href: `/users/${encodeURIComponent(userId)}`, label: userId }, { label: "search" }];
    return c.html(page(frame(c, `Search ${userId}`, crumbs), searchBody(userId, query, weights, results), SEARCH_SCRIPT));
  });

  app.get("/users/:user/search/results", async (c) => {
    const userId = userParam(c);
    const query = parse(searchQuerySchema, c.req.query());
    return c.html(resultsFragment(await search(userId, query), weightsOf(query), clock()).value);
  });

  app.get("/users/:user/memories/:id", async (c) => {
    const userId = userParam(c);
    const id = idParam(c);
    // History first: it applies the user's writes still queued in the outbox (the app's, left by
    // an outage), so the record read next is the one the history ends with.
    const entries = await memory.history(id, { userId });
    const record = await source.record(userId, id);
    const threadId = record?.scope.threadId ?? record?.source.threadId;
    const thread = threadId === undefined ? [] : threadOf(await source.records(userId), threadId);
    const crumbs = [{ href: `/users/${encodeURIComponent(userId)}`, label: userId }, { label: id.slice(0, 12) }];
    return c.html(page(frame(c, `Memory ${id}`, crumbs), recordBody(userId, id, record, entries, thread, allowEdit, clock()), RECORD_SCRIPT));
  });

  // ---- JSON API
  app.get("/api/users", async (c) => c.json({ users: await source.users() }));
  app.get("/api/usage", async (c) => {
    const user = c.req.query("user");
    return c.json(await memory.usage(user === undefined ? {} : { userId: parse(idSchema, user) }));
  });
  app.get("/api/users/:user/memories", async (c) => {
    const query = parse(listQuerySchema, c.req.query());
    return c.json(pageOf(await source.records(userParam(c)), query, clock()));
  });
  app.get("/api/users/:user/memories/:id", async (c) => {
    const userId = userParam(c);
    const id = idParam(c);
    const history = await memory.history(id, { userId }); // first: see the page's route
    const record = await source.record(userId, id);
    if (!record && history.length === 0) return c.json({ error: { code: "NOT_FOUND", message: `No memory ${id} for this user.` } }, 404);
    return c.json({ record, history });
  });
  app.get("/api/users/:user/search", async (c) => {
    const userId = userParam(c);
    const query = parse(searchQuerySchema, c.req.query());
    return c.json({ weights: weightsOf(query), results: await search(userId, query) });
  });

  app.patch("/api/users/:user/memories/:id", async (c) => {
    const userId = userParam(c);
    const body = parse(patchBodySchema, await c.req.json().catch(() => undefined));
    return c.json({ record: await memory.update(idParam(c), body, { userId }) });
  });
  app.delete("/api/users/:user/memories/:id", async (c) => {
    await memory.delete(idParam(c), { userId: userParam(c) });
    return c.json({ deleted: true });
  });
  app.post("/api/users/:user/erase", async (c) => {
    const userId = userParam(c);
    const body = parse(eraseBodySchema, await c.req.json().catch(() => undefined));
    if (body.confirm !== userId) throw new BadInput("confirm: type the user's id exactly to erase them.");
    return c.json(await memory.deleteAll({ userId }));
  });

  app.notFound((c) => c.json({ error: { code: "NOT_FOUND", message: "No such page." } }, 404));
  app.onError((error, c) => {
    if (error instanceof BadInput) return c.json({ error: { code: "INVALID_INPUT", message: error.message } }, 400);
    if (isEngramError(error)) {
      const status =
        error.code === "NOT_FOUND" ? 404
        : error.code === "STORE_UNAVAILABLE" ? 503
        : error.code === "EMBEDDINGS_MISMATCH" ? 409
        : error.code.startsWith("INVALID") || error.code === "CONTENT_TOO_LARGE" ? 400
        : 500;
      return c.json({ error: { code: error.code, message: error.message } }, status);
    }
    options.log?.(`engram ui: ${c.req.method} ${c.req.path} failed: ${error.stack ?? error.message}\n`);
    return c.json({ error: { code: "INTERNAL", message: "The inspector failed on this request; see its terminal." } }, 500);
  });
  return app;
}

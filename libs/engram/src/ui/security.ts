import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";

/**
 * Name of the cookie that carries the token after the first visit (HttpOnly: page scripts never
 * read it). One name per inspector: cookies ignore ports, so two inspectors on 127.0.0.1 would
 * otherwise overwrite each other's.
 */
export function newCookieName(): string {
  return `engram_ui_${randomBytes(4).toString("hex")}`;
}
/** The header a page's script (or a client) sends the token in; required on every change. */
export const TOKEN_HEADER = "x-engram-token";
/** The query parameter of the printed URL. */
export const TOKEN_QUERY = "token";

/** A random access token, as Jupyter prints one: 32 bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export interface GuardOptions {
  token: string;
  /** From `newCookieName()`. */
  cookieName: string;
  /** Host headers this server answers to (`127.0.0.1:port`...); undefined accepts any (an explicit wildcard `--host`). */
  hosts?: ReadonlySet<string>;
  /** Whether changes (non-GET requests) are allowed at all. */
  allowEdit: boolean;
}

/** What the guard leaves for the handlers. */
export interface GuardVariables {
  /** Nonce of this response's inline scripts (the content security policy allows only these). */
  nonce: string;
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

/**
 * Every request passes here first, whatever its route (an unknown route answers 404 only to a
 * holder of the token):
 * 1. the Host header must be this server's (a DNS-rebinding page cannot borrow the browser);
 * 2. the token, from the `x-engram-token` header, the cookie, or once in the query (then set as an
 *    HttpOnly SameSite=Strict cookie and redirected away, so it does not stay in the address bar)
 *    or 401;
 * 3. a change (any method but GET and HEAD) must come from this origin (Origin and Sec-Fetch-Site,
 *    when the browser sends them) and carry the token in the header, not only in the cookie (a
 *    cookie is sent to 127.0.0.1 by pages on any other port: same site, other origin), or 403;
 *    and changes need `--allow-edit`, or 403.
 */
export function guard(options: GuardOptions): MiddlewareHandler<{ Variables: GuardVariables }> {
  const expected = Buffer.from(options.token);
  const matches = (candidate: string | undefined): boolean => {
    if (candidate === undefined) return false;
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  return async (c, next) => {
    const host = c.req.header("host") ?? "";
    if (options.hosts && !options.hosts.has(host.toLowerCase())) return refuse(c, 403, "This server does not answer to that host name.");
    const header = c.req.header(TOKEN_HEADER);
    const query = c.req.query(TOKEN_QUERY);
    const authorized = matches(header) || matches(getCookie(c, options.cookieName)) || matches(query);
    if (!authorized) return refuse(c, 401, "A valid token is required: open the URL `engram ui` printed.");
    const safe = SAFE_METHODS.has(c.req.method);
    if (safe && query !== undefined && !c.req.path.startsWith("/api/")) {
      setCookie(c, options.cookieName, options.token, { httpOnly: true, sameSite: "Strict", path: "/" });
      const url = new URL(c.req.url);
      url.searchParams.delete(TOKEN_QUERY);
      // One leading slash: a path such as "//evil.example/" would send the browser to that host.
      return c.redirect(`${url.pathname.replace(/^\/+/, "/")}${url.search}`, 303);
    }
    if (!safe) {
      const origin = c.req.header("origin");
      const site = c.req.header("sec-fetch-site");
      if ((origin !== undefined && origin !== `${new URL(c.req.url).protocol}//${host}`) || (site !== undefined && site !== "same-origin")) {
        return refuse(c, 403, "Changes are accepted from this inspector's own pages only.");
      }
      if (!matches(header)) return refuse(c, 403, `Changes need the token in the ${TOKEN_HEADER} header.`);
      if (!options.allowEdit) return refuse(c, 403, "This inspector is read-only: start it with --allow-edit to change memories.");
    }
    const nonce = randomBytes(16).toString("base64");
    c.set("nonce", nonce);
    await next();
    c.header(
      "Content-Security-Policy",
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "no-store");
  };
}

function refuse(c: Context, status: 401 | 403, message: string): Response {
  const wantsJson = c.req.path.startsWith("/api/") || (c.req.header("accept") ?? "").includes("application/json");
  c.header("Cache-Control", "no-store");
  return wantsJson ? c.json({ error: { code: status === 401 ? "UNAUTHORIZED" : "FORBIDDEN", message } }, status) : c.text(message, status);
}

/** The Host headers a server bound to `host:port` answers to. Undefined (any) for a wildcard bind. */
export function allowedHosts(host: string, port: number): ReadonlySet<string> | undefined {
  if (host === "0.0.0.0" || host === "::" || host === "[::]") return undefined;
  const names = new Set([host, "127.0.0.1", "localhost", "[::1]"].map((name) => `${name.includes(":") && !name.startsWith("[") ? `[${name}]` : name}:${port}`.toLowerCase()));
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "::1") {
    // Bound elsewhere explicitly: that name only (plus loopback names when they are bound too).
    return new Set([`${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`.toLowerCase()]);
  }
  return names;
}

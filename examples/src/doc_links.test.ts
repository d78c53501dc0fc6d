/**
 * Every relative link of README.md, docs/*.md and the package's README reaches something: the
 * file exists, and a `#anchor` names a heading of the target page as GitHub renders it (or an
 * explicit `<a id>`). A renamed heading or a moved file otherwise leaves a reader on the top of a
 * page, or on a 404, with nothing failing. Links inside code (fenced blocks, inline `code`) are
 * text, not links, and are left alone.
 */
import { describe, expect, it } from "@jest/globals";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { docPages } from "./tests/doc_blocks.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The page without what is code: fenced blocks and inline code spans. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, "").replace(/(`+)[^`\n]*?\1/g, "");
}

/** GitHub's anchor of a heading: lower case, punctuation dropped (`-` and `_` kept), spaces to `-`. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1") // a link's text only
    .replace(/<[^>]+>/g, "")
    .replace(/`/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors a page offers: one per heading (a repeated one gets `-1`, `-2`...), and `<a id/name>`. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutFences = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, "");
  for (const match of withoutFences.matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const base = slug(match[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const match of withoutFences.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]!);
  return anchors;
}

/** Each relative link of `page` that does not resolve, as `link: why`. */
function brokenLinks(page: string, text: string, read: (path: string) => string | undefined): string[] {
  const broken: string[] = [];
  for (const match of prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const href = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // https:, mailto:
    const hash = href.indexOf("#");
    const path = hash === -1 ? href : href.slice(0, hash);
    const anchor = hash === -1 ? undefined : decodeURIComponent(href.slice(hash + 1));
    const target = path === "" ? page : normalize(join(dirname(page), decodeURIComponent(path)));
    const targetText = read(target);
    if (targetText === undefined) {
      broken.push(`${href}: no file ${target}`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!target.endsWith(".md")) broken.push(`${href}: an anchor into ${target}, which is not a page`);
    else if (!anchorsOf(targetText).has(anchor)) broken.push(`${href}: ${target} has no heading whose anchor is #${anchor}`);
  }
  return broken;
}

/** A repository file's text ("" for a folder), or undefined when there is none. */
function readRepo(path: string): string | undefined {
  const full = join(ROOT, path);
  if (relative(ROOT, full).startsWith("..") || !existsSync(full)) return undefined;
  return statSync(full).isDirectory() ? "" : readFileSync(full, "utf8");
}

const pages = await docPages(ROOT);

describe("links in README.md and docs/", () => {
  it("anchors are GitHub's", () => {
    expect(slug("Moving a folder to another model: `engram reembed`")).toBe("moving-a-folder-to-another-model-engram-reembed");
    expect(slug("Disk: about 23 MB per user, whatever the user holds")).toBe("disk-about-23-mb-per-user-whatever-the-user-holds");
    expect(slug("The map into USE-Lite's space, and what limits both vectors")).toBe("the-map-into-use-lites-space-and-what-limits-both-vectors");
    expect(slug("Static or USE-Lite: the figures")).toBe("static-or-use-lite-the-figures");
  });

  it("finds a broken file, a broken anchor and a repeated heading's anchor", () => {
    const files: Record<string, string> = { "docs/a.md": "# Title\n\n## Same\n\n## Same\n", "docs/b.md": "" };
    const read = (path: string) => files[path];
    const text = "[ok](a.md#same-1) [self](#top) [gone](c.md) [bad](a.md#nope) `[code](c.md)`\n```\n[fenced](c.md)\n```\n";
    expect(brokenLinks("docs/b.md", text, read)).toEqual([
      "#top: docs/b.md has no heading whose anchor is #top",
      "c.md: no file docs/c.md",
      "a.md#nope: docs/a.md has no heading whose anchor is #nope",
    ]);
  });

  it.each(pages)("%s: every relative link reaches a file, and every anchor a heading", (page) => {
    expect(brokenLinks(page, readRepo(page)!, readRepo)).toEqual([]);
  });
});

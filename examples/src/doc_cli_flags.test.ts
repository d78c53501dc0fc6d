/**
 * What docs/cli.md, docs/inspector.md and docs/mcp.md say about the `engram` command line is what
 * the program parses: every command of the program is in cli.md's table, every flag a row names
 * is an option of that command, the options every user command takes are options of each of them,
 * and a default the pages state (`--limit` default 100, `--data-dir` `.engram`...) is the
 * program's. Read from `buildProgram()` (what `engram --help` prints), so nothing runs.
 */
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command, Option } from "commander";
import { buildProgram } from "../../libs/engram/src/cli/program.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const page = (name: string) => readFileSync(join(ROOT, "docs", name), "utf8");

/** Every runnable command by its full name (`list`, `server start`), help aside. */
function commands(program: Command): Map<string, Command> {
  const out = new Map<string, Command>();
  const walk = (command: Command, prefix: string) => {
    for (const sub of command.commands) {
      const name = `${prefix}${sub.name()}`;
      if (sub.commands.length > 0) walk(sub, `${name} `);
      else out.set(name, sub);
    }
  };
  walk(program, "");
  return out;
}

const byName = commands(buildProgram());
const option = (command: Command, flag: string): Option | undefined => command.options.find((o) => o.long === flag);

/** An option's default: commander's, or the one its help text states ("... (default 8000)"). */
function defaultOf(o: Option): string {
  if (o.defaultValue !== undefined) return String(o.defaultValue);
  return /\(default ([\w.]+)\)$/.exec(o.description)?.[1] ?? "(none)";
}

/** The rows of the first markdown table after `heading` text, as cells. */
function tableAfter(text: string, marker: string): string[][] {
  const start = text.indexOf(marker);
  expect(start).toBeGreaterThanOrEqual(0);
  const lines = text.slice(start).split("\n");
  const first = lines.findIndex((line) => line.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
  }
  return rows;
}

/** Flags a text names as options of its command: `--x`, except those it says are not taken ("not `--user`"). */
function flagsNamed(text: string): string[] {
  return [...text.matchAll(/--[a-z][\w-]*/g)]
    .filter((match) => !/not `?$/.test(text.slice(0, match.index)))
    .map((match) => match[0])
    .filter((flag) => flag !== "--help");
}

/** Defaults a text states for flags: "`--limit` default 100", "`--max-content-chars` (default 8,000". */
function defaultsStated(text: string): Array<[string, string]> {
  return [...text.matchAll(/`(--[a-z][\w-]*)`\s+\(?default\s+([\w.,]+)/g)].map((match) => [match[1]!, match[2]!.replace(/,/g, "").replace(/\.$/, "")]);
}

const CLI = page("cli.md");
const commandRows = tableAfter(CLI, "## Commands");

describe("docs/cli.md's commands table", () => {
  it("has a row for every command of the program", () => {
    const documented = commandRows.map(([cell]) => /^`engram ([a-z-]+(?: (?:start|status))?)/.exec(cell!)?.[1]);
    expect(documented.filter(Boolean).sort()).toEqual([...byName.keys()].sort());
  });

  it.each(commandRows.map((row) => [row[0]!, row] as const))("%s: every flag it names is an option of the command, with the default it states", (_name, row) => {
    const name = /^`engram ([a-z-]+(?: (?:start|status))?)/.exec(row[0]!)![1]!;
    const command = byName.get(name)!;
    const text = row.join(" ");
    expect(flagsNamed(text).filter((flag) => option(command, flag) === undefined)).toEqual([]);
    for (const [flag, value] of defaultsStated(text)) expect([flag, defaultOf(option(command, flag)!)]).toEqual([flag, value]);
  });

  it("the options every user command takes are options of each command that takes --user, with the default shown", () => {
    const rows = tableAfter(CLI, "Every command that opens a user's memory takes:");
    const users = [...byName].filter(([, command]) => option(command, "--user") !== undefined);
    expect(users.length).toBeGreaterThan(5);
    for (const [flagCell, defaultCell] of rows) {
      const flag = /`(--[\w-]+)/.exec(flagCell!)![1]!;
      for (const [name, command] of users) {
        const found = option(command, flag);
        expect([name, flag, found !== undefined]).toEqual([name, flag, true]);
        const literal = /^`([^`]+)`$/.exec(defaultCell!)?.[1]?.replace(/^"|"$/g, "");
        if (literal !== undefined) expect([name, flag, found!.defaultValue]).toEqual([name, flag, literal]);
      }
    }
  });
});

describe("docs/inspector.md's options of engram ui", () => {
  it("each is an option of `engram ui`, with the default shown", () => {
    const ui = byName.get("ui")!;
    for (const [flagCell, defaultCell] of tableAfter(page("inspector.md"), "| option | default | meaning |")) {
      const flag = /`(--[\w-]+)/.exec(flagCell!)![1]!;
      expect([flag, option(ui, flag) !== undefined]).toEqual([flag, true]);
      const literal = /^`([^`]+)`$/.exec(defaultCell!)?.[1];
      if (literal !== undefined) expect([flag, option(ui, flag)!.defaultValue]).toEqual([flag, literal]);
    }
    // And the other way: every option of `engram ui` is in the table.
    const documented = tableAfter(page("inspector.md"), "| option | default | meaning |").map(([cell]) => /`(--[\w-]+)/.exec(cell!)![1]);
    expect(ui.options.map((o) => o.long).filter((flag) => flag !== "--help" && !documented.includes(flag))).toEqual([]);
  });
});

describe("docs/mcp.md's flags of engram mcp", () => {
  it("each is an option of `engram mcp`", () => {
    const mcp = byName.get("mcp")!;
    expect(flagsNamed(page("mcp.md")).filter((flag) => option(mcp, flag) === undefined)).toEqual([]);
  });
});

describe("the checks can fail", () => {
  it("finds a flag a command does not take, and reads stated defaults", () => {
    expect(flagsNamed("`engram list --user U [--frob]` takes `--data-dir`, not `--user`")).toEqual(["--user", "--frob", "--data-dir"]);
    expect(option(byName.get("list")!, "--frob")).toBeUndefined();
    expect(defaultsStated("(`--limit` default 100); `--max-content-chars` (default 8,000, up to 1,000,000)")).toEqual([
      ["--limit", "100"],
      ["--max-content-chars", "8000"],
    ]);
  });
});

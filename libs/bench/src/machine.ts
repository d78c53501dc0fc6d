/** Describes the machine a benchmark ran on, for the JSON and markdown reports. */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";

export interface MachineInfo {
  /** `os.cpus().length` */
  cpus: number;
  cpuModel: string;
  /** `process.version`, e.g. `v20.20.2` */
  node: string;
  totalMemBytes: number;
  totalMemGiB: number;
  platform: string;
  arch: string;
  /** Kernel release (`os.release()`). */
  release: string;
  /** Distribution, e.g. `Debian 12.12`, when it can be read. */
  distro?: string;
  /** ISO date-time the info was taken. */
  date: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const totalMemBytes = os.totalmem();
  const info: MachineInfo = {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    node: process.version,
    totalMemBytes,
    totalMemGiB: Math.round((totalMemBytes / 2 ** 30) * 10) / 10,
    platform: os.platform(),
    arch: os.arch(),
    release: os.release(),
    date: new Date().toISOString(),
  };
  const distro = readDistro();
  if (distro) info.distro = distro;
  return info;
}

function readDistro(): string | undefined {
  try {
    if (existsSync("/etc/debian_version")) {
      return `Debian ${readFileSync("/etc/debian_version", "utf8").trim()}`;
    }
    if (existsSync("/etc/os-release")) {
      const match = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"));
      return match?.[1];
    }
  } catch {
    // informational only
  }
  return undefined;
}

/** One markdown line describing the machine, e.g. for a report header. */
export function formatMachine(info: MachineInfo): string {
  return (
    `${info.cpus} × ${info.cpuModel}, ${info.totalMemGiB} GiB RAM, ` +
    `${info.distro ?? `${info.platform} ${info.release}`} (${info.arch}), Node ${info.node}`
  );
}

/** Version of the installed `chromadb` client (its `exports` map hides package.json). */
export function chromadbVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    for (let dir = dirname(require.resolve("chromadb")); dir !== dirname(dir); dir = dirname(dir)) {
      const manifest = join(dir, "package.json");
      if (existsSync(manifest)) {
        const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string };
        if (pkg.name === "chromadb") return pkg.version ?? "unknown";
      }
    }
  } catch {
    // informational only
  }
  return "unknown";
}

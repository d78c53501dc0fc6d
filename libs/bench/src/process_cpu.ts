/** CPU time of other processes (a Chroma server and its workers), for benches that report it. */
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc's times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * Sums `read(pid)` over a process and its descendants, from Linux's /proc; 0 elsewhere or without
 * a pid. A process gone meanwhile counts nothing.
 */
export function sumOverTree(pid: number | undefined, read: (id: number) => number): number {
  if (pid === undefined) return 0;
  let total = 0;
  const visit = (id: number): void => {
    try {
      total += read(id);
      for (const task of readdirSync(`/proc/${id}/task`)) {
        const children = readFileSync(`/proc/${id}/task/${task}/children`, "utf8").trim();
        for (const child of children ? children.split(" ") : []) visit(Number(child));
      }
    } catch {
      // gone meanwhile
    }
  };
  visit(pid);
  return total;
}

/** CPU seconds (user + system) of a process and its descendants (see {@link sumOverTree}). */
export function treeCpuSeconds(pid: number | undefined): number {
  return sumOverTree(pid, (id) => {
    const stat = readFileSync(`/proc/${id}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  });
}

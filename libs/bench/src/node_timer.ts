/**
 * Per-node timing of a memory graph run, from LangGraph's callbacks. Its own file, with no import
 * of engram, so benches that load engram's source (graph_overhead.ts) and those that load its
 * build (graph_replay.ts) share it.
 */
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import { performance } from "node:perf_hooks";

/** The graph's nodes, as `createMemoryGraph` names them. */
export const NODES = ["recall", "model", "score", "remember", "consolidate"] as const;
export type NodeName = (typeof NODES)[number];

/**
 * Times each node of one graph run from LangGraph's callbacks: a node is a chain run whose parent
 * is the graph's own run and whose name is a node's. Handlers are awaited (`awaitHandlers`), so
 * the clock is read when the node starts and ends, not when a background queue gets to it.
 */
export class NodeTimer extends BaseCallbackHandler {
  name = "graph-replay-node-timer";

  override awaitHandlers = true;

  private graphRun: string | undefined;

  private readonly started = new Map<string, { node: NodeName; at: number; cpu: NodeJS.CpuUsage }>();

  /** Milliseconds per node in the current run (a node that did not run is absent). */
  times: Partial<Record<NodeName, number>> = {};

  /** CPU milliseconds of this process (user + system, all its threads) per node in the current run. */
  cpu: Partial<Record<NodeName, number>> = {};

  /** Call before each run. */
  reset(): void {
    this.graphRun = undefined;
    this.started.clear();
    this.times = {};
    this.cpu = {};
  }

  override handleChainStart(
    _chain: Serialized,
    _inputs: unknown,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    _metadata?: Record<string, unknown>,
    _runType?: string,
    runName?: string,
  ): void {
    const at = performance.now();
    if (parentRunId === undefined) {
      this.graphRun = runId;
      return;
    }
    if (parentRunId === this.graphRun && runName !== undefined && (NODES as readonly string[]).includes(runName)) {
      this.started.set(runId, { node: runName as NodeName, at, cpu: process.cpuUsage() });
    }
  }

  override handleChainEnd(_outputs: unknown, runId: string): void {
    const start = this.started.get(runId);
    if (!start) return;
    this.started.delete(runId);
    this.times[start.node] = (this.times[start.node] ?? 0) + performance.now() - start.at;
    const cpu = process.cpuUsage(start.cpu);
    this.cpu[start.node] = (this.cpu[start.node] ?? 0) + (cpu.user + cpu.system) / 1000;
  }

  override handleChainError(_error: unknown, runId: string): void {
    this.started.delete(runId);
  }
}

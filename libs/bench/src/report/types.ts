/**
 * Shapes read from the benchmarks' result JSONs (only what the report uses; everything optional is
 * checked), and the pieces the report is assembled from.
 */
import type { MachineInfo } from "../machine.js";
import type { StoreLayoutParameters } from "../store_layout_params.js";

export interface Summary {
  p50: number;
  p95: number;
}

export type ByK = Record<string, number>;

export interface LocomoScores {
  questions: number;
  recall: ByK;
  hit: ByK;
  tokens: ByK;
}

export interface LocomoResult {
  id: string;
  /** "ablation" rows get their own table; absent in older files (then: ids starting "engram-"). */
  group?: "system" | "ablation";
  name: string;
  description: string;
  /** The embedding model's id, for rows that embed. */
  model?: string;
  ingestSeconds: number;
  /** The row's wall time, CPU time and 1-minute load average before and after (absent in older files). */
  seconds?: number;
  cpuSeconds?: number;
  load?: { start: number; end: number };
  query: Summary;
  add?: Summary;
  scores: { overall: LocomoScores; byCategory: Record<string, LocomoScores> };
  /** Answer recall by k (src/locomo/answer_recall.ts); absent in results written before it. */
  answerRecall?: { overall: { questions: number; recall: ByK }; byCategory: Record<string, { questions: number; recall: ByK }> };
  /** The LLM judge's J (src/locomo/judge.ts), when the run had a server. */
  judge?: {
    reader: string;
    judge: string;
    k: number;
    seconds: number;
    scores: { overall: { questions: number; j: number }; byCategory: Record<string, { questions: number; j: number }>; unreadable: number };
  };
}

/** One row of locomo/lab.ts's cross-validation results (`lab-<model>.json`): held-out means over folds. */
export interface LabRow {
  label: string;
  r5: number;
  r10: number;
  r25: number;
  range: [number, number];
  byCategory: Record<string, number>;
  inSampleR10: number;
  inSampleSetting?: Record<string, number>;
}

/** A lab results file, by model name (`use-lite`, `static`), with its file's date. */
export interface LabResults {
  model: string;
  file: string;
  date: string;
  rows: Record<string, LabRow>;
}

export interface LocomoReport {
  benchmark: "locomo";
  command?: string;
  machine: MachineInfo;
  chromaServerVersion?: string;
  chromadbClient?: string;
  parameters: { data?: string; systems: string[]; conversations?: number; embeddingCache?: boolean; ks?: number[] };
  dataset?: {
    conversations: string[];
    turns: number;
    sessions: number;
    questions: number;
    byCategory: Record<string, number>;
    skipped?: { adversarial: number; noEvidence: number; droppedEvidenceIds: number };
    fullContextTokens?: number;
  };
  embeddings?: { model: string; defaultModel?: string; libraryDefault?: string; embedded?: number; cached?: number };
  load?: { start: number; end: number; mean: number; max: number; samples: number; nice: number; cpus: number };
  reference?: Array<{ method: string; r5: number; r10: number; r25: number }>;
  results: LocomoResult[];
  notes?: string[];
  totalSeconds?: number;
}

export interface OpResult {
  summary: Summary;
  badResults?: number;
}

export interface LayoutResult {
  layout: string;
  description: string;
  ingest: { records: number; seconds: number; recordsPerSec: number };
  search: OpResult;
  add: OpResult;
  probes: Record<string, OpResult>;
  oneTime?: Record<string, OpResult>;
}

export interface StoreLayoutReport {
  benchmark: "store_layout";
  command?: string;
  machine: MachineInfo;
  chromaServerVersion?: string;
  chromadbClient?: string;
  parameters: StoreLayoutParameters;
  notes?: string[];
  results: Array<{ size: number; recordsPerUser: number; layouts: LayoutResult[] }>;
  totalSeconds?: number;
}

/** The convention for any other benchmark's JSON. */
export interface GenericReport {
  title: string;
  markdown: string;
  command?: string;
  machine?: MachineInfo;
  order?: number;
}

export type Loaded =
  | { kind: "locomo"; file: string; data: LocomoReport }
  | { kind: "store_layout"; file: string; data: StoreLayoutReport }
  | { kind: "generic"; file: string; data: GenericReport };

export interface Section {
  order: number;
  /** Anchor-friendly heading, for the table of contents. */
  title: string;
  markdown: string;
}

export interface Chart {
  file: string;
  svg: string;
}

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
  name: string;
  description: string;
  ingestSeconds: number;
  query: Summary;
  add?: Summary;
  scores: { overall: LocomoScores; byCategory: Record<string, LocomoScores> };
  /** Answer recall by k (src/locomo/answer_recall.ts); absent in results written before it. */
  answerRecall?: { overall: { questions: number; recall: ByK }; byCategory: Record<string, { questions: number; recall: ByK }> };
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
  embeddings?: { model: string; embedded: number; cached: number };
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

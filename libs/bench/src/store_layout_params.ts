/**
 * What a store-layout run was asked to do, as recorded in its JSON. Its own module so that the
 * report can read the type without importing store_layout.ts, which runs its CLI when imported.
 */
export interface StoreLayoutParameters {
  sizes: number[];
  users: number;
  dim: number;
  queries: number;
  adds: number;
  warmup: number;
  k: number;
  seed: number;
  batchSize: number;
  layouts: string[];
}

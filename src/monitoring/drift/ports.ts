/**
 * Where drift results are kept: every closed window's check (the record of what a version's traffic
 * looked like, hour by hour by default), newest first on reading, pruned to a count per endpoint.
 */
import type { DriftReport } from './types.js';

/** One stored check. */
export interface DriftResult {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  /** When the check ran, ms since the epoch. */
  readonly at: number;
  readonly report: DriftReport;
}

export interface DriftResultQuery {
  readonly version?: number;
  /** Most results returned, newest first. */
  readonly limit: number;
}

export interface DriftResultStore {
  put(result: DriftResult): Promise<void>;
  /** The endpoint's results, newest first. */
  list(endpoint: string, query: DriftResultQuery): Promise<readonly DriftResult[]>;
  /** Keeps the newest `keep` results of each endpoint; resolves to the number removed. */
  prune(keep: number): Promise<number>;
}

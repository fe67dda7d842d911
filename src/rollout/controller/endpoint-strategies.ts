/**
 * What `slipway apply` leaves on an endpoint besides its target: the strategy that later target
 * changes (an alias move, `slipway endpoints update`, another apply) go through, and — for canary
 * and blue-green endpoints — the stable version the controller holds while the registry's target
 * already names the next one. Synchronous, because the deployment manager asks for the stable
 * version on its reconcile path, between a registry change and the controller's own reaction.
 */
import type { RolloutStrategy } from '../spec/index.js';

/** One endpoint's applied strategy. Times are milliseconds since the epoch. */
export interface EndpointStrategy {
  readonly endpoint: string;
  /** The model it was applied for; null for a record written before the model was kept. */
  readonly model: string | null;
  readonly strategy: RolloutStrategy;
  /**
   * The version serving as stable, moved only by a promotion or a rollback. Meaningful for canary
   * and blue-green (which roll out the endpoint's own target); for experiment and shadow the
   * registry's target is the stable version and this mirrors it.
   */
  readonly stableVersion: number;
  readonly appliedAt: number;
  readonly appliedBy: string;
}

/** Where applied strategies live (SQLite in the server, memory in tests). */
export interface EndpointStrategyStore {
  get(endpoint: string): EndpointStrategy | undefined;
  list(): EndpointStrategy[];
  put(record: EndpointStrategy): void;
  delete(endpoint: string): void;
}

/** Whether a strategy rolls out the endpoint's own target (so the controller holds its stable version). */
export function holdsStable(strategy: RolloutStrategy): boolean {
  return strategy.kind === 'canary' || strategy.kind === 'blueGreen';
}

/** A store in memory, for tests. Records are copied in and out as JSON, as the database stores them. */
export function createMemoryEndpointStrategyStore(): EndpointStrategyStore {
  const rows = new Map<string, string>();
  const read = (json: string): EndpointStrategy => JSON.parse(json) as EndpointStrategy;
  return {
    get: (endpoint) => {
      const row = rows.get(endpoint);
      return row === undefined ? undefined : read(row);
    },
    list: () => [...rows.values()].map(read).sort((a, b) => a.endpoint.localeCompare(b.endpoint)),
    put: (record) => void rows.set(record.endpoint, JSON.stringify(record)),
    delete: (endpoint) => void rows.delete(endpoint),
  };
}

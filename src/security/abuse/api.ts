/**
 * The abuse-detection route, a Fastify plugin to register under /api/v1 (permission `admin`):
 * `GET /abuse?flagged=true|false&endpoint=NAME&key=CALLER` — the detector's settings and every
 * tracked caller on every endpoint with its query count, W, p-value and since when it is flagged,
 * flagged callers first. A bad query is a 400 naming the parameter.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { describe, HttpErrors } from '../../core/index.js';
import type { RouteSecurity } from '../permissions.js';
import type { ExtractionDetector, TrackedCaller } from './detector.js';

const admin = { permission: 'admin' } satisfies RouteSecurity;

export interface AbuseApiOptions {
  readonly detector: ExtractionDetector;
}

/** The answer of `GET /api/v1/abuse`. */
export interface AbuseListResponse {
  /** The detector's settings (`security.abuse`). */
  readonly detection: {
    readonly enabled: boolean;
    readonly method: 'prada';
    readonly threshold: number;
    readonly minQueries: number;
    readonly maxQueriesPerKey: number;
    readonly maxKeys: number;
    readonly throttle: boolean;
    readonly throttleRatePerSecond: number;
  };
  /** Callers tracked now (at most maxKeys), and how many of them are flagged. */
  readonly tracked: number;
  readonly flagged: number;
  readonly keys: readonly TrackedCaller[];
}

const QUERY_KEYS = ['flagged', 'endpoint', 'key'];

export function abuseApi(options: AbuseApiOptions): FastifyPluginAsync {
  const { detector } = options;
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: Record<string, unknown> }>('/abuse', { config: admin }, async (req, reply): Promise<AbuseListResponse> => {
      const q = req.query;
      const problems: string[] = [];
      for (const k of Object.keys(q)) if (!QUERY_KEYS.includes(k)) problems.push(`unknown parameter "${k}" (known: ${QUERY_KEYS.join(', ')})`);
      let flagged: boolean | undefined;
      if (q.flagged !== undefined) {
        if (q.flagged === 'true') flagged = true;
        else if (q.flagged === 'false') flagged = false;
        else problems.push(`flagged: expected true or false, got ${describe(q.flagged)}`);
      }
      const text = (key: 'endpoint' | 'key'): string | undefined => {
        const v = q[key];
        if (v === undefined) return undefined;
        if (typeof v !== 'string' || v === '') problems.push(`${key}: expected one non-empty value, got ${describe(v)}`);
        return typeof v === 'string' ? v : undefined;
      };
      const endpoint = text('endpoint');
      const key = text('key');
      if (problems.length > 0) throw HttpErrors.HTTP_BAD_REQUEST(`invalid abuse query: ${problems.join('; ')}`, { details: { problems } });
      const all = detector.list();
      const keys = all.filter((t) => (flagged === undefined || t.flagged === flagged) && (endpoint === undefined || t.endpoint === endpoint) && (key === undefined || t.key === key));
      const c = detector.config;
      void reply.header('cache-control', 'no-store');
      return {
        detection: {
          enabled: c.enabled,
          method: 'prada',
          threshold: c.threshold,
          minQueries: c.minQueries,
          maxQueriesPerKey: c.maxQueriesPerKey,
          maxKeys: c.maxKeys,
          throttle: c.throttle,
          throttleRatePerSecond: c.throttleRatePerSecond,
        },
        tracked: all.length,
        flagged: all.filter((t) => t.flagged).length,
        keys,
      };
    });
  };
}

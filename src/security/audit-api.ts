/**
 * The audit routes, a Fastify plugin to register under /api/v1 (permission `admin`):
 * `GET /audit?since=&until=&action=&actor=&limit=` — entries as `application/x-ndjson`, oldest
 * first, streamed from disk; `GET /audit/verify` — the whole chain and its signed checkpoints
 * checked, with the first bad entry named. A bad query is a 400 naming the parameter.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { describe, HttpErrors, parseTime, systemClock, TIME_RULE, type Clock } from '../core/index.js';
import { readAuditLog, verifyAuditLog, type AuditLog, type AuditVerification } from './audit/index.js';
import type { RouteSecurity } from './permissions.js';
import type { TrustedKeys } from './signing/index.js';

const admin = { permission: 'admin' } satisfies RouteSecurity;

export interface AuditApiOptions {
  readonly log: AuditLog;
  /** The public keys checkpoints may be signed with (the server's own). */
  readonly trustedKeys: TrustedKeys;
  readonly clock?: Clock;
}

const QUERY_KEYS = ['since', 'until', 'action', 'actor', 'limit'];

export function auditApi(options: AuditApiOptions): FastifyPluginAsync {
  const clock = options.clock ?? systemClock;
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: Record<string, unknown> }>('/audit', { config: admin }, async (req, reply) => {
      const q = req.query;
      const problems: string[] = [];
      for (const k of Object.keys(q)) if (!QUERY_KEYS.includes(k)) problems.push(`unknown parameter "${k}" (known: ${QUERY_KEYS.join(', ')})`);
      const time = (key: 'since' | 'until'): number | undefined => {
        const v = q[key];
        if (v === undefined) return undefined;
        const ms = typeof v === 'string' ? parseTime(v, clock.now()) : undefined;
        if (ms === undefined) problems.push(`${key}: ${describe(v)} is not a time; expected ${TIME_RULE}`);
        return ms;
      };
      const since = time('since');
      const until = time('until');
      const text = (key: 'action' | 'actor'): string | undefined => {
        const v = q[key];
        if (v === undefined) return undefined;
        if (typeof v !== 'string' || v === '') problems.push(`${key}: expected one non-empty value, got ${describe(v)}`);
        return typeof v === 'string' ? v : undefined;
      };
      const action = text('action');
      const actor = text('actor');
      let limit = Number.POSITIVE_INFINITY;
      if (q.limit !== undefined) {
        const n = Number(q.limit);
        if (typeof q.limit !== 'string' || !/^\d+$/.test(q.limit) || n < 1) problems.push(`limit: expected a whole number ≥ 1, got ${describe(q.limit)}`);
        else limit = n;
      }
      if (problems.length > 0) throw HttpErrors.HTTP_BAD_REQUEST(`invalid audit query: ${problems.join('; ')}`, { details: { problems } });
      // requests answered a moment ago may still be on their way to disk
      await options.log.settled();
      const entries = readAuditLog({
        dir: options.log.dir,
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
        ...(action === undefined ? {} : { action }),
        ...(actor === undefined ? {} : { actor }),
      });
      async function* lines(): AsyncGenerator<string> {
        let chunk = '';
        let n = 0;
        for await (const entry of entries) {
          if (n++ >= limit) break;
          chunk += `${JSON.stringify(entry)}\n`;
          if (chunk.length >= 64 * 1024) {
            yield chunk;
            chunk = '';
          }
        }
        if (chunk !== '') yield chunk;
      }
      return reply.type('application/x-ndjson').header('cache-control', 'no-store').send(Readable.from(lines(), { objectMode: false }));
    });
    app.get('/audit/verify', { config: admin }, async (): Promise<AuditVerification> => {
      await options.log.settled();
      return verifyAuditLog({ dir: options.log.dir, trustedKeys: options.trustedKeys });
    });
  };
}

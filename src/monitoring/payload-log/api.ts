/**
 * The payload log's control routes, a Fastify plugin to register under /api/v1:
 *
 * - `GET /payloads?endpoint=&since=&until=&status=&requestId=&limit=` — matching entries as
 *   `application/x-ndjson`, oldest first, streamed from disk (permission `payloads:read`: request and
 *   response contents, as prediction records);
 * - `GET /payloads/stats` — the counters (permission `metrics:read`: figures only, as /metrics).
 *
 * A bad query is a 400 naming each bad parameter, answered before anything is streamed. Bodies
 * stored sealed (encryption at rest) are exported opened; when the first entry's cannot be opened
 * the answer is that error (409, naming the master key id); when a later one's cannot, the
 * stream is cut there and the client sees the export end early (never a clean, shorter export).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Clock } from '../../core/index.js';
import { systemClock } from '../../core/index.js';
import type { RouteSecurity } from '../../security/permissions.js';
import type { PayloadLog } from './payload-log.js';
import { readPayloadQuery } from './query.js';
import type { PayloadEntry, PayloadLogStats } from './types.js';

const readData = { permission: 'payloads:read' } satisfies RouteSecurity;
const readStats = { permission: 'metrics:read' } satisfies RouteSecurity;

/** The media type of an export: one JSON entry per line. */
export const NDJSON = 'application/x-ndjson';

export interface PayloadLogApiOptions {
  readonly log: PayloadLog;
  /** Relative times (`since=1h`) are taken back from its now. Default the system clock. */
  readonly clock?: Clock;
}

/** The wire shape of `GET /payloads/stats`. */
export interface PayloadStatsResponse {
  readonly stats: PayloadLogStats;
}

export function payloadLogApi(options: PayloadLogApiOptions): FastifyPluginAsync {
  const { log } = options;
  const clock = options.clock ?? systemClock;
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: Record<string, unknown> }>('/payloads', { config: readData }, async (req, reply) => {
      const query = readPayloadQuery(req.query, clock.now());
      // entries recorded a moment ago are still in the buffer: write them so the export sees them
      await log.flush();
      const entries = log.entries(query);
      // the first entry is read before the answer starts: an export whose bodies cannot be opened
      // (a master key missing) is then an error answer naming the key, not a cut stream
      const first = await entries.next();
      // a client gone before the stream starts must not leave the segment being read open
      reply.raw.once('close', () => void entries.return(undefined).catch(() => undefined));
      async function* all(): AsyncGenerator<PayloadEntry> {
        if (first.done === true) return;
        yield first.value;
        yield* entries;
      }
      async function* lines(): AsyncGenerator<string> {
        // a few hundred lines per chunk: fewer, larger writes than one per entry
        let chunk = '';
        for await (const entry of all()) {
          chunk += `${JSON.stringify(entry)}\n`;
          if (chunk.length >= 64 * 1024) {
            yield chunk;
            chunk = '';
          }
        }
        if (chunk !== '') yield chunk;
      }
      return reply.type(NDJSON).header('cache-control', 'no-store').send(Readable.from(lines(), { objectMode: false }));
    });

    app.get('/payloads/stats', { config: readStats }, async (): Promise<PayloadStatsResponse> => ({ stats: log.stats() }));
  };
}

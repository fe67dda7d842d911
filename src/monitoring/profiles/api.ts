/**
 * The profile routes, a Fastify plugin to register under /api/v1: compute a version's reference
 * profile from a CSV body, read it, delete it. The CSV is streamed to a file in `uploadDir` (the
 * profile reads it once or twice from there), up to `maxUploadBytes`; errors are thrown as
 * PlatformErrors for the app's error handler to answer.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { describe, HttpErrors, systemClock, type Clock } from '../../core/index.js';
import { receiveBodyToFile } from '../../control/body.js';
import { closeAfterEarlyAnswer, formatBytes } from '../../control/index.js';
import { nameParam, versionParam } from '../../control/validate.js';
import type { RouteSecurity } from '../../security/index.js';
import type { ProfileDeletedResponse, ProfileResponse } from './api-types.js';
import { ProfileErrors } from './errors.js';
import type { ProfileService } from './service.js';

export interface ProfileApiOptions {
  readonly service: ProfileService;
  /** Where CSV bodies are written while they are profiled (removed after); created if missing. */
  readonly uploadDir: string;
  /** Largest CSV body accepted, in bytes (the server passes server.uploadLimitBytes). */
  readonly maxUploadBytes: number;
  /** The actor recorded as the profile's `createdBy`. Default: `anonymous`. */
  readonly principal?: (req: FastifyRequest) => string;
  /** Times the lingering close after an early answer. Default: the system clock. */
  readonly clock?: Clock;
}

const read = { permission: 'models:read' } satisfies RouteSecurity;
const write = { permission: 'models:write' } satisfies RouteSecurity;

interface VersionParams {
  model: string;
  version: string;
}

const QUERY_KEYS = ['target', 'source'] as const;
/** Longest `source` kept: a file name, for people. */
const MAX_SOURCE_CHARS = 200;

/** Reads the PUT query: `target` (a column to leave out) and `source` (the file's name). */
function readQuery(query: unknown): { target?: string; source?: string } {
  const q = (query ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(q)) if (!(QUERY_KEYS as readonly string[]).includes(key)) problems.push(`${key}: unknown query parameter (known: ${QUERY_KEYS.join(', ')})`);
  const single = (key: (typeof QUERY_KEYS)[number]): string | undefined => {
    const value = q[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      problems.push(`${key}: ${Array.isArray(value) ? `is given ${value.length} times; give it once` : `must be text, got ${describe(value)}`}`);
      return undefined;
    }
    return value;
  };
  const target = single('target');
  const source = single('source');
  if (target !== undefined && target.trim() === '') problems.push('target: must name a column, got an empty value');
  if (source !== undefined && source.length > MAX_SOURCE_CHARS) problems.push(`source: must be at most ${MAX_SOURCE_CHARS} characters, got ${source.length}`);
  if (problems.length > 0) {
    throw ProfileErrors.MONITORING_PROFILE_INVALID_QUERY(`invalid query (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return { ...(target === undefined ? {} : { target: target.trim() }), ...(source === undefined ? {} : { source }) };
}

/** Streams the body into `destination` (which must not exist), refusing it past `limit` bytes; resolves with its size. */
function receiveCsv(req: IncomingMessage, destination: string, limit: number): Promise<number> {
  return receiveBodyToFile(req, destination, limit, {
    tooLarge: (declared) =>
      ProfileErrors.MONITORING_PROFILE_TOO_LARGE(
        `${declared === undefined ? 'the reference data is larger than' : `the request declares ${formatBytes(declared)} (${declared} bytes), more than`} the server accepts: ${formatBytes(limit)} (${limit} bytes); send a sample of the rows`,
        { details: { limitBytes: limit, ...(declared === undefined ? {} : { declaredBytes: declared }) } },
      ),
    incomplete: (cause) => HttpErrors.HTTP_BAD_REQUEST('the request body ended before it was complete (the connection closed); no profile was computed', { cause }),
  });
}

/**
 * The profile routes as a Fastify plugin, to be registered under the prefix `/api/v1`:
 * `PUT`, `GET` and `DELETE /models/:model/versions/:version/profile`. Every route declares its
 * permission in `config`. The PUT body is the CSV itself (any Content-Type but JSON and multipart;
 * `text/csv` is the right one), never parsed or buffered by Fastify.
 */
export function profileApi(options: ProfileApiOptions): FastifyPluginAsync {
  const { service } = options;
  const principal = options.principal ?? (() => 'anonymous');
  const clock = options.clock ?? systemClock;

  return async (app: FastifyInstance) => {
    // scoped to this plugin: the handler streams the raw body itself
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

    app.put<{ Params: VersionParams }>('/models/:model/versions/:version/profile', { config: write }, async (req, reply): Promise<ProfileResponse> => {
      const path = join(options.uploadDir, `profile-${randomUUID()}.csv.part`);
      try {
        const model = nameParam('model', req.params.model);
        const version = versionParam(req.params.version);
        const query = readQuery(req.query);
        const type = req.headers['content-type'] ?? '';
        if (/^(multipart\/form-data|application\/json)\b/i.test(type)) {
          throw HttpErrors.HTTP_UNSUPPORTED_MEDIA_TYPE(
            `this route takes the CSV file itself as the body (Content-Type: text/csv), not ${type.split(';')[0] ?? type}; e.g. curl -T data.csv -H 'content-type: text/csv' URL`,
          );
        }
        await mkdir(options.uploadDir, { recursive: true });
        const size = await receiveCsv(req.raw, path, options.maxUploadBytes);
        if (size === 0) throw ProfileErrors.MONITORING_PROFILE_INVALID_DATA('the request body is empty: send the CSV file (a header row, then one example per row) as the body');
        const profile = await service.compute({
          model,
          version,
          path,
          source: query.source ?? 'request body',
          ...(query.target === undefined ? {} : { target: query.target }),
          by: principal(req),
        });
        return { profile };
      } catch (error) {
        closeAfterEarlyAnswer(req.raw, reply, clock);
        throw error;
      } finally {
        await rm(path, { force: true });
      }
    });

    app.get<{ Params: VersionParams }>('/models/:model/versions/:version/profile', { config: read }, async (req): Promise<ProfileResponse> => ({
      profile: await service.get(nameParam('model', req.params.model), versionParam(req.params.version)),
    }));

    app.delete<{ Params: VersionParams }>('/models/:model/versions/:version/profile', { config: write }, async (req): Promise<ProfileDeletedResponse> => ({
      profile: await service.delete(nameParam('model', req.params.model), versionParam(req.params.version)),
      deleted: true,
    }));
  };
}

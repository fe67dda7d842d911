/**
 * The validation routes, a Fastify plugin to register under /api/v1:
 *
 * - `PUT /datasets?name=…` — a CSV body, streamed to disk and stored by digest (the blob store,
 *   encrypted at rest when a keyring is set); `GET /datasets` lists them.
 * - `POST /models/:model/versions/:version/validations` — starts a run (202 with the job);
 *   `GET …/validations` lists a version's reports, `GET …/validations/latest` is the newest one.
 * - `GET /validations/:id` — the job and its progress; `GET /validations/:id/report` — the report,
 *   as JSON or, with `?format=html`, as one self-contained HTML page.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { describe, HttpErrors, isValidName, systemClock, type Clock } from '../core/index.js';
import { receiveBodyToFile } from '../control/body.js';
import { closeAfterEarlyAnswer, formatBytes } from '../control/index.js';
import { nameParam, versionParam } from '../control/validate.js';
import type { RouteSecurity } from '../security/index.js';
import { ValidateErrors } from './errors.js';
import { renderValidationHtml } from './html.js';
import type { DatasetRecord } from './ports.js';
import type { StartValidationInput, ValidationJob, ValidationService } from './service.js';
import type { ValidationReport, ValidationSummary } from './types.js';

export interface ValidationApiOptions {
  readonly service: ValidationService;
  /** Where dataset bodies are written while they are stored (removed after). */
  readonly uploadDir: string;
  readonly maxUploadBytes: number;
  readonly principal?: (req: FastifyRequest) => string;
  readonly clock?: Clock;
}

const read = { permission: 'models:read' } satisfies RouteSecurity;
const write = { permission: 'models:write' } satisfies RouteSecurity;

/** Longest dataset name kept. */
const MAX_NAME_CHARS = 200;
const BODY_KEYS = ['data', 'target', 'baseline', 'gates', 'settings'] as const;

const invalid = (field: string, message: string): Error => ValidateErrors.VALIDATE_INVALID_REQUEST(`${field}: ${message}`, { details: { field } });

/** Reads the POST body into what the service takes; every field is named when it is wrong. */
export function readStartBody(body: unknown): Omit<StartValidationInput, 'model' | 'version' | 'by'> {
  const b = body === undefined || body === null ? {} : body;
  if (typeof b !== 'object' || Array.isArray(b)) throw invalid('body', `expected a JSON object, got ${describe(b)}`);
  const o = b as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!(BODY_KEYS as readonly string[]).includes(key)) throw invalid(key, `unknown field (known: ${BODY_KEYS.join(', ')})`);
  const text = (key: 'data' | 'target' | 'gates', max: number): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '' || v.length > max) throw invalid(key, `expected text of 1–${max} characters, got ${describe(v)}`);
    return v;
  };
  const data = text('data', 100);
  if (data !== undefined && !/^sha256:[0-9a-f]{64}$/.test(data)) throw invalid('data', `expected a dataset digest sha256:<64 hex> (PUT /api/v1/datasets returns it), got ${JSON.stringify(data)}`);
  const target = text('target', 200);
  const gates = text('gates', 64 * 1024);
  let baseline: StartValidationInput['baseline'];
  if (o.baseline !== undefined) {
    const v = o.baseline;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('baseline', `expected {"model": NAME, "version": N}, got ${describe(v)}`);
    const bv = v as Record<string, unknown>;
    for (const key of Object.keys(bv)) if (key !== 'model' && key !== 'version') throw invalid(`baseline.${key}`, 'unknown field (known: model, version)');
    if (typeof bv.model !== 'string' || !isValidName(bv.model)) throw invalid('baseline.model', `expected a model name, got ${describe(bv.model)}`);
    if (typeof bv.version !== 'number' || !Number.isInteger(bv.version) || bv.version < 1) throw invalid('baseline.version', `expected a version number (1, 2, 3 …), got ${describe(bv.version)}`);
    baseline = { model: bv.model, version: bv.version };
  }
  return {
    ...(data === undefined ? {} : { data }),
    ...(target === undefined ? {} : { target }),
    ...(gates === undefined ? {} : { gates }),
    ...(baseline === undefined ? {} : { baseline }),
    ...(o.settings === undefined ? {} : { settings: o.settings as StartValidationInput['settings'] }),
  };
}

interface VersionParams {
  model: string;
  version: string;
}

export function validationApi(options: ValidationApiOptions): FastifyPluginAsync {
  const { service } = options;
  const principal = options.principal ?? (() => 'anonymous');
  const clock = options.clock ?? systemClock;

  return async (app: FastifyInstance) => {
    // the dataset upload streams its raw body; everything else is JSON
    app.addContentTypeParser(['text/csv', 'text/plain', 'application/octet-stream'], (_req, _payload, done) => done(null, undefined));

    app.put('/datasets', { config: write }, async (req, reply): Promise<{ dataset: DatasetRecord }> => {
      const path = join(options.uploadDir, `dataset-${randomUUID()}.csv.part`);
      try {
        const q = (req.query ?? {}) as Record<string, unknown>;
        for (const key of Object.keys(q)) if (key !== 'name') throw invalid(key, 'unknown query parameter (known: name)');
        const name = q.name === undefined ? 'dataset.csv' : q.name;
        if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME_CHARS) throw invalid('name', `expected a file name of 1–${MAX_NAME_CHARS} characters, given once`);
        const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (type !== 'text/csv' && type !== 'text/plain' && type !== 'application/octet-stream') {
          throw HttpErrors.HTTP_UNSUPPORTED_MEDIA_TYPE(`this route takes the CSV file itself as the body (Content-Type: text/csv), not ${type === '' ? 'no Content-Type' : type}; e.g. curl -T data.csv -H 'content-type: text/csv' URL`);
        }
        await mkdir(options.uploadDir, { recursive: true });
        const limit = options.maxUploadBytes;
        const size = await receiveBodyToFile(req.raw, path, limit, {
          tooLarge: (declared) =>
            HttpErrors.HTTP_BODY_TOO_LARGE(`${declared === undefined ? 'the dataset is larger than' : `the request declares ${formatBytes(declared)}, more than`} the server accepts: ${formatBytes(limit)}; send a sample of the rows`),
          incomplete: (cause) => HttpErrors.HTTP_BAD_REQUEST('the request body ended before it was complete (the connection closed); no dataset was stored', { cause }),
        });
        if (size === 0) throw ValidateErrors.VALIDATE_INVALID_DATA('the request body is empty: send the CSV file (a header row, then one example per row) as the body');
        const dataset = await service.addDataset(path, name, principal(req));
        void reply.code(201);
        return { dataset };
      } catch (error) {
        closeAfterEarlyAnswer(req.raw, reply, clock);
        throw error;
      } finally {
        await rm(path, { force: true });
      }
    });

    app.get('/datasets', { config: read }, async (): Promise<{ datasets: DatasetRecord[] }> => ({ datasets: await service.listDatasets() }));

    app.post<{ Params: VersionParams }>('/models/:model/versions/:version/validations', { config: write }, async (req, reply): Promise<{ validation: ValidationJob }> => {
      const model = nameParam('model', req.params.model);
      const version = versionParam(req.params.version);
      const validation = await service.start({ model, version, by: principal(req), ...readStartBody(req.body) });
      void reply.code(202);
      return { validation };
    });

    app.get<{ Params: VersionParams }>('/models/:model/versions/:version/validations', { config: read }, async (req): Promise<{ validations: ValidationSummary[] }> => ({
      validations: await service.list(nameParam('model', req.params.model), versionParam(req.params.version)),
    }));

    app.get<{ Params: VersionParams }>('/models/:model/versions/:version/validations/latest', { config: read }, async (req): Promise<{ report: ValidationReport }> => ({
      report: await service.latest(nameParam('model', req.params.model), versionParam(req.params.version)),
    }));

    app.get<{ Params: { id: string } }>('/validations/:id', { config: read }, async (req): Promise<{ validation: ValidationJob }> => ({ validation: await service.job(idParam(req.params.id)) }));

    app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/validations/:id/report', { config: read }, async (req, reply) => {
      const q = req.query ?? {};
      for (const key of Object.keys(q)) if (key !== 'format') throw invalid(key, 'unknown query parameter (known: format)');
      const format = q.format ?? 'json';
      if (format !== 'json' && format !== 'html') throw invalid('format', `expected json or html, got ${describe(format)}`);
      const report = await service.report(idParam(req.params.id));
      if (format === 'json') return { report };
      void reply.type('text/html; charset=utf-8');
      return renderValidationHtml(report);
    });
  };
}

/** A validation id: the server's ids are 1–64 letters, digits, `-` and `_`. */
function idParam(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) throw invalid('id', `expected a validation id (letters, digits, - and _), got ${describe(value)}`);
  return value;
}

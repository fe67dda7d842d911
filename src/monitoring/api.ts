/**
 * Monitoring's control routes, a Fastify plugin to register under /api/v1: feedback in, a
 * prediction with its feedback out, and outcome arms per variant. Errors are thrown as
 * PlatformErrors for the app's error handler to answer.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ConfigReader, describe, HttpErrors, isUniqueLookingId, isValidName, NAME_RULE, parseTime, systemClock, TIME_RULE, type Clock } from '../core/index.js';
import type { RouteSecurity } from '../security/index.js';
import type { FeedbackResponse, FeedbackView, OutcomesResponse, PredictionResponse, PredictionView } from './api-types.js';
import { MonitoringErrors } from './errors.js';
import { invalidOutcomeQuery, readOutcomeMetric } from './feedback/outcomes.js';
import { readFeedbackBody, REQUEST_ID_RULE } from './feedback/validate.js';
import type { Monitoring } from './monitoring.js';
import type { PredictionFeedback, PredictionRecord } from './types.js';

export interface MonitoringApiOptions {
  readonly monitoring: Monitoring;
  /** Largest JSON body accepted, in bytes. Default 1 MiB (1000 feedback items take about 150 KiB). */
  readonly maxBodyBytes?: number;
  /** What a duration ago (`since=24h`) counts back from. Default the system clock. */
  readonly clock?: Clock;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const writeFeedback = { permission: 'feedback:write' } satisfies RouteSecurity;
const read = { permission: 'models:read' } satisfies RouteSecurity;
const readPayloads = { permission: 'payloads:read' } satisfies RouteSecurity;

const OUTCOME_QUERY_KEYS = ['metric', 'event', 'missing', 'since', 'until'] as const;

const iso = (ms: number): string => new Date(ms).toISOString();

/** A record with its time as ISO-8601. */
export function predictionView(record: PredictionRecord): PredictionView {
  return { ...record, at: iso(record.at) };
}

/** Feedback with its times as ISO-8601. */
export function feedbackView(feedback: PredictionFeedback): FeedbackView {
  return {
    label: feedback.label === null ? null : { value: feedback.label.value, at: iso(feedback.label.at) },
    outcomes: feedback.outcomes.map((o) => ({ event: o.event, value: o.value, at: iso(o.at) })),
  };
}

/** Reads a time query parameter ({@link TIME_RULE}); a duration counts back from `now`. */
function readTime(r: ConfigReader, value: unknown, key: string, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    r.problem(key, `is given ${Array.isArray(value) ? `${value.length} times; give it once` : 'in a form this server does not read'}`);
    return undefined;
  }
  const ms = parseTime(value, now);
  if (ms === undefined) r.problem(key, `${describe(value)} is not a time; expected ${TIME_RULE}`);
  return ms;
}

function single(r: ConfigReader, value: unknown, key: string): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  r.problem(key, Array.isArray(value) ? `is given ${value.length} times; give it once` : `must be a single value, got ${describe(value)}`);
  return undefined;
}

/** Reads GET /endpoints/{name}/outcomes' query, reporting every problem at once. */
function readOutcomeQuery(query: unknown, now: number) {
  const r = new ConfigReader();
  const q = (query ?? {}) as Record<string, unknown>;
  r.onlyKeys(q, '', OUTCOME_QUERY_KEYS);
  const metric = readOutcomeMetric(r, single(r, q.metric, 'metric'), single(r, q.event, 'event'), single(r, q.missing, 'missing'));
  const since = readTime(r, q.since, 'since', now) ?? 0;
  const until = readTime(r, q.until, 'until', now);
  if (until !== undefined && until <= since && !r.problems.some((p) => p.path === 'since')) r.problem('until', `must be after since (${iso(since)}), got ${iso(until)}`);
  if (metric === undefined || r.problems.length > 0) throw invalidOutcomeQuery(r.problems);
  return { metric, since, ...(until === undefined ? {} : { until }) };
}

function requestIdParam(value: string): string {
  if (isUniqueLookingId(value)) return value;
  throw MonitoringErrors.MONITORING_INVALID_PARAM(`path parameter "requestId": ${describe(value)} is not a request id; expected ${REQUEST_ID_RULE}`, {
    details: { param: 'requestId', value },
  });
}

function endpointParam(value: string): string {
  if (isValidName(value)) return value;
  throw MonitoringErrors.MONITORING_INVALID_PARAM(`path parameter "endpoint": ${describe(value)} is not a valid endpoint name; expected ${NAME_RULE}`, {
    details: { param: 'endpoint', value },
  });
}

/**
 * The monitoring routes as a Fastify plugin, to be registered under the prefix `/api/v1`:
 * `POST /feedback`, `GET /predictions/:requestId`, `GET /endpoints/:name/outcomes`. Every route
 * declares its permission in `config`.
 */
export function monitoringApi(options: MonitoringApiOptions): FastifyPluginAsync {
  const { monitoring } = options;
  const bodyLimit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const clock = options.clock ?? systemClock;

  return async (app: FastifyInstance) => {
    // Every body is JSON whatever its Content-Type (`curl -d` sends a form type), as in the control API.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (req: FastifyRequest, body: string | Buffer, done) => {
      const type = req.headers['content-type'] ?? '';
      if (/^(multipart\/form-data|application\/octet-stream)\b/i.test(type)) {
        done(HttpErrors.HTTP_UNSUPPORTED_MEDIA_TYPE(`this route takes a JSON body (Content-Type: application/json), not ${type.split(';')[0] ?? type}`), undefined);
        return;
      }
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') {
        done(null, undefined);
        return;
      }
      try {
        done(null, JSON.parse(text) as unknown);
      } catch (error) {
        done(HttpErrors.HTTP_INVALID_JSON(`the request body is not valid JSON: ${(error as Error).message}`), undefined);
      }
    });

    app.post('/feedback', { config: writeFeedback, bodyLimit }, async (req): Promise<FeedbackResponse> => {
      const body = readFeedbackBody(req.body, monitoring.config.feedback.maxItems);
      const receipt = await monitoring.submitFeedback(body.items, { skipUnknown: body.skipUnknown });
      return { accepted: receipt.accepted, unknownRequestIds: receipt.unknownRequestIds };
    });

    app.get<{ Params: { requestId: string } }>('/predictions/:requestId', { config: readPayloads }, async (req): Promise<PredictionResponse> => {
      const found = await monitoring.getPrediction(requestIdParam(req.params.requestId));
      return {
        prediction: predictionView(found.prediction),
        shadow: found.shadow === null ? null : predictionView(found.shadow),
        feedback: feedbackView(found.feedback),
      };
    });

    app.get<{ Params: { name: string } }>('/endpoints/:name/outcomes', { config: read }, async (req): Promise<OutcomesResponse> => {
      const endpoint = endpointParam(req.params.name);
      const query = readOutcomeQuery(req.query, clock.now());
      const report = await monitoring.outcomes(endpoint, query);
      return { ...report, since: iso(report.since), until: report.until === null ? null : iso(report.until) };
    });
  };
}

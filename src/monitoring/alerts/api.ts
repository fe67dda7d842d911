/**
 * The alerts routes, a Fastify plugin to register under /api/v1:
 * `GET /alerts` (pending and firing), `GET /alerts/history?limit=&rule=`, `GET /alerts/rules`,
 * `PUT /alerts/rules/{name}` (JSON, or YAML with a YAML Content-Type) and
 * `DELETE /alerts/rules/{name}`. Reading needs `metrics:read` (alerts are views of the metrics);
 * writing rules needs `admin`, because a rule may roll an endpoint back.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { describe, HttpErrors } from '../../core/index.js';
import type { RouteSecurity } from '../../security/permissions.js';
import type { Alerting, AlertRuleView } from './alerting.js';
import { AlertsErrors } from './errors.js';
import { ALERT_RULE_NAME_RULE, isValidRuleName } from './rules.js';
import type { AlertHistoryEvent, AlertView } from './types.js';

const read = { permission: 'metrics:read' } satisfies RouteSecurity;
const write = { permission: 'admin' } satisfies RouteSecurity;

export interface AlertsApiOptions {
  readonly alerting: Alerting;
  /** Who made a change, for the rule's `updatedBy` (default `anonymous`). */
  readonly principal?: (req: FastifyRequest) => string;
  /** Largest rule body, bytes. Default 64 KiB. */
  readonly maxBodyBytes?: number;
}

/** `GET /alerts`. */
export interface AlertsResponse {
  readonly alerts: readonly AlertView[];
}
/** `GET /alerts/rules`. */
export interface AlertRulesResponse {
  readonly rules: readonly AlertRuleView[];
}
/** `PUT /alerts/rules/{name}` (201 when created, 200 when replaced). */
export interface AlertRulePutResponse {
  readonly rule: AlertRuleView;
  readonly created: boolean;
}
/** `DELETE /alerts/rules/{name}`. */
export interface AlertRuleDeleteResponse {
  readonly deleted: string;
}
/** `GET /alerts/history`. */
export interface AlertHistoryResponse {
  readonly events: readonly AlertHistoryEvent[];
}

export const MAX_HISTORY_LIMIT = 1000;

function ruleParam(name: string): string {
  if (isValidRuleName(name)) return name;
  throw AlertsErrors.ALERTS_INVALID_QUERY(`path parameter "name": ${describe(name)} is not a rule name; expected ${ALERT_RULE_NAME_RULE}`, { details: { param: 'name', value: name } });
}

function readHistoryQuery(query: unknown): { limit: number; rule?: string } {
  const q = (query ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(q)) {
    if (key !== 'limit' && key !== 'rule') throw AlertsErrors.ALERTS_INVALID_QUERY(`unknown query parameter "${key}" (known: limit, rule)`, { details: { param: key } });
  }
  let limit = 100;
  if (q.limit !== undefined) {
    const n = typeof q.limit === 'string' && /^\d{1,7}$/.test(q.limit) ? Number(q.limit) : NaN;
    if (!(n >= 1 && n <= MAX_HISTORY_LIMIT)) {
      throw AlertsErrors.ALERTS_INVALID_QUERY(`query parameter "limit" must be a whole number from 1 to ${MAX_HISTORY_LIMIT}, got ${describe(q.limit)}`, { details: { param: 'limit' } });
    }
    limit = n;
  }
  if (q.rule === undefined) return { limit };
  if (typeof q.rule !== 'string' || !isValidRuleName(q.rule)) {
    throw AlertsErrors.ALERTS_INVALID_QUERY(`query parameter "rule" must be a rule name (${ALERT_RULE_NAME_RULE}), got ${describe(q.rule)}`, { details: { param: 'rule' } });
  }
  return { limit, rule: q.rule };
}

/** The alerts routes as a Fastify plugin; every route declares its permission. */
export function alertsApi(options: AlertsApiOptions): FastifyPluginAsync {
  const { alerting } = options;
  const bodyLimit = options.maxBodyBytes ?? 64 * 1024;
  const principal = options.principal ?? (() => 'anonymous');

  return async (app: FastifyInstance) => {
    // JSON whatever the Content-Type (curl -d sends a form type), YAML when the type says so
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (req: FastifyRequest, body: string | Buffer, done) => {
      const type = (req.headers['content-type'] ?? '').toLowerCase();
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') {
        done(null, undefined);
        return;
      }
      if (/\byaml\b/.test(type)) {
        try {
          done(null, parseYaml(text) as unknown);
        } catch (error) {
          done(AlertsErrors.ALERTS_INVALID_RULE(`the request body is not valid YAML: ${(error as Error).message}`), undefined);
        }
        return;
      }
      try {
        done(null, JSON.parse(text) as unknown);
      } catch (error) {
        done(HttpErrors.HTTP_INVALID_JSON(`the request body is not valid JSON: ${(error as Error).message}`), undefined);
      }
    });

    app.get('/alerts', { config: read }, async (): Promise<AlertsResponse> => ({ alerts: alerting.active() }));

    app.get('/alerts/history', { config: read }, async (req): Promise<AlertHistoryResponse> => ({ events: await alerting.history(readHistoryQuery(req.query)) }));

    app.get('/alerts/rules', { config: read }, async (): Promise<AlertRulesResponse> => ({ rules: await alerting.rules() }));

    app.put<{ Params: { name: string } }>('/alerts/rules/:name', { config: write, bodyLimit }, async (req, reply): Promise<AlertRulePutResponse> => {
      const name = ruleParam(req.params.name);
      if (req.body === undefined) throw AlertsErrors.ALERTS_INVALID_RULE('the request body is empty; send the rule as JSON (metric, op, threshold, …)');
      const result = await alerting.putRule(name, req.body, principal(req));
      void reply.code(result.created ? 201 : 200);
      return result;
    });

    app.delete<{ Params: { name: string } }>('/alerts/rules/:name', { config: write }, async (req): Promise<AlertRuleDeleteResponse> => {
      const name = ruleParam(req.params.name);
      await alerting.deleteRule(name, principal(req));
      return { deleted: name };
    });
  };
}

/**
 * What the server appends to the audit log for each answered request: every change through the
 * control plane (any method but GET and HEAD under /api/v1, whatever its status), every request
 * refused by authentication or authorization on any route, and every inference call when asked.
 * Bodies are never recorded, so neither are keys, tokens or payloads.
 */
import type { FastifyRequest } from 'fastify';
import type { Logger } from '../core/index.js';
import type { AuditLog, AuditOutcome } from './audit/index.js';

export interface RecordAuditOptions {
  /** Record inference calls too (`security.audit.inference`). */
  readonly inference: boolean;
  readonly logger?: Logger;
}

/** Appends the request's entry if it is one the log keeps; a failed append is logged, never thrown. */
export function recordAudit(log: AuditLog, req: FastifyRequest, status: number, options: RecordAuditOptions): void {
  // read once: Fastify builds a new object of a dozen fields on every read of req.routeOptions
  const routeOptions = req.routeOptions;
  const route = routeOptions.url;
  const method = req.method;
  const denied = req.authError !== null || status === 401 || status === 403;
  const change = route !== undefined && route.startsWith('/api/v1/') && method !== 'GET' && method !== 'HEAD';
  const inference = options.inference && routeOptions.config.permission === 'inference:call' && method === 'POST';
  if (!denied && !change && !inference) return;
  const details = req.authError?.details;
  const actor = req.principal?.id ?? (typeof details?.actor === 'string' ? details.actor : 'anonymous');
  const outcome: AuditOutcome = denied ? 'denied' : status < 400 ? 'ok' : 'failed';
  const path = req.url.split('?', 1)[0] ?? req.url;
  log
    .append({
      action: denied ? 'auth.denied' : inference ? 'inference' : `${method} ${route ?? path}`,
      actor,
      outcome,
      target: path,
      requestId: req.id,
      ip: req.ip,
      details: {
        method,
        status,
        ...(route === undefined ? {} : { route }),
        ...(req.authError === null ? {} : { code: req.authError.code, reason: req.authError.message }),
      },
    })
    .catch((error: unknown) => options.logger?.error({ err: (error as Error).message, reqId: req.id }, 'could not append to the audit log'));
}

/** The payload log (docs/payload-log.md): every inference request's metadata, sampled bodies, redaction, retention, export and webhook. */
export { openPayloadLog, RETENTION_INTERVAL_MS, type PayloadLog, type PayloadLogOptions as OpenPayloadLogOptions } from './payload-log.js';
export {
  compilePayloadLogOptions,
  PAYLOAD_LOG_DEFAULTS,
  PAYLOAD_LOG_OPTION_KEYS,
  WEBHOOK_DEFAULTS,
  type PayloadLogConfig,
  type PayloadLogOptions,
  type PayloadLogOptionsContext,
  type RedactionRuleInput,
  type WebhookConfig,
  type WebhookOptions,
} from './options.js';
export { createRedactor, parseRedactionPath, REDACTED, REDACTION_ACTIONS, REDACTION_PATH_RULE, type RedactionAction, type RedactionRule, type Redactor } from './redact.js';
export { payloadLogHooks, INFERENCE_ROUTES, type PayloadLogHooksOptions } from './hooks.js';
export { RAW_BODY } from './raw-body.js';
export { payloadLogApi, NDJSON, type PayloadLogApiOptions, type PayloadStatsResponse } from './api.js';
export { readPayloadQuery, parsePayloadTime, parseStatusFilter, PAYLOAD_QUERY_KEYS, TIME_RULE, STATUS_RULE } from './query.js';
export { readPayloadEntries, entryMatches, type ExportCounters } from './export.js';
export { createWebhookSink, type WebhookSink, type WebhookSinkOptions } from './webhook.js';
export { WITHHELD_NOT_JSON } from './entry.js';
export { PayloadLogErrors } from './errors.js';
export { registerPayloadLogMetrics } from './metrics.js';
export type * from './types.js';

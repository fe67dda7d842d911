/**
 * The alerts error table. Rules are validated as a whole (every problem with its field path);
 * rules from the configuration file are read-only to the API.
 */
import { defineErrors } from '../../core/index.js';

export const AlertsErrors = defineErrors({
  ALERTS_INVALID_RULE: {
    kind: 'invalid',
    help: 'An alert rule is malformed (unknown reduce or op, a window that is not a duration, a ratio without a denominator, a bad label matcher); the message lists every problem with its field, and docs/alerts.md gives each field.',
  },
  ALERTS_RULE_NOT_FOUND: {
    kind: 'not_found',
    help: 'No alert rule has that name; `slipway alerts rules` lists the rules from the configuration file and the API.',
  },
  ALERTS_RULE_READ_ONLY: {
    kind: 'conflict',
    help: 'The rule is defined in the configuration file (monitoring.alerts.rules), which the API cannot change or delete; edit the file and restart, or use another name.',
  },
  ALERTS_RULE_LIMIT: {
    kind: 'conflict',
    help: 'The server already holds monitoring.alerts.maxApiRules rules created through the API; delete rules that are no longer needed or raise the limit.',
  },
  ALERTS_INVALID_QUERY: {
    kind: 'invalid',
    help: 'A query parameter of an alerts route is malformed (limit must be a whole number from 1 to 1000, rule a rule name); the message names the parameter.',
  },
});

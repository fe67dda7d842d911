/**
 * `slipway alerts list|rules|set -f FILE|delete NAME|history`: the alerts and alert rules of a
 * running server (docs/alerts.md).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { AlertRulePutResponse } from '../../monitoring/alerts/api.js';
import { createAlertsClient } from '../../monitoring/alerts/client.js';
import type { AlertRuleView } from '../../monitoring/alerts/alerting.js';
import type { AlertHistoryEvent, AlertView } from '../../monitoring/alerts/types.js';
import { commandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { formatTime, truncate } from '../output.js';

function num(v: number | null): string {
  return v === null ? '-' : String(Number(v.toPrecision(4)));
}

function versionOf(a: AlertView): string {
  if (a.version === null) return '-';
  return a.model === null ? a.version : `${a.model}:${a.version}`;
}

function condition(r: AlertRuleView['rule']): string {
  const what = r.reduce === 'value' ? r.metric : r.reduce === 'ratio' ? `${r.metric} / ${r.denominator ?? '?'} [${r.window}]` : `${r.reduce}(${r.metric}[${r.window}])`;
  return `${what} ${r.op} ${r.threshold}`;
}

/** Commander parser for --limit. */
function limitArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 1000) throw new InvalidArgumentError('must be a whole number from 1 to 1000');
  return n;
}

/**
 * The rules in a file: one rule, a list of rules, or `{rules: [...]}`; YAML or JSON (JSON is YAML).
 * Throws CLI_USAGE when the file cannot be read or holds no rule with a name.
 */
export function readRuleFile(path: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw CliErrors.CLI_USAGE(`cannot read ${path}: ${(error as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw CliErrors.CLI_USAGE(`${path} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : typeof doc === 'object' && doc !== null && Array.isArray((doc as { rules?: unknown }).rules) ? (doc as { rules: unknown[] }).rules : [doc];
  return list.map((rule, i) => {
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule) || typeof (rule as { name?: unknown }).name !== 'string') {
      throw CliErrors.CLI_USAGE(`${path}: rule ${i + 1} must be a mapping with a name (name, metric, op, threshold, …)`);
    }
    return rule as Record<string, unknown>;
  });
}

export function registerAlertsCommand(program: Command, io: CliIo): void {
  const alerts = program.command('alerts').description('alerts on Slipway\'s metrics and their rules (docs/alerts.md)');

  alerts
    .command('list')
    .description('pending and firing alerts (GET /api/v1/alerts)')
    .action(async (_options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const body = await createAlertsClient(ctx.clientOptions).list();
      ctx.out.result(body, () =>
        ctx.out.table(
          ['RULE', 'SEVERITY', 'STATE', 'ENDPOINT', 'VERSION', 'VALUE', 'CONDITION', 'SINCE', 'ACTION'],
          body.alerts.map((a) => [a.rule, a.severity, a.state, a.endpoint ?? '-', versionOf(a), num(a.value), `${a.op} ${a.threshold}`, formatTime(a.firingSince ?? a.since), a.action === null ? '-' : `${a.action.kind}: ${a.action.status}`]),
          'No alerts are pending or firing.',
        ),
      );
    });

  alerts
    .command('rules')
    .description('the alert rules, from the configuration file and the API (GET /api/v1/alerts/rules)')
    .action(async (_options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const body = await createAlertsClient(ctx.clientOptions).rules();
      ctx.out.result(body, () =>
        ctx.out.table(
          ['NAME', 'SOURCE', 'CONDITION', 'FOR', 'SEVERITY', 'ACTION', 'HEALTH', 'FIRING'],
          body.rules.map((r) => [r.name, r.source, truncate(condition(r.rule), 70), r.rule.for, r.rule.severity, r.rule.action, r.lastError === null ? r.health : `${r.health}: ${truncate(r.lastError, 40)}`, String(r.firing)]),
          'No alert rules. Add one with `slipway alerts set -f rule.yaml` or monitoring.alerts.rules in the configuration.',
        ),
      );
    });

  alerts
    .command('set')
    .description('create or replace alert rules from a YAML or JSON file: one rule, a list, or {rules: [...]} (PUT /api/v1/alerts/rules/NAME)')
    .requiredOption('-f, --file <path>', 'the rule file')
    .action(async (options: { file: string }, command: Command) => {
      const ctx = commandContext(io, command);
      const client = createAlertsClient(ctx.clientOptions);
      const results: AlertRulePutResponse[] = [];
      for (const rule of readRuleFile(ctx.path(options.file))) results.push(await client.putRule(String(rule.name), rule));
      ctx.out.result(results.length === 1 ? results[0] : results, () => {
        for (const r of results) ctx.out.line(`Alert rule ${r.rule.name} ${r.created ? 'created' : 'replaced'}: ${condition(r.rule.rule)} for ${r.rule.rule.for} (${r.rule.rule.severity})`);
      });
    });

  alerts
    .command('delete')
    .description('delete an alert rule made through the API; its firing alerts resolve (DELETE /api/v1/alerts/rules/NAME)')
    .argument('<name>', 'the rule')
    .action(async (name: string, _options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const body = await createAlertsClient(ctx.clientOptions).deleteRule(name);
      ctx.out.result(body, () => ctx.out.line(`Alert rule ${body.deleted} deleted.`));
    });

  alerts
    .command('history')
    .description('firing, resolved and action events, newest first (GET /api/v1/alerts/history)')
    .option('--limit <n>', 'how many events (1–1000, default 100)', limitArg)
    .option('--rule <name>', 'only this rule\'s events')
    .action(async (options: { limit?: number; rule?: string }, command: Command) => {
      const ctx = commandContext(io, command);
      const body = await createAlertsClient(ctx.clientOptions).history(options);
      ctx.out.result(body, () =>
        ctx.out.table(
          ['AT', 'EVENT', 'RULE', 'SEVERITY', 'ENDPOINT', 'VERSION', 'MESSAGE'],
          body.events.map((e: AlertHistoryEvent) => [formatTime(e.at), e.type, e.rule, e.severity, e.alert.endpoint ?? '-', versionOf(e.alert), truncate(e.message, 80)]),
          'No alert events yet.',
        ),
      );
    });
}

/** `slipway business ENDPOINT [--since 24h] [--until T]`: conversion, revenue, accuracy (and MAE/RMSE for numeric labels), cost and value per variant and version. */
import type { Command } from 'commander';
import type { BusinessResponse } from '../../monitoring/business/api.js';
import { createBusinessClient } from '../../monitoring/business/client.js';
import type { BusinessFigures, RateInterval } from '../../monitoring/business/index.js';
import { commandContext, type CommandContext } from '../context.js';
import type { CliIo } from '../io.js';
import { formatTime } from '../output.js';

/** A number in at most `digits` significant digits, `-` for none. */
export function formatAmount(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return '-';
  if (x === 0) return '0';
  return Number(x.toPrecision(digits)).toString();
}

/** `12.3% [10.1–14.8]`: a rate with its interval; `-` for none. */
export function formatRate(rate: number | null, interval: RateInterval | null): string {
  if (rate === null) return '-';
  const pct = (x: number): string => `${Number((x * 100).toFixed(1))}`;
  return interval === null ? `${pct(rate)}%` : `${pct(rate)}% [${pct(interval.lower)}–${pct(interval.upper)}]`;
}

function row(variant: string, version: string, f: BusinessFigures): string[] {
  return [
    variant,
    version,
    String(f.predictions),
    f.conversion === null ? 'n/a' : `${formatRate(f.conversion.rate, f.conversion.interval)} (${f.conversion.conversions})`,
    f.revenue === null ? 'n/a' : formatAmount(f.revenue.sum, 6),
    f.revenue === null ? 'n/a' : formatAmount(f.revenue.meanPerPrediction),
    f.accuracy.accuracy === null ? '-' : `${formatRate(f.accuracy.accuracy, f.accuracy.interval)} (${f.accuracy.labels})`,
    f.error.mae === null ? '-' : `${formatAmount(f.error.mae)} / ${formatAmount(f.error.rmse)} (${f.error.labels})`,
    formatAmount(f.cpuSeconds),
    formatAmount(f.costPer1kPredictions, 3),
    f.value === null ? '-' : formatAmount(f.valuePer1kPredictions),
    formatAmount(f.netValuePer1kPredictions),
  ];
}

/** The readable report: a header, then one row per version and a pooled row for a variant with several. */
export function printBusiness(ctx: CommandContext, r: BusinessResponse): void {
  ctx.out.line(`Endpoint ${r.endpoint} — predictions from ${formatTime(r.since)} to ${r.until === null ? 'now' : formatTime(r.until)}`);
  ctx.out.line(`  conversion event "${r.conversionEvent}", revenue event "${r.revenueEvent}"`);
  ctx.out.line(r.pricePerCoreHour === null ? `  cost: ${r.costReason ?? 'not computed'}` : `  cost: ${r.pricePerCoreHour} ${r.currency} per core-hour of measured CPU`);
  const values = Object.entries(r.outcomeValues);
  ctx.out.line(values.length === 0 ? `  value: ${r.valueReason ?? 'not computed'}` : `  value: ${values.map(([e, v]) => `${e} = ${v} ${r.currency}`).join(', ')}`);
  const u = r.usage;
  if (u === null) ctx.out.line(`  CPU: ${r.costReason ?? 'not measured'}`);
  else {
    const span = u.measuredSince === null || u.measuredUntil === null ? 'nothing measured in this window' : `measured ${formatTime(u.measuredSince)} to ${formatTime(u.measuredUntil)} (window edges within ${u.resolutionSeconds} s)`;
    ctx.out.line(`  CPU: ${span}${u.complete ? '' : ' — INCOMPLETE: the meter\'s history starts after the window does'}`);
    for (const v of u.unmatched) ctx.out.line(`  CPU of ${v.model === '' ? '?' : v.model}:${v.version} with no predictions in the window: ${formatAmount(v.cpuSeconds)} s`);
    ctx.out.line(`  process CPU ${formatAmount(u.processCpuSeconds)} s over the span, of which ${formatAmount(u.unattributedCpuSeconds)} s while no version ran`);
  }
  if (r.unroutedPredictions > 0) ctx.out.line(`  ${r.unroutedPredictions} requests were refused before a version was chosen (in no row)`);
  ctx.out.line();
  const rows: string[][] = [];
  for (const v of r.variants) {
    for (const x of v.versions) rows.push(row(v.variant, x.version === null ? '-' : `${x.model ?? '?'}:${x.version}`, x));
    if (v.versions.length > 1) rows.push(row(v.variant, '(all)', v));
  }
  ctx.out.table(
    ['VARIANT', 'VERSION', 'PREDICTIONS', 'CONVERSION (95% CI, N)', 'REVENUE', 'REV/PRED', 'ACCURACY (95% CI, LABELS)', 'MAE / RMSE (LABELS)', 'CPU S', `COST/1K ${r.currency}`, `VALUE/1K ${r.currency}`, `NET/1K ${r.currency}`],
    rows,
    '  no predictions recorded for this endpoint in the window',
  );
}

export function registerBusinessCommand(program: Command, io: CliIo): void {
  program
    .command('business')
    .description('business metrics of an endpoint per variant and version: conversion rate, revenue, label accuracy (and MAE/RMSE where labels and predictions are numbers), CPU cost and value per 1,000 predictions (GET /api/v1/endpoints/NAME/business; docs/business-metrics.md)')
    .argument('<endpoint>', 'the endpoint')
    .option('--since <time>', 'start of the window: a duration ago (24h, 7d, 90m), an ISO-8601 time or epoch milliseconds (default: the server\'s monitoring.business.defaultWindowHours, 24h)')
    .option('--until <time>', 'end of the window, in the same forms (default: now)')
    .action(async (endpoint: string, options: { since?: string; until?: string }, command: Command) => {
      const ctx = commandContext(io, command);
      const body = await createBusinessClient(ctx.clientOptions).report(endpoint, {
        ...(options.since === undefined ? {} : { since: options.since }),
        ...(options.until === undefined ? {} : { until: options.until }),
      });
      ctx.out.result(body, () => printBusiness(ctx, body));
    });
}

/**
 * `slipway drift report ENDPOINT [--version N] [--html FILE]`: the live drift of an endpoint version
 * against its reference profile; `slipway drift history ENDPOINT`: the stored checks of closed windows.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createHttpCaller } from '../../control/client.js';
import type { DriftHistoryResponse, EndpointDriftResponse } from '../../monitoring/drift/api.js';
import { renderDriftHtml } from '../../monitoring/drift/html.js';
import type { DriftReport } from '../../monitoring/drift/index.js';
import { commandContext, type CommandContext } from '../context.js';
import type { CliIo } from '../io.js';
import { versionArg } from './models.js';

function num(x: number | null, digits = 3): string {
  return x === null ? '-' : Number(x.toPrecision(digits)).toString();
}

function printReport(ctx: CommandContext, title: string, r: DriftReport): void {
  const w = r.window;
  ctx.out.line(`${title}: ${r.status.replace('_', ' ')} — window ${w.sequence} (${w.state}), ${w.rows.toLocaleString('en-US')} rows`);
  ctx.out.line(
    `  dataset: ${r.dataset.driftedFeatures.length} of ${r.dataset.evaluated} evaluated features drifted (share ${num(r.dataset.driftedShare)}, threshold ${r.dataset.threshold})${r.dataset.drifted ? ' — DATASET DRIFT' : ''}`,
  );
  const rows = [...r.features, ...(r.predictions === null ? [] : [{ ...r.predictions, name: `(predictions) ${r.predictions.name}` }])];
  ctx.out.table(
    ['FEATURE', 'KIND', 'METHOD', 'STATISTIC', 'P (ADJ)', 'EFFECT', 'THRESHOLD', 'DRIFT'],
    rows.map((f) => [f.name, f.kind, f.method, num(f.statistic), num(f.adjustedPValue), num(f.effectSize), String(f.effectThreshold), f.status === 'insufficient_data' ? 'too few rows' : f.drifted ? 'DRIFT' : 'no']),
    '  ',
  );
  const p = r.performance;
  if (p !== null) {
    const against = p.reference === null ? '' : ` against the reference's ${num(p.reference)}${p.relativeChange === null ? '' : ` (${p.relativeChange >= 0 ? '+' : ''}${num(p.relativeChange * 100)} % worse)`}`;
    const test = p.pValue === null ? '' : `, ${p.test} p ${num(p.pValue)}`;
    const verdict = p.degraded === null ? 'not judged' : p.degraded ? 'DEGRADED' : 'not degraded';
    ctx.out.line(`  performance: ${p.labels.toLocaleString('en-US')} labels, ${p.metric} ${num(p.value)}${against}${test} — ${verdict}`);
  }
}

export function registerDriftCommand(program: Command, io: CliIo): void {
  const drift = program.command('drift').description('live drift of an endpoint against its reference profile (docs/drift.md)');
  drift
    .command('report')
    .description('check the endpoint version\'s live window against its reference profile: every feature\'s test, effect size and verdict (GET /api/v1/endpoints/NAME/drift)')
    .argument('<endpoint>', 'the endpoint')
    .option('--version <n>', 'the version to report (default: the one serving as stable)', versionArg)
    .option('--html <file>', 'also write the report as one HTML page with a chart per feature (reference against live)')
    .action(async (endpoint: string, options: { version?: number; html?: string }, command: Command) => {
      const ctx = commandContext(io, command);
      const { call } = createHttpCaller(ctx.clientOptions);
      const query = options.version === undefined ? '' : `?version=${options.version}`;
      const body = await call<EndpointDriftResponse>('GET', `/api/v1/endpoints/${encodeURIComponent(endpoint)}/drift${query}`);
      if (options.html !== undefined) {
        const path = resolve(io.cwd, options.html);
        await writeFile(path, renderDriftHtml(body.drift, Date.now()));
        io.stderr.write(`HTML report written to ${path}\n`);
      }
      ctx.out.result(body, () => {
        const d = body.drift;
        ctx.out.line(`Endpoint ${d.endpoint} — ${d.model}:${d.version}`);
        printReport(ctx, 'Open window', d.current);
        if (d.previous !== null) {
          ctx.out.line();
          printReport(ctx, 'Last closed window', d.previous);
        }
      });
    });

  drift
    .command('history')
    .description('the stored checks of an endpoint\'s closed drift windows, newest first (GET /api/v1/endpoints/NAME/drift/history)')
    .argument('<endpoint>', 'the endpoint')
    .option('--version <n>', 'only this version', versionArg)
    .option('--limit <n>', 'most results (default 20)', versionArg)
    .action(async (endpoint: string, options: { version?: number; limit?: number }, command: Command) => {
      const ctx = commandContext(io, command);
      const { call } = createHttpCaller(ctx.clientOptions);
      const search = new URLSearchParams();
      if (options.version !== undefined) search.set('version', String(options.version));
      if (options.limit !== undefined) search.set('limit', String(options.limit));
      const q = search.toString();
      const body = await call<DriftHistoryResponse>('GET', `/api/v1/endpoints/${encodeURIComponent(endpoint)}/drift/history${q === '' ? '' : `?${q}`}`);
      ctx.out.result(body, () => {
        if (body.results.length === 0) {
          ctx.out.line(`No closed drift window of ${endpoint} has been checked yet (a window closes after monitoring.drift.windowRows rows or windowMinutes).`);
          return;
        }
        ctx.out.table(
          ['CHECKED', 'VERSION', 'WINDOW', 'ROWS', 'STATUS', 'DRIFTED FEATURES', 'PERFORMANCE'],
          body.results.map((r) => {
            const p = r.report.performance;
            return [
              new Date(r.at).toISOString(),
              String(r.version),
              String(r.report.window.sequence),
              String(r.report.window.rows),
              r.report.status.replace('_', ' '),
              r.report.dataset.driftedFeatures.join(', ') || '-',
              p === null ? '-' : `${p.metric} ${num(p.value)}${p.degraded === true ? ' DEGRADED' : ''}`,
            ];
          }),
          '',
        );
      });
    });
}

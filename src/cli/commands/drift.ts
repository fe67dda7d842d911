/** `slipway drift report ENDPOINT [--version N]`: the live drift of an endpoint version against its reference profile. */
import type { Command } from 'commander';
import { createHttpCaller } from '../../control/client.js';
import type { EndpointDriftResponse } from '../../monitoring/drift/api.js';
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
}

export function registerDriftCommand(program: Command, io: CliIo): void {
  const drift = program.command('drift').description('live drift of an endpoint against its reference profile (docs/drift.md)');
  drift
    .command('report')
    .description('check the endpoint version\'s live window against its reference profile: every feature\'s test, effect size and verdict (GET /api/v1/endpoints/NAME/drift)')
    .argument('<endpoint>', 'the endpoint')
    .option('--version <n>', 'the version to report (default: the one serving as stable)', versionArg)
    .action(async (endpoint: string, options: { version?: number }, command: Command) => {
      const ctx = commandContext(io, command);
      const { call } = createHttpCaller(ctx.clientOptions);
      const query = options.version === undefined ? '' : `?version=${options.version}`;
      const body = await call<EndpointDriftResponse>('GET', `/api/v1/endpoints/${encodeURIComponent(endpoint)}/drift${query}`);
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
}

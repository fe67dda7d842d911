/**
 * `slipway plan MODEL:VERSION --rps R --p99-ms L [--price-per-core-hour P]`: measures the version on
 * the server's machine across batch sizes, replicas, threads and batching knobs, then prints the
 * recommended serving configuration, its expected latency, utilisation and cost, the alternatives
 * and the measurements (docs/plan.md). Exits 11 when no configuration meets the target.
 * `slipway plans list MODEL[:VERSION]` and `slipway plans show ID` read the plans the server kept.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { formatPlan } from '../../optimize/plan/format.js';
import { createValidationClient } from '../../validate/client.js';
import { commandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { resolveVersion } from './profile.js';
import { pollJob, validationProgress } from './validate.js';

interface PlanOptions {
  rps: string;
  p99Ms: string;
  pricePerCoreHour?: string;
  currency?: string;
  headroom?: string;
  budget?: string;
  data?: string;
}

const POLL_MS = 500;

function number(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw CliErrors.CLI_USAGE(`${flag} must be a number, got ${JSON.stringify(text)}`);
  return n;
}

export function registerPlanCommand(program: Command, io: CliIo): void {
  program
    .command('plan')
    .description('measure a model version on the server’s machine and recommend a serving configuration for a target (docs/plan.md)')
    .argument('<model>', 'NAME:VERSION, NAME@ALIAS, or NAME for its latest version')
    .requiredOption('--rps <n>', 'requests per second to serve')
    .requiredOption('--p99-ms <ms>', 'the p99 latency to stay under, milliseconds')
    .option('--price-per-core-hour <price>', 'what a core-hour costs: adds the cost per 1M predictions')
    .option('--currency <code>', 'the price’s currency label (default USD)')
    .option('--headroom <share>', 'share of measured capacity to plan for, in (0, 1] (default 0.7)')
    .option('--budget <seconds>', 'how long the measurement may take, 10–600 s (default 60)')
    .option('--data <file.csv>', 'rows to measure with (default zero-filled inputs)')
    .action(async (ref: string, options: PlanOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const client = createValidationClient(ctx.clientOptions);
      const { model, version } = await resolveVersion(ctx, ref);
      const rps = number(options.rps, '--rps') as number;
      const p99Ms = number(options.p99Ms, '--p99-ms') as number;
      const price = number(options.pricePerCoreHour, '--price-per-core-hour');
      const headroom = number(options.headroom, '--headroom');
      const budget = number(options.budget, '--budget');
      const data = options.data === undefined ? undefined : (await client.uploadDataset(ctx.path(options.data), basename(options.data))).dataset.digest;
      const { plan: started } = await client.startPlan(model, version, {
        rps,
        p99Ms,
        ...(price === undefined ? {} : { pricePerCoreHour: price }),
        ...(options.currency === undefined ? {} : { currency: options.currency }),
        ...(headroom === undefined ? {} : { headroom }),
        ...(budget === undefined ? {} : { budgetSeconds: budget }),
        ...(data === undefined ? {} : { data }),
      });
      const { plan } = await pollJob(() => client.plan(started.id), ({ plan: p }) => ({ progress: p.progress, ended: p.status !== 'running' }), validationProgress(io.stderr, 'Planning'), POLL_MS);
      if (plan.status === 'failed' || plan.plan === null) throw CliErrors.CLI_CHECK_FAILED(`the capacity plan ${plan.id} failed: ${plan.error?.message ?? 'unknown error'} [${plan.error?.code ?? ''}]`);
      const result = plan.plan;
      ctx.out.result({ plan: result }, () => ctx.out.line(formatPlan(result).trimEnd()));
      if (!result.feasible) throw CliErrors.CLI_CHECK_FAILED(`no configuration measured here meets ${rps} req/s at p99 ≤ ${p99Ms} ms: ${result.reason ?? ''}`);
    });

  const plans = program.command('plans').description('the capacity plans the server has kept, with their versions (docs/plan.md)');
  plans
    .command('list')
    .description('a version’s plans, newest first (GET /api/v1/models/{model}/versions/{version}/plans)')
    .argument('<model>', 'NAME:VERSION, NAME@ALIAS, or NAME for its latest version')
    .action(async (ref: string, _options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const { model, version } = await resolveVersion(ctx, ref);
      const body = await createValidationClient(ctx.clientOptions).listPlans(model, version);
      ctx.out.result(body, () =>
        ctx.out.table(
          ['ID', 'STATUS', 'FINISHED', 'TARGET', 'FEASIBLE', 'RECOMMENDATION'],
          body.plans.map((p) => [
            p.id,
            p.status,
            p.finishedAt ?? '-',
            p.target === null ? '-' : `${p.target.rps} req/s, p99 ≤ ${p.target.p99Ms} ms`,
            p.feasible === null ? '-' : p.feasible ? 'yes' : 'no',
            p.recommendation === null ? (p.error === null ? '-' : `${p.error.code}`) : `${p.recommendation.instances} × ${p.recommendation.configuration} (p99 ${p.recommendation.expectedP99Ms.toFixed(2)} ms)`,
          ]),
          `No capacity plans of ${model}:${version} on record; run \`slipway plan ${model}:${version} --rps R --p99-ms L\`.`,
        ),
      );
    });
  plans
    .command('show')
    .description('one plan as `slipway plan` printed it (GET /api/v1/plans/{id})')
    .argument('<id>', 'the plan id (`slipway plans list` shows them)')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const { plan } = await createValidationClient(ctx.clientOptions).plan(id);
      ctx.out.result({ plan }, () => {
        if (plan.plan !== null) ctx.out.line(formatPlan(plan.plan).trimEnd());
        else ctx.out.line(`plan ${plan.id} of ${plan.model}:${plan.version}: ${plan.status}${plan.error === null ? '' : ` — ${plan.error.message} [${plan.error.code}]`}`);
      });
    });
}

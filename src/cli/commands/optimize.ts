/**
 * `slipway optimize MODEL:VERSION --quantize dynamic|weight-int8 [--prune 0.5 [--structured]]
 * [--data FILE.csv --target COLUMN] [--gates FILE] [--alias NAME]`: the server rewrites the graph,
 * registers the result as a new version (lineage: the parent), validates it against the parent on
 * the same data, and moves the alias only when every gate passes. Prints what the rewrite did and
 * the size, latency and accuracy deltas; exits 11 when a gate failed (docs/optimize.md).
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { Optimization } from '../../optimize/service.js';
import { createValidationClient } from '../../validate/client.js';
import type { ValidationReport } from '../../validate/types.js';
import { commandContext, type CommandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { formatBytes } from '../output.js';
import { resolveVersion } from './profile.js';
import { formatFigure, pollJob, printGates, readGatesFile, validationProgress } from './validate.js';

interface OptimizeOptions {
  quantize?: string;
  perTensor?: boolean;
  prune?: string;
  structured?: boolean;
  data?: string;
  target?: string;
  gates?: string;
  alias?: string;
}


const fmt = formatFigure;

/** `-67.7 %`: the change from `before` to `after`, relative. */
function relative(before: number | undefined, after: number | undefined): string {
  if (before === undefined || after === undefined || !Number.isFinite(before) || !Number.isFinite(after) || before === 0) return '-';
  const change = ((after - before) / before) * 100;
  return `${change >= 0 ? '+' : ''}${change.toFixed(1)} %`;
}

/** The rows of the delta table: the figures that matter for an optimisation, parent against child. */
export function deltaRows(report: ValidationReport): string[][] {
  const c = report.candidate.figures;
  const b = report.baseline?.figures ?? {};
  const rows: string[][] = [];
  rows.push(['size', formatBytes(b.size_bytes ?? NaN), formatBytes(c.size_bytes ?? NaN), relative(b.size_bytes, c.size_bytes)]);
  for (const l of report.candidate.performance.latency) {
    const key = `latency.batch_${l.batchSize}.p50_ms`;
    rows.push([`p50 latency, batch ${l.batchSize}`, `${fmt(b[key], 3)} ms`, `${fmt(c[key], 3)} ms`, relative(b[key], c[key])]);
  }
  for (const l of report.comparison?.latency ?? []) {
    rows.push([`p50 ratio, batch ${l.batchSize}`, '', `${fmt(l.p50Ratio, 3)}×`, `95 % interval ${fmt(l.lower, 3)}–${fmt(l.upper, 3)}×`]);
  }
  rows.push(['load time', `${fmt(b.load_ms, 3)} ms`, `${fmt(c.load_ms, 3)} ms`, relative(b.load_ms, c.load_ms)]);
  for (const name of ['accuracy', 'macro.f1', 'roc_auc', 'log_loss', 'rmse', 'mae', 'r2']) {
    if (c[name] === undefined && b[name] === undefined) continue;
    const d = c[name] !== undefined && b[name] !== undefined ? (c[name]) - (b[name]) : NaN;
    rows.push([name, fmt(b[name]), fmt(c[name]), Number.isFinite(d) ? `${d >= 0 ? '+' : ''}${fmt(d, 3)}` : '-']);
  }
  if (report.comparison?.agreement !== null && report.comparison?.agreement !== undefined) rows.push(['same prediction', '', `${fmt(report.comparison.agreement * 100, 4)} % of rows`, '']);
  if (report.comparison?.maxAbsDiff !== null && report.comparison?.maxAbsDiff !== undefined) rows.push(['largest output difference', '', fmt(report.comparison.maxAbsDiff, 3), '']);
  return rows;
}

function printOptimization(ctx: CommandContext, o: Optimization, report: ValidationReport): void {
  const rewrite: [string, string][] = [];
  if (o.prune !== null) {
    const p = o.prune;
    const what = p.structured
      ? `${p.layers.length} layer${p.layers.length === 1 ? '' : 's'} shrunk (${p.layers.map((l) => `${l.node} ${l.units.before}→${l.units.after}`).join(', ')})`
      : `${p.tensors.length} weight${p.tensors.length === 1 ? '' : 's'} pruned to ${fmt((1 - p.nonzeroWeights.after / Math.max(1, p.nonzeroWeights.before)) * 100, 3)} % fewer non-zero values`;
    rewrite.push(['Pruning', `${p.structured ? 'structured' : 'magnitude'} ${p.sparsity}: ${what}${p.skipped.length === 0 ? '' : `; ${p.skipped.length} skipped`}`]);
  }
  if (o.quantize !== null) {
    const q = o.quantize;
    const ops = Object.entries(q.rewritten).map(([op, n]) => `${op}×${n}`).join(', ');
    rewrite.push(['Quantization', `${q.mode}${q.perChannel ? ' per channel' : ' per tensor'}: ${ops}; weights ${formatBytes(q.weightBytes.before)} → ${formatBytes(q.weightBytes.after)}${q.skipped.length === 0 ? '' : `; ${q.skipped.length} skipped`}`]);
  }
  ctx.out.fields([['Parent', `${o.model}:${o.parent}`], ['New version', `${o.model}:${o.version.version}${o.created ? '' : ' (the same bytes were registered already)'}`], ...rewrite, ['Validation', report.id]]);
  ctx.out.line();
  ctx.out.table(['', `PARENT ${o.parent}`, `NEW ${o.version.version}`, 'CHANGE'], deltaRows(report), 'No figures.');
  ctx.out.line();
  printGates(ctx, report);
  ctx.out.line(report.passed ? 'PASSED' : 'FAILED: the new version is slower or less accurate than the gates allow');
  if (o.alias !== null) ctx.out.line(o.alias.status === 'moved' ? `Alias ${o.alias.name} → ${o.version.version}` : `Alias ${o.alias.name} NOT moved: ${o.alias.reason}`);
}

export function registerOptimizeCommand(program: Command, io: CliIo): void {
  program
    .command('optimize')
    .description('quantize and/or prune a version into a new one, validated against its parent with gates (docs/optimize.md)')
    .argument('<model>', 'NAME:VERSION, NAME@ALIAS, or NAME for its latest version')
    .option('--quantize <mode>', 'dynamic (int8 weights, activations quantised at run time) or weight-int8 (int8 weights, float compute)')
    .option('--per-tensor', 'one quantisation scale per weight tensor instead of per output channel')
    .option('--prune <sparsity>', 'remove this fraction of the weights (0 < s < 1), smallest magnitudes first')
    .option('--structured', 'with --prune: remove whole neurons or channels, so the layers really shrink')
    .option('--data <file.csv>', 'labelled data to validate the new version against its parent on')
    .option('--target <column>', 'the column of --data holding the true label or value')
    .option('--gates <gates.yaml>', 'the gate policy (default: no more than a point of accuracy lost, no more than 25 % slower at batch 1, edge cases handled)')
    .option('--alias <alias>', 'move this alias to the new version when every gate passes')
    .action(async (ref: string, options: OptimizeOptions, command: Command) => {
      const ctx = commandContext(io, command);
      if ((options.data === undefined) !== (options.target === undefined)) throw CliErrors.CLI_USAGE('--data and --target go together: the file and the column holding the true label or value');
      if (options.quantize === undefined && options.prune === undefined) throw CliErrors.CLI_USAGE('give --quantize dynamic|weight-int8, --prune SPARSITY, or both');
      const prune = options.prune === undefined ? undefined : Number(options.prune);
      if (prune !== undefined && !Number.isFinite(prune)) throw CliErrors.CLI_USAGE(`--prune must be a number between 0 and 1, got ${JSON.stringify(options.prune)}`);
      const gates = options.gates === undefined ? undefined : await readGatesFile(ctx, options.gates);
      const { model, version } = await resolveVersion(ctx, ref);
      const client = createValidationClient(ctx.clientOptions);
      const data = options.data === undefined ? undefined : (await client.uploadDataset(ctx.path(options.data), basename(options.data))).dataset.digest;
      const { optimization: started } = await client.optimize(model, version, {
        ...(options.quantize === undefined ? {} : { quantize: options.quantize as 'dynamic' }),
        ...(options.perTensor === true ? { perChannel: false } : {}),
        ...(prune === undefined ? {} : { prune }),
        ...(options.structured === true ? { structured: true } : {}),
        ...(data === undefined ? {} : { data, target: options.target }),
        ...(gates === undefined ? {} : { gates }),
        ...(options.alias === undefined ? {} : { alias: options.alias }),
      });
      io.stderr.write(`optimize: registered ${model}:${started.version.version}; validating it against ${model}:${version}\n`);
      // the alias settles right after the validation: wait for both
      const { optimization: o } = await pollJob(
        () => client.optimization(started.id),
        ({ optimization }) => ({ progress: optimization.validation.progress, ended: optimization.validation.status !== 'running' && (optimization.alias === null || optimization.alias.status !== 'pending') }),
        validationProgress(io.stderr),
      );
      // a failed run answers with its error
      const report = (await client.report(started.id)).report;
      ctx.out.result({ optimization: o, report }, () => printOptimization(ctx, o, report));
      if (!report.passed) {
        const failed = (report.gates?.results ?? []).filter((g) => !g.passed).map((g) => g.name);
        throw CliErrors.CLI_CHECK_FAILED(`${model}:${o.version.version} failed its gates against ${model}:${version}: ${failed.join('; ') || 'an edge case failed'}${o.alias === null ? '' : `; alias ${o.alias.name} not moved`}`);
      }
    });
}

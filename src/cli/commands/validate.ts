/**
 * `slipway validate MODEL:VERSION [--data FILE.csv --target COLUMN] [--baseline MODEL:VERSION]
 * [--gates gates.yaml]` uploads the data, starts a validation on the server, draws its progress,
 * prints the report and the gates, and exits 11 (CLI_CHECK_FAILED) when a gate or an edge case
 * failed. `--report ID` prints a stored report; `--html FILE` writes the HTML page.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { TextOutput } from '../io.js';
import { createValidationClient, type StartValidationBody, type ValidationClient } from '../../validate/client.js';
import { parseGates } from '../../validate/gates.js';
import type { ValidationProgress, ValidationReport, ValidationSettings, VersionMeasurements } from '../../validate/types.js';
import { commandContext, parseModelRef, type CommandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { resolveVersion } from './profile.js';

interface ValidateOptions {
  data?: string;
  target?: string;
  baseline?: string;
  gates?: string;
  slice?: string;
  batchSizes?: string;
  noiseLevels?: string;
  seed?: string;
  html?: string;
  wait?: boolean;
  report?: string;
}

/** How often a running validation is looked at. */
const POLL_MS = 300;

/** A figure in at most `digits` significant digits; `-` when there is none. */
export const formatFigure = (x: number | null | undefined, digits = 4): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : String(Number(x.toPrecision(digits))));
const fmt = formatFigure;

/** Reads a gate policy file given on the command line (its text: the server parses it again). */
export async function readGatesFile(ctx: CommandContext, file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(ctx.path(file), 'utf8');
  } catch (error) {
    throw CliErrors.CLI_USAGE(`cannot read the gate policy ${file}: ${(error as Error).message}`);
  }
  // refused here already, with the file's name, rather than after an upload
  parseGates(text, file);
  return text;
}

/** The gates' table: each gate, what was measured, what it was compared with, and the verdict. */
export function printGates(ctx: CommandContext, report: ValidationReport): void {
  ctx.out.table(
    ['GATE', 'ACTUAL', 'THRESHOLD', 'RESULT'],
    (report.gates?.results ?? []).map((g) => [g.name, fmt(g.actual), fmt(g.threshold), g.passed ? 'pass' : `FAIL: ${g.reason}`]),
    'No gates.',
  );
}

/** A progress bar on a TTY, one line per stage otherwise. */
export function validationProgress(stderr: TextOutput, label = 'Validating'): { update(p: ValidationProgress): void; done(): void } {
  let lastStage = '';
  let drawn = false;
  return {
    update(p) {
      if (stderr.isTTY === true) {
        const width = 24;
        const filled = Math.round((p.done / Math.max(1, p.total)) * width);
        stderr.write(`\r\x1b[K${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total} ${p.stage}`);
        drawn = true;
      } else if (p.stage !== lastStage) {
        stderr.write(`${label.toLowerCase()}: ${p.stage} (${p.done}/${p.total})\n`);
      }
      lastStage = p.stage;
    },
    done() {
      if (drawn) stderr.write('\r\x1b[K');
    },
  };
}

/**
 * Reads a server job every `intervalMs` until `ended` says so, drawing its progress through
 * `progress` (and clearing the line after): what the CLI's long-running commands share.
 */
export async function pollJob<T>(
  read: () => Promise<T>,
  view: (t: T) => { readonly progress: ValidationProgress; readonly ended: boolean },
  progress: { update(p: ValidationProgress): void; done(): void },
  intervalMs = POLL_MS,
): Promise<T> {
  try {
    for (;;) {
      const t = await read();
      const v = view(t);
      progress.update(v.progress);
      if (v.ended) return t;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  } finally {
    progress.done();
  }
}

/** Waits for a validation to end; resolves with its report, rejects with its error (the server answers a failed run's report with it). */
export async function waitForValidation(client: ValidationClient, id: string, progress: { update(p: ValidationProgress): void; done(): void }): Promise<ValidationReport> {
  await pollJob(() => client.job(id), ({ validation }) => ({ progress: validation.progress, ended: validation.status !== 'running' }), progress);
  return (await client.report(id)).report;
}

function list(text: string | undefined, flag: string, integer: boolean): number[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(',').map((x) => x.trim()).filter((x) => x !== '').map(Number);
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || (integer && !Number.isInteger(v)))) {
    throw CliErrors.CLI_USAGE(`${flag} must be a comma-separated list of ${integer ? 'whole numbers' : 'numbers'}, got ${JSON.stringify(text)}`);
  }
  return values;
}

/** The settings the flags override. */
function settingsOf(options: ValidateOptions): Partial<ValidationSettings> | undefined {
  const batchSizes = list(options.batchSizes, '--batch-sizes', true);
  const noiseLevels = list(options.noiseLevels, '--noise-levels', false);
  const seed = list(options.seed, '--seed', true)?.[0];
  const s: Partial<ValidationSettings> = {
    ...(batchSizes === undefined ? {} : { batchSizes }),
    ...(noiseLevels === undefined ? {} : { noiseLevels }),
    ...(seed === undefined ? {} : { seed }),
    ...(options.slice === undefined ? {} : { sliceBy: options.slice }),
  };
  return Object.keys(s).length === 0 ? undefined : s;
}

function measurementLines(m: VersionMeasurements): [string, string][] {
  const f = m.figures;
  const rows: [string, string][] = [];
  const a = m.accuracy;
  if (a?.classification !== undefined) {
    rows.push(['Accuracy', `${fmt(f.accuracy)} (macro F1 ${fmt(f['macro.f1'])}, ROC AUC ${fmt(f.roc_auc)}, log loss ${fmt(f.log_loss)}, ECE ${fmt(f.ece)}) on ${a.rows} rows`]);
  } else if (a?.regression !== undefined) {
    rows.push(['Accuracy', `MAE ${fmt(f.mae)}, RMSE ${fmt(f.rmse)}, R² ${fmt(f.r2)} on ${a.rows} rows`]);
  }
  const lat = m.performance.latency.map((l) => `b${l.batchSize} p50 ${fmt(l.p50Ms, 3)} / p99 ${fmt(l.p99Ms, 3)} ms`).join(', ');
  rows.push(['Latency', lat]);
  rows.push(['Load', `${fmt(m.performance.loadMs, 3)} ms, ${fmt(m.performance.sizeBytes / 1024, 4)} KiB, +${fmt(m.performance.memory.rssDeltaBytes / (1024 * 1024), 3)} MiB resident`]);
  const r = m.robustness;
  if (r !== null) {
    const noise = r.noise.map((n) => `σ×${n.level}: ${fmt(n.value)}`).join(', ');
    rows.push(['Robustness', `${r.metric} clean ${fmt(r.clean)}; ${noise}`]);
    rows.push(['', `worst zeroed feature ${r.zeroed.worst[0]?.feature ?? '-'} (drop ${fmt(r.zeroed.worst[0]?.drop)}); missing → non-finite ${fmt(r.missing.nonFiniteShare * 100, 3)}%; out of range changed ${fmt(r.outOfRange.changedShare * 100, 3)}%`]);
    rows.push(['', r.worstCase.flipRate !== null ? `worst case ε=${r.worstCase.epsilon}σ flips ${fmt(r.worstCase.flipRate * 100, 3)}% of ${r.worstCase.rows} rows` : `worst case ε=${r.worstCase.epsilon}σ shifts ${fmt(r.worstCase.meanShift)} target σ`]);
  }
  rows.push(['Stability', `repeat max |Δ| ${fmt(m.stability.repeatMaxAbsDiff)}, batch vs single ${fmt(m.stability.batchMaxAbsDiff)}`]);
  const failed = m.edgeCases.filter((e) => !e.passed);
  rows.push(['Edge cases', `${m.edgeCases.length - failed.length}/${m.edgeCases.length} passed${failed.length === 0 ? '' : ` (failed: ${failed.map((e) => e.name).join(', ')})`}`]);
  return rows;
}

export function printValidation(ctx: CommandContext, r: ValidationReport): void {
  ctx.out.fields([
    ['Validation', r.id],
    ['Version', `${r.model}:${r.version}`],
    ['Data', r.data === null ? 'none (performance, stability and edge cases only)' : `${r.data.name}: ${r.data.rows} rows, ${r.data.features} features, target ${r.data.target ?? '-'}${r.data.ignoredColumns.length === 0 ? '' : `; ignored ${r.data.ignoredColumns.join(', ')}`}`],
    ...(r.baseline === null ? [] : ([['Baseline', `${r.baseline.model}:${r.baseline.version}`]] as [string, string][])),
    ['Duration', `${fmt(r.durationMs / 1000, 3)} s`],
  ]);
  ctx.out.line();
  ctx.out.line(`Candidate ${r.model}:${r.version}`);
  ctx.out.fields(measurementLines(r.candidate));
  if (r.baseline !== null) {
    ctx.out.line();
    ctx.out.line(`Baseline ${r.baseline.model}:${r.baseline.version}`);
    ctx.out.fields(measurementLines(r.baseline));
    if (r.comparison?.agreement !== null && r.comparison?.agreement !== undefined) ctx.out.line(`Agreement with the baseline: ${fmt(r.comparison.agreement * 100, 4)}% of rows`);
  }
  ctx.out.line();
  if (r.gates === null) ctx.out.line('Gates: none given');
  else printGates(ctx, r);
  ctx.out.line(r.passed ? 'PASSED' : 'FAILED');
}

export function registerValidateCommand(program: Command, io: CliIo): void {
  program
    .command('validate')
    .description('validate a model version before it ships: accuracy, performance, robustness, edge cases, gates (docs/validation.md)')
    .argument('<model>', 'NAME:VERSION, NAME@ALIAS, or NAME for its latest version')
    .option('--data <file.csv>', 'labelled data: a header row, then one example per row (without it: performance, stability and edge cases only)')
    .option('--target <column>', 'the column holding the true label or value')
    .option('--baseline <model>', 'a version to measure on the same data and compare with (NAME:VERSION or NAME@ALIAS); gates may name `baseline`')
    .option('--gates <gates.yaml>', 'a gate policy: exits 11 when a gate fails')
    .option('--slice <column>', 'report the metrics per value (or quartile) of this column')
    .option('--batch-sizes <list>', 'batch sizes latency is measured at (default 1,8,32,128)')
    .option('--noise-levels <list>', 'Gaussian noise levels in feature standard deviations (default 0.05,0.1,0.2,0.5)')
    .option('--seed <n>', 'seed of the samples and the noise (default 1)')
    .option('--html <file>', 'also write the report as an HTML page')
    .option('--no-wait', 'start the validation and print its id without waiting')
    .option('--report <id>', 'print a stored report instead of running one')
    .action(async (ref: string, options: ValidateOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const client = createValidationClient(ctx.clientOptions);
      let report: ValidationReport;
      if (options.report !== undefined) {
        report = (await client.report(options.report)).report;
      } else {
        if (options.target !== undefined && options.data === undefined) throw CliErrors.CLI_USAGE('--target applies with --data (the file whose column it names)');
        if (options.data !== undefined && options.target === undefined) throw CliErrors.CLI_USAGE('--data needs --target COLUMN: the column holding the true label or value');
        const { model, version } = await resolveVersion(ctx, ref);
        const body = await startBody(ctx, client, options);
        const { validation } = await client.start(model, version, body);
        if (options.wait === false) {
          ctx.out.result({ validation }, () => ctx.out.line(`Started validation ${validation.id} of ${model}:${version}; see it with \`slipway validate ${model}:${version} --report ${validation.id}\``));
          return;
        }
        report = await waitForValidation(client, validation.id, validationProgress(io.stderr));
      }
      if (options.html !== undefined) await writeFile(ctx.path(options.html), await client.reportHtml(report.id));
      ctx.out.result({ report }, () => {
        printValidation(ctx, report);
        if (options.html !== undefined) ctx.out.line(`HTML report written to ${options.html}`);
      });
      if (!report.passed) {
        const failed = (report.gates?.results ?? []).filter((g) => !g.passed).map((g) => g.name);
        const edges = report.candidate.edgeCases.filter((e) => !e.passed).map((e) => `edge case ${e.name}`);
        throw CliErrors.CLI_CHECK_FAILED(`validation ${report.id} of ${report.model}:${report.version} failed: ${[...failed, ...edges].join('; ')}`);
      }
    });
}

/** Uploads the data, reads the gates and resolves the baseline: the body of the start request. */
export async function startBody(ctx: CommandContext, client: ValidationClient, options: ValidateOptions): Promise<StartValidationBody> {
  const gates = options.gates === undefined ? undefined : await readGatesFile(ctx, options.gates);
  let baseline: StartValidationBody['baseline'];
  if (options.baseline !== undefined) {
    parseModelRef(options.baseline, '--baseline');
    baseline = await resolveVersion(ctx, options.baseline);
  }
  const data = options.data === undefined ? undefined : (await client.uploadDataset(ctx.path(options.data), basename(options.data))).dataset.digest;
  const settings = settingsOf(options);
  return {
    ...(data === undefined ? {} : { data }),
    ...(options.target === undefined ? {} : { target: options.target }),
    ...(baseline === undefined ? {} : { baseline }),
    ...(gates === undefined ? {} : { gates }),
    ...(settings === undefined ? {} : { settings }),
  };
}

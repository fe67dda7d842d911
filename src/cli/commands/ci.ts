/**
 * `slipway ci --model FILE --name NAME [--data FILE.csv --target COLUMN] [--gates FILE]
 * [--endpoint E --strategy canary|blue-green|FILE.yaml] [--alias NAME]`: one command for a CI job.
 * It pushes the model, validates it against the version in production (the alias `--baseline-alias`,
 * `production` by default) on the same data, and — when the gates pass — starts the rollout on the
 * endpoint and waits for its verdict, then moves the alias. Each step is an API call the server
 * already has; this command only puts them in order and turns the outcome into an exit code
 * (docs/ci.md).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { DURATION_RULE, parseDurationSeconds, PlatformError } from '../../core/index.js';
import type { RolloutStatus } from '../../rollout/controller/index.js';
import { createValidationClient } from '../../validate/client.js';
import type { ValidationReport } from '../../validate/types.js';
import { commandContext, type CommandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { printValidation, startBody, validationProgress, waitForValidation } from './validate.js';

interface CiOptions {
  model: string;
  name: string;
  data?: string;
  target?: string;
  gates?: string;
  baselineAlias: string;
  endpoint?: string;
  strategy?: string;
  alias?: string;
  timeout: string;
  description?: string;
}

/** How often a rollout is looked at while CI waits for its verdict. */
const POLL_MS = 1000;

/** The strategy blocks `--strategy canary|blue-green` stand for (docs/ci.md). */
export const CI_STRATEGIES: Readonly<Record<string, unknown>> = Object.freeze({
  // promote as soon as green is loaded, warm and answering; keep blue 30 s for an instant rollback
  'blue-green': { blueGreen: { autoPromote: true, scaleDownDelaySeconds: 30 } },
  // 20 % then 50 % for a minute each, the default checks (error rate, latency) judging in the background
  canary: {
    canary: {
      steps: [{ setWeight: 20 }, { pause: { duration: '60s' } }, { setWeight: 50 }, { pause: { duration: '60s' } }],
      analysis: { interval: '10s' },
    },
  },
});

/** The strategy block: a named one, or the `strategy:` of a YAML file (or the file's whole mapping). */
async function strategyOf(ctx: CommandContext, value: string): Promise<unknown> {
  const named = CI_STRATEGIES[value];
  if (named !== undefined) return named;
  let text: string;
  try {
    text = await readFile(ctx.path(value), 'utf8');
  } catch (error) {
    throw CliErrors.CLI_USAGE(`--strategy must be ${Object.keys(CI_STRATEGIES).join(' or ')}, or a YAML file with a strategy block; cannot read ${value}: ${(error as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw CliErrors.CLI_USAGE(`--strategy ${value} is not valid YAML: ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw CliErrors.CLI_USAGE(`--strategy ${value} must be a YAML mapping: a strategy block such as {canary: {steps: […]}}`);
  const block = (doc as Record<string, unknown>).strategy ?? doc;
  return block;
}

/** Polls the endpoint's rollout until it is Promoted or Aborted, or the deadline passes. */
async function waitForRollout(ctx: CommandContext, endpoint: string, rolloutId: string, deadline: number, onChange: (s: RolloutStatus) => void): Promise<RolloutStatus> {
  let last = '';
  for (;;) {
    const { status } = await ctx.client().rolloutStatus(endpoint);
    const r = status.rollout;
    const seen = r === null ? 'none' : `${r.id} ${r.phase} ${r.currentWeight}`;
    if (seen !== last) onChange(status);
    last = seen;
    if (r !== null && r.id === rolloutId && (r.phase === 'Promoted' || r.phase === 'Aborted')) return status;
    if (r !== null && r.id !== rolloutId) throw CliErrors.CLI_CHECK_FAILED(`another rollout (${r.id}) replaced this one (${rolloutId}) on endpoint ${endpoint} while CI waited`);
    if (Date.now() > deadline) {
      throw CliErrors.CLI_TIMEOUT(`the rollout ${rolloutId} on endpoint ${endpoint} reached no verdict within --timeout (phase ${r?.phase ?? 'unknown'}); it keeps running on the server: see \`slipway rollout status ${endpoint}\``);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export function registerCiCommand(program: Command, io: CliIo): void {
  program
    .command('ci')
    .description('for a CI job: push a model, validate it against production with gates, roll it out and wait for the verdict (docs/ci.md)')
    .requiredOption('--model <file.onnx>', 'the model file to release')
    .requiredOption('--name <name>', 'the registry model it is a version of')
    .option('--data <file.csv>', 'labelled validation data (a header row, then one example per row)')
    .option('--target <column>', 'the column of --data holding the true label or value')
    .option('--gates <gates.yaml>', 'the gate policy the new version must pass')
    .option('--baseline-alias <alias>', 'the alias whose version the new one is compared with', 'production')
    .option('--endpoint <name>', 'roll the new version out on this endpoint once validated')
    .option('--strategy <strategy>', 'with --endpoint: canary, blue-green, or a YAML file with a strategy block', 'blue-green')
    .option('--alias <alias>', 'move this alias to the new version at the end (after the rollout is promoted, with --endpoint)')
    .option('--timeout <duration>', 'how long to wait for the rollout’s verdict', '30m')
    .option('--description <text>', 'the new version’s description')
    .action(async (options: CiOptions, command: Command) => {
      const ctx = commandContext(io, command);
      if ((options.data === undefined) !== (options.target === undefined)) throw CliErrors.CLI_USAGE('--data and --target go together: the file and the column holding the true label or value');
      const timeoutSeconds = parseDurationSeconds(options.timeout);
      if (timeoutSeconds === undefined || timeoutSeconds < 1) throw CliErrors.CLI_USAGE(`--timeout must be a duration of at least 1 s (${DURATION_RULE}), got ${JSON.stringify(options.timeout)}`);
      // read before anything is pushed: a typo in a file name must not leave a half-done release
      const strategy = options.endpoint === undefined ? undefined : await strategyOf(ctx, options.strategy ?? 'blue-green');
      const client = ctx.client();
      const say = (text: string): void => {
        io.stderr.write(`ci: ${text}\n`);
      };

      // 1. push
      const pushed = await client.pushVersion(options.name, ctx.path(options.model), {
        description: options.description ?? `released by slipway ci from ${basename(options.model)}`,
        tags: { 'released-by': 'slipway-ci' },
      });
      const version = pushed.version.version;
      say(`${pushed.created ? 'pushed' : 'already registered as'} ${options.name}:${version} (${pushed.version.digest})`);

      // 2. validate against the version in production, if there is one
      let baseline: number | undefined;
      try {
        baseline = (await client.getAlias(options.name, options.baselineAlias)).alias.version;
      } catch (error) {
        if (!(error instanceof PlatformError) || error.kind !== 'not_found') throw error;
      }
      if (baseline === version) baseline = undefined;
      say(baseline === undefined ? `no ${options.baselineAlias} version to compare with: validating alone` : `baseline: ${options.name}:${baseline} (${options.baselineAlias})`);
      const validations = createValidationClient(ctx.clientOptions);
      const body = await startBody(ctx, validations, { ...options, ...(baseline === undefined ? {} : { baseline: `${options.name}:${baseline}` }) });
      const { validation } = await validations.start(options.name, version, body);
      const report: ValidationReport = await waitForValidation(validations, validation.id, validationProgress(io.stderr));
      const outcome: Record<string, unknown> = { model: options.name, version, baseline: baseline ?? null, validation: report.id, passed: report.passed, rollout: null, alias: null };
      if (!report.passed) {
        ctx.out.result({ ...outcome, report }, () => printValidation(ctx, report));
        const failed = (report.gates?.results ?? []).filter((g) => !g.passed).map((g) => g.name);
        throw CliErrors.CLI_CHECK_FAILED(`${options.name}:${version} failed validation ${report.id}: ${failed.join('; ') || 'an edge case failed'}; nothing was rolled out`);
      }
      say(`validation ${report.id} passed`);

      // 3. roll out and wait for the verdict
      if (options.endpoint !== undefined) {
        const applied = await client.apply([
          { apiVersion: 'slipway.dev/v1', kind: 'Endpoint', metadata: { name: options.endpoint }, spec: { model: options.name, version, strategy } },
        ]);
        const result = applied.dryRun ? undefined : applied.results[0];
        const rollout = result?.rollout ?? null;
        if (rollout === null) {
          say(result?.message ?? `endpoint ${options.endpoint} serves ${options.name}:${version}`);
          outcome.rollout = { endpoint: options.endpoint, id: null, phase: 'switched' };
        } else {
          say(`rollout ${rollout.id} started on ${options.endpoint}`);
          const status = await waitForRollout(ctx, options.endpoint, rollout.id, Date.now() + timeoutSeconds * 1000, (s) => {
            say(`rollout ${s.rollout?.phase ?? '-'}, candidate weight ${s.rollout?.currentWeight ?? 0}%`);
          });
          const final = status.rollout;
          outcome.rollout = { endpoint: options.endpoint, id: rollout.id, phase: final?.phase ?? null };
          if (final?.phase === 'Aborted') {
            const why = final.conditions.map((c) => c.message).filter((m) => m !== '').slice(-1)[0] ?? 'aborted';
            ctx.out.result(outcome, () => ctx.out.line(`Rollout ${rollout.id} of ${options.name}:${version} on ${options.endpoint} was ABORTED: ${why}`));
            throw CliErrors.CLI_CHECK_FAILED(`the rollout of ${options.name}:${version} on ${options.endpoint} was aborted: ${why}`);
          }
        }
      }

      // 4. move the alias
      if (options.alias !== undefined) {
        await client.setAlias(options.name, options.alias, version, `slipway ci: validation ${report.id} passed`);
        outcome.alias = options.alias;
        say(`alias ${options.alias} → ${version}`);
      }
      ctx.out.result({ ...outcome, report }, () => {
        printValidation(ctx, report);
        ctx.out.line();
        ctx.out.line(`Released ${options.name}:${version}${options.endpoint === undefined ? '' : ` on ${options.endpoint}`}${options.alias === undefined ? '' : `; ${options.alias} → ${version}`}`);
      });
    });
}

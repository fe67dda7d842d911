/**
 * `slipway profile MODEL:VERSION --data FILE.csv [--target COLUMN]` computes a version's reference
 * profile on the server and prints it; without --data it prints the stored one; with --delete it
 * removes it. `models push --reference FILE.csv` calls {@link uploadProfile} after its push.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { createProfileClient } from '../../monitoring/profiles/client.js';
import type { FeatureProfile, ReferenceProfile } from '../../monitoring/profiles/index.js';
import { OTHER_CATEGORY, PROFILE_QUANTILES } from '../../monitoring/profiles/index.js';
import { commandContext, parseModelRef, type CommandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { formatTime, truncate } from '../output.js';

interface ProfileOptions {
  data?: string;
  target?: string;
  delete?: boolean;
}

/** A number in at most 5 significant digits: `0.12346`, `1234.6`, `2e-7`. */
export function formatStat(x: number): string {
  return Number.isInteger(x) && Math.abs(x) < 1e15 ? String(x) : String(Number(x.toPrecision(5)));
}

const MEDIAN = PROFILE_QUANTILES.indexOf(0.5);

/** `a 50%, b 30%, __other__ 20%`: the most frequent categories with their shares of the values present. */
function topCategories(frequencies: Readonly<Record<string, number>>, count: number, shown = 3): string {
  const ranked = Object.entries(frequencies).sort((a, b) => b[1] - a[1] || (a[0] === OTHER_CATEGORY ? 1 : b[0] === OTHER_CATEGORY ? -1 : a[0].localeCompare(b[0])));
  const share = (c: number): string => `${count === 0 ? 0 : Math.round((c / count) * 1000) / 10}%`;
  const parts = ranked.slice(0, shown).map(([k, c]) => `${k === '' ? '""' : k} ${share(c)}`);
  if (ranked.length > shown) parts.push(`+${ranked.length - shown} more`);
  return truncate(parts.join(', '), 48);
}

/** One table row: FEATURE, KIND, COUNT, MISSING, then MEAN, STD, MIN, P50, MAX when `numeric`, TOP CATEGORIES when `categories`. */
function featureRow(f: FeatureProfile, numeric: boolean, categories: boolean): string[] {
  const row = [f.name, f.kind, String(f.count), String(f.missing)];
  if (numeric) {
    if (f.kind === 'numeric' && f.count > 0) row.push(formatStat(f.mean), formatStat(f.std), formatStat(f.min), formatStat(f.quantiles[MEDIAN] ?? NaN), formatStat(f.max));
    else row.push('-', '-', '-', '-', '-');
  }
  if (categories) row.push(f.kind === 'categorical' && f.count > 0 ? topCategories(f.frequencies, f.count) : '-');
  return row;
}

/** Prints a profile: where it came from, a row per feature, and the prediction distribution. */
export function printProfile(ctx: CommandContext, p: ReferenceProfile): void {
  ctx.out.fields([
    ['Model', `${p.model}:${p.version}`],
    ['Rows', String(p.rows)],
    ['Source', p.source],
    ['Created', `${formatTime(new Date(p.createdAt).toISOString())} by ${p.createdBy}`],
    ['Features', String(p.features.length)],
  ]);
  ctx.out.line();
  // statistics columns only for the kinds the profile has
  const numeric = p.features.some((f) => f.kind === 'numeric');
  const categories = p.features.some((f) => f.kind === 'categorical');
  const headers = ['FEATURE', 'KIND', 'COUNT', 'MISSING', ...(numeric ? ['MEAN', 'STD', 'MIN', 'P50', 'MAX'] : []), ...(categories ? ['TOP CATEGORIES'] : [])];
  ctx.out.table(headers, p.features.map((f) => featureRow(f, numeric, categories)), 'No features.');
  ctx.out.line();
  // what the input guards' outlier score measures distance with (docs/security.md, Input guards)
  const c = p.covariance;
  ctx.out.line(
    c === undefined || c === null
      ? 'Covariance: none (the outlier score uses each feature\'s own variance)'
      : `Covariance: ${c.features.length} feature${c.features.length === 1 ? '' : 's'} from ${c.rows} rows, shrinkage ${formatStat(c.shrinkage)} (for the outlier score)`,
  );
  const predictions = p.predictions;
  if (predictions === null) {
    ctx.out.line('Predictions: none (the outputs hold no label, scores or value per row)');
  } else if (predictions.kind === 'categorical') {
    ctx.out.line(`Predictions (${predictions.name}): ${predictions.count === 0 ? '-' : topCategories(predictions.frequencies, predictions.count, 10)}${predictions.missing > 0 ? `; ${predictions.missing} missing` : ''}`);
  } else {
    const stats = predictions.count === 0 ? '-' : `mean ${formatStat(predictions.mean)}, std ${formatStat(predictions.std)}, min ${formatStat(predictions.min)}, p50 ${formatStat(predictions.quantiles[MEDIAN] ?? NaN)}, max ${formatStat(predictions.max)}`;
    ctx.out.line(`Predictions (${predictions.name}): ${stats}${predictions.missing > 0 ? `; ${predictions.missing} missing` : ''}`);
  }
}

/** The version a `NAME`, `NAME:VERSION` or `NAME@ALIAS` reference names (NAME alone: the latest). */
export async function resolveVersion(ctx: CommandContext, ref: string): Promise<{ model: string; version: number }> {
  const target = parseModelRef(ref, 'model');
  if (target.version !== undefined) return { model: target.model, version: target.version };
  const client = ctx.client();
  if (target.alias !== undefined) return { model: target.model, version: (await client.getAlias(target.model, target.alias)).alias.version };
  const latest = (await client.getModel(target.model)).model.latestVersion;
  if (latest === 0) throw CliErrors.CLI_USAGE(`model ${target.model} has no versions yet; push one first`);
  return { model: target.model, version: latest };
}

/** Uploads a CSV file as model:version's reference data; resolves with the computed profile. */
export async function uploadProfile(ctx: CommandContext, model: string, version: number, file: string, target: string | undefined): Promise<ReferenceProfile> {
  const result = await createProfileClient(ctx.clientOptions).computeProfile(model, version, ctx.path(file), {
    source: basename(file),
    ...(target === undefined ? {} : { target }),
  });
  return result.profile;
}

export function registerProfileCommand(program: Command, io: CliIo): void {
  program
    .command('profile')
    .description('compute a model version’s reference profile from a CSV file (--data), or show or delete the stored one (docs/profiles.md)')
    .argument('<model>', 'NAME:VERSION, NAME@ALIAS, or NAME for its latest version')
    .option('--data <file.csv>', 'the reference data: a header row naming the features, then one example per row; computes and stores the profile')
    .option('--target <column>', 'with --data: a column to leave out (the label), as predict --target does')
    .option('--delete', 'delete the stored profile')
    .action(async (ref: string, options: ProfileOptions, command: Command) => {
      const ctx = commandContext(io, command);
      if (options.target !== undefined && options.data === undefined) throw CliErrors.CLI_USAGE('--target applies with --data (the file whose column it names)');
      if (options.delete === true && options.data !== undefined) throw CliErrors.CLI_USAGE('give either --data (compute a profile) or --delete, not both');
      const { model, version } = await resolveVersion(ctx, ref);
      const client = createProfileClient(ctx.clientOptions);
      if (options.delete === true) {
        const result = await client.deleteProfile(model, version);
        ctx.out.result(result, () => ctx.out.line(`Deleted the reference profile of ${model}:${version} (${result.profile.rows} rows from ${result.profile.source})`));
        return;
      }
      if (options.data === undefined) {
        const result = await client.getProfile(model, version);
        ctx.out.result(result, () => printProfile(ctx, result.profile));
        return;
      }
      const profile = await uploadProfile(ctx, model, version, options.data, options.target);
      ctx.out.result({ profile }, () => printProfile(ctx, profile));
    });
}

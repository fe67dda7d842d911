/** `slipway models push | list | show`. */
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { ReferenceProfile } from '../../monitoring/profiles/index.js';
import type { ModelVersion } from '../../registry/index.js';
import { collect, commandContext, parseModelRef, parsePairs, type CommandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { formatBytes, formatShape, formatTags, formatTime, progressReporter, truncate } from '../output.js';
import { uploadProfile } from './profile.js';
import type { ArtifactSignatureView } from '../../control/types.js';
import { readSignatureFile, registerSigningCommands, signatureLine } from './signing.js';

/** Commander argument parser for a version number. */
export function versionArg(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('must be a positive whole number (1, 2, 3 …)');
  return Number(value);
}

interface PushOptions {
  name: string;
  tag: string[];
  metric: string[];
  parent?: number;
  description?: string;
  modelDescription?: string;
  dataDigest?: string;
  reference?: string;
  target?: string;
  signature?: string;
}

function parseMetrics(values: readonly string[]): Record<string, number> | undefined {
  if (values.length === 0) return undefined;
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(parsePairs(values, '--metric'))) {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw CliErrors.CLI_USAGE(`--metric ${k}: ${JSON.stringify(v)} is not a number`);
    metrics[k] = n;
  }
  return metrics;
}

/** Prints one version in full (with its artifact signature when the answer carried one). */
export function printVersion(ctx: CommandContext, v: ModelVersion, signature?: ArtifactSignatureView | null): void {
  const lineage = v.lineage;
  const opsets = v.onnx.opsets.map((o) => `${o.domain === '' ? 'ai.onnx' : o.domain} ${o.version}`).join(', ');
  ctx.out.fields([
    ['Model', v.model],
    ['Version', String(v.version)],
    ['Digest', v.digest],
    ['Size', formatBytes(v.sizeBytes)],
    ['Created', `${formatTime(v.createdAt)} by ${v.createdBy}`],
    ['Description', v.description === '' ? undefined : v.description],
    ['Tags', Object.keys(v.tags).length === 0 ? undefined : formatTags(v.tags)],
    ['Parent', lineage.parentVersion === undefined ? undefined : String(lineage.parentVersion)],
    ['Data digest', lineage.dataDigest],
    ['Metrics', lineage.metrics === undefined ? undefined : formatTags(Object.fromEntries(Object.entries(lineage.metrics).map(([k, n]) => [k, String(n)])))],
    ['ONNX', `IR ${v.onnx.irVersion}, opsets ${opsets}, ${v.onnx.nodeCount} nodes, ${v.onnx.initializerCount} initializers (${formatBytes(v.onnx.initializerBytes)})`],
    ['Producer', v.onnx.producerName === '' ? undefined : `${v.onnx.producerName} ${v.onnx.producerVersion}`.trim()],
    ['Signed', signatureLine(signature)],
  ]);
  ctx.out.line();
  ctx.out.table(['INPUT', 'DATATYPE', 'SHAPE'], v.signature.inputs.map((t) => [t.name, t.datatype, formatShape(t)]), 'no inputs');
  ctx.out.line();
  ctx.out.table(['OUTPUT', 'DATATYPE', 'SHAPE'], v.signature.outputs.map((t) => [t.name, t.datatype, formatShape(t)]), 'no outputs');
}

export function registerModelCommands(program: Command, io: CliIo): void {
  const models = program.command('models').description('register and inspect model versions');

  models
    .command('push')
    .description('upload an ONNX file as a new version of a model (the model is created on first push)')
    .argument('<file>', 'the .onnx file')
    .requiredOption('--name <name>', 'model name (a DNS label, e.g. fraud-detector)')
    .option('--tag <key=value>', 'a tag; repeat for more', collect, [])
    .option('--parent <version>', 'the version this one derives from', versionArg)
    .option('--description <text>', 'what this version is')
    .option('--model-description <text>', 'what the model is (used when this push creates it)')
    .option('--data-digest <digest>', 'digest of the training data, e.g. sha256:…')
    .option('--metric <name=value>', 'a training metric; repeat for more', collect, [])
    .option('--reference <file.csv>', 'then compute the version’s reference profile from this CSV file (as `slipway profile` does)')
    .option('--target <column>', 'with --reference: a column of the file to leave out (the label)')
    .option('--signature <file.sig>', 'send this signature file (from `slipway models sign`) with the upload')
    .action(async (file: string, options: PushOptions, command: Command) => {
      const ctx = commandContext(io, command);
      if (options.target !== undefined && options.reference === undefined) throw CliErrors.CLI_USAGE('--target applies with --reference (the file whose column it names)');
      const artifactSignature = options.signature === undefined ? undefined : await readSignatureFile(ctx, options.signature);
      const path = ctx.path(file);
      const tags = parsePairs(options.tag, '--tag');
      const metrics = parseMetrics(options.metric);
      let size = 0;
      try {
        size = statSync(path).size;
      } catch {
        // the client reports a missing file with its own error
      }
      const progress = progressReporter(io.stderr, basename(path), size);
      let result;
      try {
        result = await ctx.client().pushVersion(
          options.name,
          path,
          {
            ...(Object.keys(tags).length === 0 ? {} : { tags }),
            ...(metrics === undefined ? {} : { metrics }),
            ...(options.parent === undefined ? {} : { parentVersion: options.parent }),
            ...(options.description === undefined ? {} : { description: options.description }),
            ...(options.modelDescription === undefined ? {} : { modelDescription: options.modelDescription }),
            ...(options.dataDigest === undefined ? {} : { dataDigest: options.dataDigest }),
            ...(artifactSignature === undefined ? {} : { artifactSignature }),
          },
          (sent) => progress.update(sent),
        );
      } finally {
        progress.done();
      }
      const pushed = result;
      let profile: ReferenceProfile | undefined;
      if (options.reference !== undefined) {
        try {
          profile = await uploadProfile(ctx, pushed.version.model, pushed.version.version, options.reference, options.target);
        } catch (error) {
          ctx.out.note(
            `${pushed.created ? 'Registered' : 'Found'} ${pushed.version.model} version ${pushed.version.version}, but its reference profile failed; retry with \`slipway profile ${pushed.version.model}:${pushed.version.version} --data ${options.reference}\``,
          );
          throw error;
        }
      }
      const computed = profile;
      ctx.out.result(computed === undefined ? pushed : { ...pushed, profile: computed }, () => {
        const v = pushed.version;
        if (pushed.created) ctx.out.line(`Registered ${v.model} version ${v.version} (${v.digest}, ${formatBytes(v.sizeBytes)})`);
        else ctx.out.line(`${v.model} version ${v.version} already holds these bytes (${v.digest}); nothing new was registered`);
        const tensors = (list: ModelVersion['signature']['inputs']): string => list.map((t) => `${t.name} ${t.datatype} ${formatShape(t)}`).join(', ');
        ctx.out.line(`  inputs:  ${tensors(v.signature.inputs)}`);
        ctx.out.line(`  outputs: ${tensors(v.signature.outputs)}`);
        if (pushed.signature !== null) ctx.out.line(`  signed:  ${signatureLine(pushed.signature) ?? ''}`);
        if (computed !== undefined) {
          const predicted = computed.predictions === null ? 'no prediction' : `predictions of ${computed.predictions.name}`;
          ctx.out.line(`Profiled ${computed.rows} rows of ${computed.source}: ${computed.features.length} features, ${predicted} (\`slipway profile ${v.model}:${v.version}\` shows it)`);
        }
      });
    });

  models
    .command('list')
    .description('list registered models')
    .action(async (_options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const result = await ctx.client().listModels();
      ctx.out.result(result, () =>
        ctx.out.table(
          ['NAME', 'LATEST', 'CREATED', 'BY', 'DESCRIPTION'],
          result.models.map((m) => [m.name, String(m.latestVersion), formatTime(m.createdAt), m.createdBy, truncate(m.description)]),
          'No models yet. Register one with `slipway models push FILE --name NAME`.',
        ),
      );
    });

  models
    .command('show')
    .description('show a model (its versions and aliases), or one version with NAME:VERSION or NAME@ALIAS')
    .argument('<model>', 'NAME, NAME:VERSION or NAME@ALIAS')
    .action(async (ref: string, _options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const target = parseModelRef(ref, 'model');
      const client = ctx.client();
      if (target.version !== undefined || target.alias !== undefined) {
        const number = target.version ?? (await client.getAlias(target.model, target.alias ?? '')).alias.version;
        const result = await client.getVersion(target.model, number);
        ctx.out.result(result, () => printVersion(ctx, result.version, result.signature));
        return;
      }
      const result = await client.getModel(target.model);
      ctx.out.result(result, () => {
        const m = result.model;
        ctx.out.fields([
          ['Model', m.name],
          ['Description', m.description === '' ? undefined : m.description],
          ['Owner', m.owner],
          ['Created', `${formatTime(m.createdAt)} by ${m.createdBy}`],
          ['Latest', String(m.latestVersion)],
        ]);
        ctx.out.line();
        ctx.out.table(
          ['VERSION', 'DIGEST', 'SIZE', 'CREATED', 'BY', 'TAGS', 'DESCRIPTION'],
          result.versions.map((v) => [
            String(v.version),
            `${v.digest.slice(0, 19)}…`,
            formatBytes(v.sizeBytes),
            formatTime(v.createdAt),
            v.createdBy,
            truncate(formatTags(v.tags), 40),
            truncate(v.description, 40),
          ]),
          'No versions.',
        );
        ctx.out.line();
        ctx.out.table(
          ['ALIAS', 'VERSION', 'UPDATED', 'BY'],
          result.aliases.map((a) => [a.alias, String(a.version), formatTime(a.updatedAt), a.updatedBy]),
          'No aliases.',
        );
      });
    });

  registerSigningCommands(models, io);
}

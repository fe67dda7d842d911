/**
 * `slipway optimize` on the server: rewrites a registered version's graph (prune, then quantize),
 * registers the result as a new version whose lineage names its parent, validates it against the
 * parent on the same data with gates, and — only when every gate passes — moves the alias asked
 * for. The validation is an ordinary one (its report is stored with the new version); this service
 * remembers which optimisation it belongs to and what happened to the alias (docs/optimize.md).
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, toPlatformError, type Logger } from '../core/index.js';
import { readModel, writeModel } from '../onnx/index.js';
import type { onnx } from '../onnx/index.js';
import type { ModelVersion, Registry } from '../registry/index.js';
import type { ValidationJob, ValidationService } from '../validate/service.js';
import type { ValidationReport, ValidationSettings } from '../validate/types.js';
import { OptimizeErrors } from './errors.js';
import { pruneModel, type PruneReport } from './prune.js';
import { QUANTIZE_MODES, quantizeModel, type QuantizeMode, type QuantizeReport } from './quantize.js';

export interface OptimizeRequest {
  readonly model: string;
  readonly version: number;
  readonly quantize?: QuantizeMode;
  /** One scale per output channel (default true). */
  readonly perChannel?: boolean;
  /** The fraction of weights (or, structured, of output units) to remove, in (0, 1). */
  readonly prune?: number;
  readonly structured?: boolean;
  /** A dataset digest and its target column: the validation's labelled rows. */
  readonly data?: string;
  readonly target?: string;
  /** A gate policy (YAML text); default {@link defaultGates}. */
  readonly gates?: string;
  readonly settings?: Partial<ValidationSettings>;
  /** An alias to move to the new version once it passes. */
  readonly alias?: string;
  readonly by: string;
}

export interface SizeFacts {
  readonly parentBytes: number;
  readonly childBytes: number;
}

/** What a watcher sees of an optimisation. */
export interface Optimization {
  /** The validation's id. */
  readonly id: string;
  readonly model: string;
  readonly parent: number;
  readonly version: ModelVersion;
  /** false when the rewrite produced bytes an earlier version already has. */
  readonly created: boolean;
  readonly quantize: QuantizeReport | null;
  readonly prune: PruneReport | null;
  readonly gates: string;
  readonly validation: ValidationJob;
  readonly alias: { readonly name: string; readonly status: 'pending' | 'moved' | 'not-moved'; readonly reason: string } | null;
}

export interface OptimizeService {
  start(request: OptimizeRequest): Promise<Optimization>;
  get(id: string): Promise<Optimization>;
}

export interface OptimizeServiceOptions {
  readonly registry: Pick<Registry, 'getVersion' | 'artifactPath' | 'pushVersion' | 'setAlias'>;
  readonly validation: ValidationService;
  /** Reads an encrypted artifact into memory; undefined for a plaintext one (read the file). */
  readonly readArtifact: (path: string) => Promise<Uint8Array | undefined>;
  /** Where the rewritten model is written before it is registered (removed after). */
  readonly tmpDir: string;
  readonly logger?: Logger;
}

/** Optimisations remembered (their validations are stored anyway). */
const MAX_REMEMBERED = 100;

/**
 * The gates an optimised version must pass when none are given: no more than a point of accuracy
 * lost (5 % of RMSE for regression) on labelled data, or 99 % of labels unchanged without it; not
 * shown to be more than 25 % slower than the parent at batch 1 — the lower end of the 95 % paired
 * bootstrap interval of the p50 ratio (src/stats/bootstrap.ts), so timing noise alone never refuses
 * a version and a real slowdown does; and every edge case handled.
 */
export function defaultGates(task: 'classification' | 'regression' | 'unknown', withData: boolean): string {
  const lines = ['gates:'];
  if (withData && task === 'classification') lines.push('  - accuracy >= baseline - 0.01');
  else if (withData && task === 'regression') lines.push('  - rmse <= baseline * 1.05');
  else if (task !== 'regression') lines.push('  - baseline.agreement >= 0.99');
  lines.push('  - baseline.latency_ratio.p50_lower <= 1.25', '  - edge_cases.failed == 0');
  return `${lines.join('\n')}\n`;
}

function checkRequest(r: OptimizeRequest): void {
  const problems: string[] = [];
  if (r.quantize === undefined && r.prune === undefined) problems.push('quantize or prune: give at least one (quantize: dynamic or weight-int8; prune: a sparsity in (0, 1))');
  if (r.quantize !== undefined && !(QUANTIZE_MODES as readonly string[]).includes(r.quantize)) problems.push(`quantize: expected ${QUANTIZE_MODES.join(' or ')}, got ${JSON.stringify(r.quantize)}`);
  if (r.prune !== undefined && !(typeof r.prune === 'number' && r.prune > 0 && r.prune < 1)) problems.push(`prune: expected a sparsity strictly between 0 and 1, got ${JSON.stringify(r.prune)}`);
  if (r.structured !== undefined && r.prune === undefined) problems.push('structured: applies with prune');
  if (r.perChannel !== undefined && r.quantize === undefined) problems.push('perChannel: applies with quantize');
  if ((r.data === undefined) !== (r.target === undefined)) problems.push('data and target go together: the dataset and the column holding the true label or value');
  if (problems.length > 0) throw OptimizeErrors.OPTIMIZE_INVALID_OPTIONS(`invalid optimisation (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`, { details: { problems } });
}

/** What the rewrite did, in a tag value: `prune-0.5-structured+dynamic`. */
function recipe(r: OptimizeRequest): string {
  const parts: string[] = [];
  if (r.prune !== undefined) parts.push(`prune-${r.prune}${r.structured === true ? '-structured' : ''}`);
  if (r.quantize !== undefined) parts.push(r.quantize);
  return parts.join('+');
}

export function createOptimizeService(options: OptimizeServiceOptions): OptimizeService {
  const { registry, validation } = options;
  const logger = options.logger ?? silentLogger;
  const records = new Map<string, Omit<Optimization, 'validation'> & { alias: Optimization['alias'] }>();

  const view = async (id: string): Promise<Optimization> => {
    const record = records.get(id);
    if (record === undefined) throw OptimizeErrors.OPTIMIZE_NOT_FOUND(`no optimisation ${id} on this server (they are kept in memory until it stops; the validation report is stored with the new version)`, { details: { id } });
    return { ...record, validation: await validation.job(id) };
  };

  /** Moves the alias once the validation passed, and says why not otherwise. */
  const settle = async (id: string, report: Promise<ValidationReport>): Promise<void> => {
    const record = records.get(id);
    if (record === undefined || record.alias === null) return;
    const alias = record.alias.name;
    let outcome: NonNullable<Optimization['alias']>;
    try {
      const r = await report;
      if (r.passed) {
        await registry.setAlias(record.model, alias, record.version.version, { by: record.version.createdBy, reason: `slipway optimize: validation ${id} passed` });
        outcome = { name: alias, status: 'moved', reason: `validation ${id} passed` };
      } else {
        const failed = (r.gates?.results ?? []).filter((g) => !g.passed).map((g) => `${g.name} (${g.reason})`);
        outcome = { name: alias, status: 'not-moved', reason: `validation ${id} failed: ${failed.join('; ') || 'an edge case failed'}` };
      }
    } catch (error) {
      outcome = { name: alias, status: 'not-moved', reason: toPlatformError(error).message };
    }
    records.set(id, { ...record, alias: outcome });
    logger.info({ optimization: id, model: record.model, version: record.version.version, alias: outcome }, 'optimisation settled');
  };

  return {
    async start(request) {
      checkRequest(request);
      const parent = await registry.getVersion(request.model, request.version);
      const task = parent.signature.outputs.some((o) => o.datatype === 'INT64' || o.datatype === 'BYTES' || (o.shape.length === 2 && o.shape[1] !== 1)) ? 'classification' : 'regression';
      const gates = request.gates ?? defaultGates(task, request.data !== undefined);
      const validationInput = {
        baseline: { model: parent.model, version: parent.version },
        gates,
        ...(request.data === undefined ? {} : { data: request.data }),
        ...(request.target === undefined ? {} : { target: request.target }),
        ...(request.settings === undefined ? {} : { settings: request.settings }),
        by: request.by,
      };
      // the validation is checked on the parent (the rewrite keeps its inputs) before anything is
      // written: a bad gate, dataset, column or setting registers no version
      await validation.check({ model: parent.model, version: parent.version, ...validationInput });
      const path = await registry.artifactPath(request.model, request.version);
      const bytes = (await options.readArtifact(path)) ?? (await readFile(path));
      let graph: onnx.ModelProto = readModel(bytes);
      let pruned: PruneReport | null = null;
      let quantized: QuantizeReport | null = null;
      // prune first, on the float weights; quantise what is left
      if (request.prune !== undefined) {
        const r = pruneModel(graph, { sparsity: request.prune, ...(request.structured === undefined ? {} : { structured: request.structured }) });
        graph = r.model;
        pruned = r.report;
      }
      if (request.quantize !== undefined) {
        const r = quantizeModel(graph, { mode: request.quantize, ...(request.perChannel === undefined ? {} : { perChannel: request.perChannel }) });
        graph = r.model;
        quantized = r.report;
      }
      const tmp = join(options.tmpDir, `optimize-${randomUUID()}.onnx`);
      let pushed: { version: ModelVersion; created: boolean };
      try {
        await writeFile(tmp, writeModel(graph), { flag: 'wx', mode: 0o600 });
        pushed = await registry.pushVersion(
          {
            model: request.model,
            artifactPath: tmp,
            description: `${parent.model}:${parent.version} optimised (${recipe(request)}) by slipway optimize`,
            tags: { ...parent.tags, optimized: recipe(request) },
            parentVersion: parent.version,
            ...(parent.lineage.dataDigest === undefined ? {} : { dataDigest: parent.lineage.dataDigest }),
          },
          { by: request.by, reason: `slipway optimize ${recipe(request)}` },
        );
      } finally {
        await rm(tmp, { force: true });
      }
      const job = await validation.start({ model: request.model, version: pushed.version.version, ...validationInput });
      records.set(job.id, {
        id: job.id,
        model: request.model,
        parent: parent.version,
        version: pushed.version,
        created: pushed.created,
        quantize: quantized,
        prune: pruned,
        gates,
        alias: request.alias === undefined ? null : { name: request.alias, status: 'pending', reason: 'waiting for the validation' },
      });
      for (const key of [...records.keys()].slice(0, Math.max(0, records.size - MAX_REMEMBERED))) records.delete(key);
      void settle(job.id, validation.wait(job.id));
      return view(job.id);
    },
    get: view,
  };
}

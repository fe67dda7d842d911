/**
 * The validation service: uploaded datasets, validation runs as jobs the caller can watch, stored
 * reports, and the rule that an alias such as `production` may only move to a version whose latest
 * report passed its gates (`validation.requiredForAliases`).
 *
 * A run loads its versions into temporary sessions of their own (one replica each, apart from every
 * endpoint's replicas) and keeps cores busy while it measures latency, so the server runs
 * `maxConcurrent` (1) at a time. Running jobs live in memory: a server that stops while one runs
 * loses it (the caller sees VALIDATE_NOT_FOUND and runs it again); finished ones are stored.
 */
import { readFile } from 'node:fs/promises';
import { createJobTable, jobView, silentLogger, toPlatformError, type Clock, type Job, type JobView, type Logger, type PlatformError } from '../core/index.js';
import { RegistryErrors } from '../registry/errors.js';
import type { ModelVersion } from '../registry/index.js';
import type { ModelRuntime, RuntimeSessionOptions } from '../runtime/index.js';
import { DEFAULT_VALIDATION_MAX_ROWS } from './data.js';
import { ValidateErrors } from './errors.js';
import { parseGates, type GatePolicy } from './gates.js';
import type { DatasetRecord, ValidationStore } from './ports.js';
import { featureNamesOf, readDataFor, runValidation, type VersionUnderTest } from './runner.js';
import { VALIDATION_DEFAULTS, type ValidationReport, type ValidationSettings, type ValidationSummary } from './types.js';

export interface ValidationRegistry {
  getVersion(model: string, version: number): Promise<ModelVersion>;
  artifactPath(model: string, version: number): Promise<string>;
}

/** Where dataset bytes live: the blob store (encrypted at rest when a keyring is set). */
export interface DatasetBlobs {
  putFile(sourcePath: string): Promise<{ digest: string; sizeBytes: number; path: string }>;
  has(digest: string): Promise<boolean>;
  path(digest: string): string;
  /** Decrypted bytes of an encrypted blob; undefined for a plaintext one (read the file). */
  readonly readArtifact: (path: string) => Promise<Uint8Array | undefined>;
}

export interface ValidationServiceOptions {
  readonly registry: ValidationRegistry;
  readonly runtime: ModelRuntime;
  readonly store: ValidationStore;
  readonly blobs: DatasetBlobs;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Runs at once. Default 1. */
  readonly maxConcurrent?: number;
  /** Most data rows a run reads. Default {@link DEFAULT_VALIDATION_MAX_ROWS}. */
  readonly maxRows?: number;
  /** Aliases that may only move to a version whose latest report passed its gates. */
  readonly requiredForAliases?: readonly string[];
  readonly intraOpThreads?: number;
  readonly sessionOptions?: RuntimeSessionOptions;
}

export interface StartValidationInput {
  readonly model: string;
  readonly version: number;
  /** A dataset digest (uploaded first); without one, performance, stability and edge cases only. */
  readonly data?: string;
  readonly target?: string;
  readonly baseline?: { readonly model: string; readonly version: number };
  /** The gate policy as YAML text. */
  readonly gates?: string;
  readonly settings?: Partial<ValidationSettings>;
  readonly by: string;
}

/** What a watcher sees of a run. */
export interface ValidationJob extends JobView {
  readonly model: string;
  readonly version: number;
  /** Present once succeeded. */
  readonly passed: boolean | null;
}

export interface ValidationService {
  /** Stores a CSV file as a dataset (the caller keeps the file). */
  addDataset(path: string, name: string, by: string): Promise<DatasetRecord>;
  listDatasets(): Promise<DatasetRecord[]>;
  /** An uploaded dataset's text; VALIDATE_DATASET_NOT_FOUND when unknown. */
  datasetText(digest: string): Promise<string>;
  /** The feature names a model declares in its metadata (read through the blob store's reader). */
  featureNames(artifactPath: string): Promise<readonly string[] | undefined>;
  /** Checks the request as `start` does — versions, dataset, columns, gates, settings, room for a run — without starting it. */
  check(input: StartValidationInput): Promise<void>;
  /** Checks the request, then starts the run; resolves at once with the running job. */
  start(input: StartValidationInput): Promise<ValidationJob>;
  /** The job: running, or finished (from memory or the store). VALIDATE_NOT_FOUND when unknown. */
  job(id: string): Promise<ValidationJob>;
  /** Resolves with the report once the run ends; rejects with its error if it failed. */
  wait(id: string, signal?: AbortSignal): Promise<ValidationReport>;
  report(id: string): Promise<ValidationReport>;
  latest(model: string, version: number): Promise<ValidationReport>;
  list(model: string, version?: number): Promise<ValidationSummary[]>;
  /** Throws REGISTRY_VALIDATION_REQUIRED when `alias` needs a passing gated report that `version` lacks. */
  checkAliasMove(model: string, alias: string, version: number): Promise<void>;
  readonly requiredForAliases: readonly string[];
  /** Stops running jobs (they fail) and waits for them to let go of their sessions. */
  close(): Promise<void>;
}

/** A validation job's view: the generic job, and which version it validates. */
function view(j: Job<ValidationReport, Subject>): ValidationJob {
  return { ...jobView(j), model: j.meta.model, version: j.meta.version, passed: j.result?.passed ?? null };
}

/** The version a job validates. */
interface Subject {
  readonly model: string;
  readonly version: number;
}

const invalid = (field: string, message: string): PlatformError => ValidateErrors.VALIDATE_INVALID_REQUEST(`${field}: ${message}`, { details: { field } });

/** Checks the settings a caller overrides; unknown keys and values out of range are refused by name. */
export function checkSettings(input: unknown, path = 'settings'): ValidationSettings {
  if (input === undefined || input === null) return VALIDATION_DEFAULTS;
  if (typeof input !== 'object' || Array.isArray(input)) throw invalid(path, 'expected an object of validation settings');
  const s = input as Record<string, unknown>;
  const known = Object.keys(VALIDATION_DEFAULTS).concat('sliceBy');
  for (const key of Object.keys(s)) if (!known.includes(key)) throw invalid(`${path}.${key}`, `unknown setting (known: ${known.join(', ')})`);
  const int = (key: keyof ValidationSettings, min: number, max: number): number => {
    const v = s[key] ?? VALIDATION_DEFAULTS[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(`${path}.${key}`, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return v;
  };
  const real = (key: keyof ValidationSettings, min: number, max: number): number => {
    const v = s[key] ?? VALIDATION_DEFAULTS[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= min || v > max) throw invalid(`${path}.${key}`, `expected a number above ${min} and at most ${max}, got ${JSON.stringify(v)}`);
    return v;
  };
  const list = (key: 'batchSizes' | 'noiseLevels', check: (x: unknown) => boolean, what: string): number[] => {
    const v = s[key] ?? VALIDATION_DEFAULTS[key];
    if (!Array.isArray(v) || v.length === 0 || v.length > 8 || !v.every(check)) throw invalid(`${path}.${key}`, `expected 1 to 8 ${what}, got ${JSON.stringify(v)}`);
    return v as number[];
  };
  const sliceBy = s.sliceBy;
  if (sliceBy !== undefined && (typeof sliceBy !== 'string' || sliceBy.trim() === '' || sliceBy.length > 200)) throw invalid(`${path}.sliceBy`, 'expected a column name (1–200 characters)');
  return {
    batchSizes: list('batchSizes', (x) => typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 4096, 'batch sizes, whole numbers from 1 to 4096'),
    latencyRuns: int('latencyRuns', 1, 100_000),
    latencyBudgetMs: int('latencyBudgetMs', 1, 600_000),
    noiseLevels: list('noiseLevels', (x) => typeof x === 'number' && Number.isFinite(x) && x > 0 && x <= 10, 'noise levels above 0 and at most 10 (multiples of each feature’s standard deviation)'),
    robustnessRows: int('robustnessRows', 1, 100_000),
    perturbationEpsilon: real('perturbationEpsilon', 0, 10),
    perturbationRows: int('perturbationRows', 0, 10_000),
    perturbationTrials: int('perturbationTrials', 0, 1000),
    seed: int('seed', 0, 2 ** 31 - 1),
    ...(sliceBy === undefined ? {} : { sliceBy: sliceBy }),
  };
}

export function createValidationService(options: ValidationServiceOptions): ValidationService {
  const { registry, runtime, store, blobs, clock } = options;
  const logger = options.logger ?? silentLogger;
  const maxConcurrent = options.maxConcurrent ?? 1;
  const maxRows = options.maxRows ?? DEFAULT_VALIDATION_MAX_ROWS;
  const required = [...(options.requiredForAliases ?? [])];
  const jobs = createJobTable<ValidationReport, Subject>(clock);
  let closed = false;
  const now = (): string => new Date(clock.now()).toISOString();
  const running = (): Job<ValidationReport, Subject>[] => jobs.running();

  const underTest = async (model: string, version: number): Promise<VersionUnderTest> => {
    const v = await registry.getVersion(model, version);
    return { model: v.model, version: v.version, digest: v.digest, sizeBytes: v.sizeBytes, signature: v.signature, artifactPath: await registry.artifactPath(model, version) };
  };

  const readDataset = async (digest: string): Promise<{ text: string; record: DatasetRecord }> => {
    const record = await store.getDataset(digest);
    if (record === undefined || !(await blobs.has(digest))) {
      throw ValidateErrors.VALIDATE_DATASET_NOT_FOUND(`no dataset ${digest} on this server; upload the CSV first (PUT /api/v1/datasets)`, { details: { data: digest } });
    }
    const path = blobs.path(digest);
    const bytes = (await blobs.readArtifact(path)) ?? (await readFile(path));
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    return { text, record };
  };

  /** Everything a start checks and reads before the job begins: a mistake is the request's 4xx, never a failed job. */
  const prepare = async (input: StartValidationInput) => {
    if (closed) throw ValidateErrors.VALIDATE_BUSY('the server is stopping and starts no more validations', { retryAfterSeconds: 5 });
    const settings = checkSettings(input.settings);
    let gates: { source: string; policy: GatePolicy } | undefined;
    if (input.gates !== undefined) gates = { source: input.gates, policy: parseGates(input.gates, 'gates') };
    if (input.target !== undefined && input.data === undefined) throw invalid('target', 'applies with data (the dataset whose column it names)');
    if (settings.sliceBy !== undefined && input.data === undefined) throw invalid('settings.sliceBy', 'applies with data (the dataset whose column it names)');
    // every reference is checked before the run starts, so a typo is a 4xx now rather than a failed job later
    const candidate = await underTest(input.model, input.version);
    const baseline = input.baseline === undefined ? undefined : await underTest(input.baseline.model, input.baseline.version);
    const dataset = input.data === undefined ? undefined : await readDataset(input.data);
    const data =
      dataset === undefined
        ? undefined
        : { text: dataset.text, digest: dataset.record.digest, name: dataset.record.name, maxRows, ...(input.target === undefined ? {} : { target: input.target }) };
    // the data is read now, so a column that does not fit is this request's 400 rather than a failed job
    const candidateData = await readDataFor({ ...(data === undefined ? {} : { data }), settings, readArtifact: blobs.readArtifact }, candidate);
    if (running().length >= maxConcurrent) {
      throw ValidateErrors.VALIDATE_BUSY(`the server is running ${running().length} validation${running().length === 1 ? '' : 's'} already, the most it runs at once; retry shortly`, {
        retryAfterSeconds: 10,
        details: { running: running().map((j) => j.id) },
      });
    }
    return { settings, gates, candidate, baseline, data, candidateData };
  };

  const service: ValidationService = {
    requiredForAliases: required,

    async addDataset(path, name, by) {
      const ref = await blobs.putFile(path);
      return store.putDataset({ digest: ref.digest, name, sizeBytes: ref.sizeBytes, createdAt: now(), createdBy: by });
    },

    listDatasets: () => store.listDatasets(),
    datasetText: async (digest) => (await readDataset(digest)).text,
    featureNames: (artifactPath) => featureNamesOf({ readArtifact: blobs.readArtifact }, artifactPath),

    async check(input) {
      await prepare(input);
    },

    async start(input) {
      const { settings, gates, candidate, baseline, data, candidateData } = await prepare(input);
      const job = jobs.start({ model: candidate.model, version: candidate.version }, async (signal, progress, id) => {
        try {
          const report = await runValidation({
            id,
            by: input.by,
            runtime,
            clock,
            candidate,
            ...(baseline === undefined ? {} : { baseline }),
            ...(data === undefined ? {} : { data }),
            candidateData,
            ...(gates === undefined ? {} : { gates }),
            settings,
            signal,
            onProgress: progress,
            readArtifact: blobs.readArtifact,
            ...(options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads }),
            ...(options.sessionOptions === undefined ? {} : { sessionOptions: options.sessionOptions }),
          });
          await store.putReport(report);
          logger.info({ validation: id, model: candidate.model, version: candidate.version, passed: report.passed, ms: Math.round(report.durationMs) }, 'validation finished');
          return report;
        } catch (error) {
          const e = toPlatformError(error);
          logger.warn({ validation: id, model: candidate.model, version: candidate.version, code: e.code, err: e.message }, 'validation failed');
          throw e;
        }
      });
      return view(job);
    },

    async job(id) {
      const j = jobs.get(id);
      if (j !== undefined) return view(j);
      const report = await store.getReport(id);
      if (report === undefined) throw ValidateErrors.VALIDATE_NOT_FOUND(`no validation ${id} on this server`, { details: { id } });
      return {
        id,
        model: report.model,
        version: report.version,
        status: 'succeeded',
        progress: { stage: 'done', done: 1, total: 1 },
        startedAt: report.createdAt,
        finishedAt: report.createdAt,
        error: null,
        passed: report.passed,
      };
    },

    async wait(id, signal) {
      const j = jobs.get(id);
      if (j === undefined) return service.report(id);
      if (signal === undefined) return j.done;
      return new Promise<ValidationReport>((resolve, reject) => {
        const onAbort = (): void => reject(toPlatformError(signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
        j.done.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    },

    async report(id) {
      const report = await store.getReport(id);
      if (report !== undefined) return report;
      const j = jobs.get(id);
      if (j?.status === 'running') throw ValidateErrors.VALIDATE_NOT_FOUND(`validation ${id} is still running (${j.progress.stage}); its report is stored when it ends`, { details: { id, status: j.status } });
      if (j?.status === 'failed') throw j.error ?? ValidateErrors.VALIDATE_FAILED(`validation ${id} failed`);
      throw ValidateErrors.VALIDATE_NOT_FOUND(`no validation ${id} on this server`, { details: { id } });
    },

    async latest(model, version) {
      await registry.getVersion(model, version);
      const report = await store.latestReport(model, version);
      if (report === undefined) {
        throw ValidateErrors.VALIDATE_NOT_FOUND(`${model}:${version} has no validation report yet; run \`slipway validate ${model}:${version}\``, { details: { model, version } });
      }
      return report;
    },

    list: (model, version) => store.listReports(model, version),

    async checkAliasMove(model, alias, version) {
      if (!required.includes(alias)) return;
      const report = await store.latestReport(model, version);
      const gated = report !== undefined && report.gates !== null && report.gates.results.length > 0;
      if (report !== undefined && gated && report.passed) return;
      const why =
        report === undefined
          ? 'it has no validation report'
          : !gated
            ? `its latest validation report (${report.id}) has no gates`
            : `its latest validation report (${report.id}) failed: ${(report.gates?.results ?? []).filter((g) => !g.passed).map((g) => g.check).join('; ') || 'an edge case failed'}`;
      throw RegistryErrors.REGISTRY_VALIDATION_REQUIRED(
        `alias ${alias} of ${model} only moves to a version whose latest validation passed its gates (validation.requiredForAliases); version ${version} cannot: ${why}. Run \`slipway validate ${model}:${version} --data FILE.csv --target COLUMN --gates gates.yaml\``,
        { details: { model, alias, version, report: report?.id ?? null } },
      );
    },

    async close() {
      closed = true;
      await jobs.close(ValidateErrors.VALIDATE_BUSY('the server is stopping; the validation was not finished', { retryAfterSeconds: 5 }));
    },
  };
  return service;
}

/**
 * The profile service: computes a model version's reference profile from a CSV file and stores it.
 * The server runs it because it has the model: the version is loaded into a temporary session of
 * its own (one replica, no warm-up, apart from any endpoint's replicas), the rows are run through
 * it in batches for the prediction distribution, and the session is unloaded at the end.
 *
 * The file is read in chunks, never whole. A column with more distinct values than the builder
 * keeps exactly has its histogram counted in a second read of the file (src/monitoring/profiles/
 * compute.ts); the model runs in the first read only.
 */
import { createReadStream } from 'node:fs';
import { silentLogger, systemClock, toPlatformError, type Clock, type Logger, type Tensor } from '../../core/index.js';
import type { ModelVersion } from '../../registry/index.js';
import type { LoadedModel, ModelRuntime, RuntimeSessionOptions } from '../../runtime/index.js';
import { createCsvReader } from '../../serving/tabular.js';
import { labelText, predictedAt, summarizeOutputs } from '../predictions/summary.js';
import { createProfileBuilder, type FeatureValue, type PredictionValue, type ProfileBuilder } from './compute.js';
import { ProfileErrors } from './errors.js';
import { featureNamesFrom, readOnnxMetadata, readOnnxMetadataFromBytes } from './feature-names.js';
import type { ProfileStore } from './ports.js';
import { inputTensors, planReferenceLayout, PROFILE_BATCH_ROWS, readReferenceRow, type ReferenceLayout } from './reference-data.js';
import type { ReferenceProfile } from './types.js';
import { createPerformanceAccumulator, type PerformanceAccumulator } from '../drift/performance.js';
import type { PerformanceState } from '../drift/types.js';

/** Classes the reference performance names (the rest merge, as in a drift window). */
const PERFORMANCE_MAX_CLASSES = 100;
/** Longest class label kept (the prediction records' limit). */
const PERFORMANCE_MAX_LABEL_CHARS = 256;

/** Most data rows a profile reads by default. */
export const DEFAULT_PROFILE_MAX_ROWS = 1_000_000;
/** Longest CSV field accepted, in characters (a quote left open would gather the rest of the file). */
export const PROFILE_MAX_FIELD_CHARS = 1024 * 1024;

/** What the service needs from the registry. */
export interface ProfileRegistry {
  getVersion(model: string, version: number): Promise<ModelVersion>;
  artifactPath(model: string, version: number): Promise<string>;
}

export interface ProfileServiceOptions {
  readonly registry: ProfileRegistry;
  readonly runtime: ModelRuntime;
  readonly store: ProfileStore;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Most data rows read; more is MONITORING_PROFILE_TOO_MANY_ROWS. Default {@link DEFAULT_PROFILE_MAX_ROWS}. */
  readonly maxRows?: number;
  /** Rows per inference. Default {@link PROFILE_BATCH_ROWS}. */
  readonly batchRows?: number;
  /** Profiles computed at once (each loads its model). Default 1. */
  readonly maxConcurrent?: number;
  /** Seed of the reservoir samples. Default the builder's. */
  readonly seed?: number;
  /** onnxruntime intra-op threads of the temporary session; default the runtime's. */
  readonly intraOpThreads?: number;
  readonly sessionOptions?: RuntimeSessionOptions;
  /**
   * Reads the artifact into memory when it must not be parsed from disk (the blob store's reader,
   * for encryption at rest); undefined from it, or no reader, reads the file. The runtime is given
   * the same reader and loads the model through it.
   */
  readonly readArtifact?: (artifactPath: string) => Promise<Uint8Array | undefined>;
}

export interface ComputeProfileInput {
  readonly model: string;
  readonly version: number;
  /** The CSV file: a header row, then one example per row. The caller owns it. */
  readonly path: string;
  /** Where the data came from (a file name), kept in the profile for people. */
  readonly source: string;
  /** A column left out of the features (the label). */
  readonly target?: string;
  /** Who asked, recorded as `createdBy`. */
  readonly by: string;
  readonly signal?: AbortSignal;
}

export interface ProfileService {
  /**
   * Computes the profile of model:version from the CSV at `path` and stores it, replacing any
   * earlier one; resolves with it. Throws REGISTRY_* for an unknown version and MONITORING_PROFILE_*
   * for data that does not fit the model, too many rows, or too many profiles computed at once.
   */
  compute(input: ComputeProfileInput): Promise<ReferenceProfile>;
  /** The stored profile; MONITORING_PROFILE_NOT_FOUND when the version has none. */
  get(model: string, version: number): Promise<ReferenceProfile>;
  /** Removes the stored profile and resolves with it; MONITORING_PROFILE_NOT_FOUND when there was none. */
  delete(model: string, version: number): Promise<ReferenceProfile>;
  /** Stops the profiles being computed (they fail) and waits for them to let go of their sessions. Idempotent. */
  close(): Promise<void>;
}

const invalidData = (message: string): Error => ProfileErrors.MONITORING_PROFILE_INVALID_DATA(message);

/** The rows of a CSV file, read in chunks. */
async function* csvRows(path: string): AsyncGenerator<string[]> {
  const reader = createCsvReader({ fail: invalidData, maxFieldChars: PROFILE_MAX_FIELD_CHARS });
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream) yield* reader.push(chunk as string);
    yield* reader.end();
  } finally {
    stream.destroy();
  }
}

const notFound = (model: string, version: number): Error =>
  ProfileErrors.MONITORING_PROFILE_NOT_FOUND(`${model} version ${version} has no reference profile; compute one with \`slipway profile ${model}:${version} --data FILE.csv\``, {
    details: { model, version },
  });

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw ProfileErrors.MONITORING_PROFILE_INVALID_OPTIONS(`profile service: ${name} must be a whole number ≥ 1, got ${v}`);
  return v;
}

/** The prediction of each row of one batch's outputs, by the prediction record's rule. */
interface PredictionReader {
  /** The output predictions are read from, once a row had one. */
  output: string | undefined;
  read(outputs: readonly Tensor[], rows: number): PredictionValue[];
}

function predictionReader(): PredictionReader {
  const reader: PredictionReader = {
    output: undefined,
    read(outputs, rows) {
      const summary = summarizeOutputs(outputs, { maxRows: rows });
      const values: PredictionValue[] = [];
      for (let r = 0; r < rows; r++) {
        const p = predictedAt(summary.tensors, r);
        // one output for every row: a row whose rule lands on another output (its value there is
        // missing) counts as missing rather than mixing outputs
        if (p === null || (reader.output !== undefined && p.output !== reader.output)) {
          values.push(null);
          continue;
        }
        reader.output ??= p.output;
        values.push(p.kind === 'value' ? (typeof p.value === 'number' ? p.value : Number(p.value)) : labelText(p.value));
      }
      return values;
    },
  };
  return reader;
}

/** Creates the service; see {@link ProfileService}. */
export function createProfileService(options: ProfileServiceOptions): ProfileService {
  const { registry, runtime, store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxRows = positive('maxRows', options.maxRows, DEFAULT_PROFILE_MAX_ROWS);
  const batchRows = positive('batchRows', options.batchRows, PROFILE_BATCH_ROWS);
  const maxConcurrent = positive('maxConcurrent', options.maxConcurrent, 1);
  const running = new Map<string, { abort: AbortController; done: Promise<unknown> }>();
  let closed = false;

  /** Pass 1: reads, checks and sketches every row, and runs the complete ones through the model. */
  const firstPass = async (
    input: ComputeProfileInput,
    version: ModelVersion,
    signal: AbortSignal,
  ): Promise<{ builder: ProfileBuilder; layout: ReferenceLayout; output: string | undefined; numeric: number[]; performance: PerformanceState | null }> => {
    const artifactPath = await registry.artifactPath(input.model, input.version);
    const inMemory = await options.readArtifact?.(artifactPath);
    const featureNames = featureNamesFrom(inMemory === undefined ? await readOnnxMetadata(artifactPath) : await readOnnxMetadataFromBytes(inMemory));
    inMemory?.fill(0);
    let layout: ReferenceLayout | undefined;
    let builder: ProfileBuilder | undefined;
    let loaded: LoadedModel | undefined;
    const predictions = predictionReader();
    // numeric predictions are kept (8 bytes a row, at most maxRows) for a second pass's bins;
    // class predictions need no second pass, so nothing is kept for them
    let numeric: number[] | undefined;
    let batch: { values: FeatureValue[]; complete: boolean; target: string | null; rowNumber: number }[] = [];
    let rowNumber = 0;
    // with a target: the version's performance on the reference rows, the baseline live labels are judged against
    let performance: PerformanceAccumulator | undefined;
    const score = (predicted: PredictionValue, target: string, at: number): void => {
      if (predicted === null) return;
      performance ??= createPerformanceAccumulator(typeof predicted === 'number' ? 'regression' : 'classification', [], PERFORMANCE_MAX_CLASSES, PERFORMANCE_MAX_LABEL_CHARS);
      try {
        performance.add(predicted, target);
      } catch (error) {
        throw invalidData(`row ${at}, target column ${JSON.stringify(input.target ?? '')}: ${toPlatformError(error).message}`);
      }
    };

    const flush = async (): Promise<void> => {
      if (layout === undefined || builder === undefined || batch.length === 0) return;
      const complete = batch.filter((r) => r.complete).map((r) => r.values);
      let predicted: PredictionValue[] = [];
      if (complete.length > 0) {
        loaded ??= await runtime.load({
          label: `profile/${input.model}:${input.version}`,
          artifactPath,
          replicas: 1,
          warmup: false,
          placement: 'worker',
          batchSizeHint: layout.batchRows,
          ...(options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads }),
          ...(options.sessionOptions === undefined ? {} : { sessionOptions: options.sessionOptions }),
        });
        const outputs = await loaded.infer(inputTensors(layout, complete), undefined, signal);
        predicted = predictions.read(outputs, complete.length);
      }
      let k = 0;
      for (const row of batch) {
        // rows with a missing value are not sent to the model: their prediction is missing
        const p = row.complete ? (predicted[k++] ?? null) : null;
        if (row.target !== null) score(p, row.target, row.rowNumber);
        if (typeof p === 'number' && numeric === undefined) numeric = new Array<number>(builder.rows).fill(NaN);
        builder.add(row.values, p);
        numeric?.push(typeof p === 'number' ? p : NaN);
      }
      batch = [];
    };

    try {
      for await (const cells of csvRows(input.path)) {
        if (signal.aborted) throw toPlatformError(signal.reason);
        if (layout === undefined || builder === undefined) {
          layout = planReferenceLayout(version.signature, cells, {
            ...(input.target === undefined ? {} : { target: input.target }),
            ...(featureNames === undefined ? {} : { featureNames }),
            batchRows,
          });
          builder = createProfileBuilder({ features: layout.features, ...(options.seed === undefined ? {} : { seed: options.seed }) });
          continue;
        }
        rowNumber++;
        if (rowNumber > maxRows) {
          throw ProfileErrors.MONITORING_PROFILE_TOO_MANY_ROWS(`the reference data has more than ${maxRows} rows, the most this server profiles; profile a uniform sample of them`, {
            details: { maxRows },
          });
        }
        batch.push({ ...readReferenceRow(layout, cells, rowNumber), rowNumber });
        if (batch.length >= layout.batchRows) await flush();
      }
      await flush();
    } finally {
      await loaded?.unload();
    }
    if (layout === undefined || builder === undefined) throw invalidData('the reference data is empty: expected a header row naming the features, then one row per example');
    if (builder.rows === 0) throw invalidData('the reference data has a header but no rows: expected one row per example after it');
    return { builder, layout, output: predictions.output, numeric: numeric ?? [], performance: performance?.snapshot() ?? null };
  };

  /** Pass 2: counts the columns with many distinct values into their fixed bins. */
  const secondPass = async (input: ComputeProfileInput, layout: ReferenceLayout, builder: ProfileBuilder, numeric: readonly number[], withPredictions: boolean, signal: AbortSignal): Promise<void> => {
    let rowNumber = 0;
    let header = true;
    for await (const cells of csvRows(input.path)) {
      if (signal.aborted) throw toPlatformError(signal.reason);
      if (header) {
        header = false;
        continue;
      }
      const { values } = readReferenceRow(layout, cells, rowNumber + 1);
      const p = numeric[rowNumber];
      builder.recount(values, withPredictions && p !== undefined && !Number.isNaN(p) ? p : null);
      rowNumber++;
    }
  };

  const compute = async (input: ComputeProfileInput, signal: AbortSignal): Promise<ReferenceProfile> => {
    const started = clock.monotonicMs();
    const version = await registry.getVersion(input.model, input.version);
    const { builder, layout, output, numeric, performance } = await firstPass(input, version, signal);
    const pass = builder.seal();
    if (pass.needed) await secondPass(input, layout, builder, numeric, pass.predictions, signal);
    const profile: ReferenceProfile = {
      ...builder.finish({
        model: input.model,
        version: input.version,
        source: input.source,
        createdAt: clock.now(),
        createdBy: input.by,
        ...(output === undefined ? {} : { predictionOutput: output }),
      }),
      performance,
    };
    if (signal.aborted) throw toPlatformError(signal.reason);
    await store.put(profile);
    logger.info(
      { model: input.model, version: input.version, rows: profile.rows, features: profile.features.length, byName: layout.byName, passes: pass.needed ? 2 : 1, ms: Math.round(clock.monotonicMs() - started) },
      'reference profile computed',
    );
    return profile;
  };

  return {
    async compute(input) {
      if (closed) throw ProfileErrors.MONITORING_PROFILE_BUSY('the server is stopping and computes no more profiles', { retryAfterSeconds: 5 });
      const key = `${input.model}:${input.version}`;
      if (running.has(key)) {
        throw ProfileErrors.MONITORING_PROFILE_BUSY(`the profile of ${key} is being computed now; retry when it is done`, { retryAfterSeconds: 5, details: { model: input.model, version: input.version } });
      }
      if (running.size >= maxConcurrent) {
        throw ProfileErrors.MONITORING_PROFILE_BUSY(`the server is computing ${running.size} profile${running.size === 1 ? '' : 's'} already, the most it runs at once; retry shortly`, {
          retryAfterSeconds: 5,
          details: { running: [...running.keys()] },
        });
      }
      const abort = new AbortController();
      const onAbort = (): void => abort.abort(input.signal?.reason);
      input.signal?.addEventListener('abort', onAbort, { once: true });
      const done = compute(input, abort.signal);
      running.set(key, { abort, done: done.catch(() => undefined) });
      try {
        return await done;
      } finally {
        input.signal?.removeEventListener('abort', onAbort);
        running.delete(key);
      }
    },
    async get(model, version) {
      const profile = await store.get(model, version);
      if (profile === undefined) throw notFound(model, version);
      return profile;
    },
    async delete(model, version) {
      const profile = await store.get(model, version);
      if (profile === undefined || !(await store.delete(model, version))) throw notFound(model, version);
      return profile;
    },
    async close() {
      closed = true;
      const pending = [...running.values()];
      for (const r of pending) r.abort.abort(ProfileErrors.MONITORING_PROFILE_BUSY('the server is stopping; the profile was not stored', { retryAfterSeconds: 5 }));
      await Promise.all(pending.map((r) => r.done));
    },
  };
}

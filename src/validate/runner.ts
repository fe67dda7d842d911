/**
 * One validation run: loads the candidate (and the baseline, beside it) into temporary sessions of
 * their own, times them in turns, measures each (src/validate/measure.ts), compares the two on the
 * same rows, evaluates the gates and assembles the report. Nothing here stores anything.
 */
import { toPlatformError, type Clock, type ModelSignature } from '../core/index.js';
import { featureNamesFrom, readOnnxMetadata, readOnnxMetadataFromBytes } from '../monitoring/profiles/feature-names.js';
import type { ModelRuntime, RuntimeSessionOptions } from '../runtime/index.js';
import { createSeededRandom } from '../stats/random.js';
import { readValidationData, type ValidationData } from './data.js';
import { figuresOf } from './figures.js';
import { evaluateGates, gatesPassed, type GatePolicy } from './gates.js';
import { pairedQuantileRatio } from '../stats/bootstrap.js';
import { batchInputs, measureAccuracy, measureEdgeCases, measureLatency, measureRobustness, measureStability, type LatencyMeasurement, type MeasureContext } from './measure.js';
import type { Predictions } from './outputs.js';
import type { DataDescription, LatencyRatio, PerformanceReport, ValidationProgress, ValidationReport, ValidationSettings, VersionMeasurements } from './types.js';

/** A version to measure, as the registry knows it. */
export interface VersionUnderTest {
  readonly model: string;
  readonly version: number;
  readonly digest: string;
  readonly sizeBytes: number;
  readonly signature: ModelSignature;
  readonly artifactPath: string;
}

export interface RunValidationInput {
  readonly id: string;
  readonly by: string;
  readonly runtime: ModelRuntime;
  readonly clock: Clock;
  readonly candidate: VersionUnderTest;
  readonly baseline?: VersionUnderTest;
  /** The dataset's CSV text and how the report names it; absent: performance, stability and edge cases only. */
  readonly data?: { readonly text: string; readonly digest: string; readonly name: string; readonly target?: string; readonly maxRows?: number };
  readonly gates?: { readonly source: string; readonly policy: GatePolicy };
  readonly settings: ValidationSettings;
  readonly signal: AbortSignal;
  readonly onProgress?: (progress: ValidationProgress) => void;
  /** Reads an artifact into memory when it must not be parsed from disk (encryption at rest). */
  readonly readArtifact?: (artifactPath: string) => Promise<Uint8Array | undefined>;
  readonly sessionOptions?: RuntimeSessionOptions;
  readonly intraOpThreads?: number;
  /** The candidate's data, already read by {@link readDataFor} (the service reads it before it answers, so bad data is a 4xx). */
  readonly candidateData?: ValidationData | null;
}

/** Steps one version's measurement takes, for the progress bar. */
function stepsPerVersion(settings: ValidationSettings, withData: boolean): number {
  const latency = settings.batchSizes.length;
  const data = withData ? 1 + settings.noiseLevels.length + 2 : 0;
  return 1 + latency + data + 2;
}

/** The feature names the model at `artifactPath` declares in its metadata; undefined when it declares none. */
export async function featureNamesOf(input: Pick<RunValidationInput, 'readArtifact'>, artifactPath: string): Promise<readonly string[] | undefined> {
  const inMemory = await input.readArtifact?.(artifactPath);
  try {
    return featureNamesFrom(inMemory === undefined ? await readOnnxMetadata(artifactPath) : await readOnnxMetadataFromBytes(inMemory));
  } finally {
    inMemory?.fill(0);
  }
}

/** A version loaded for measurement, with what its load cost. */
interface Loaded {
  readonly v: VersionUnderTest;
  readonly data: ValidationData | null;
  readonly ctx: MeasureContext;
  readonly loadMs: number;
  readonly firstCallMs: number;
  readonly rssBeforeBytes: number;
  /** Resident memory once loaded and called once. */
  readonly rssLoadedBytes: number;
  rssPeakBytes: number;
}

/** Loads a version (one replica in a worker thread, no warm-up) and times its load and first call. */
async function loadVersion(input: RunValidationInput, v: VersionUnderTest, data: ValidationData | null, step: (label: string) => void): Promise<Loaded> {
  const { runtime, settings, signal } = input;
  const rssBeforeBytes = process.memoryUsage.rss();
  const t0 = performance.now();
  const loaded = await runtime.load({
    label: `validate/${v.model}:${v.version}`,
    artifactPath: v.artifactPath,
    replicas: 1,
    warmup: false,
    placement: 'worker',
    batchSizeHint: Math.max(...settings.batchSizes),
    ...(input.intraOpThreads === undefined ? {} : { intraOpThreads: input.intraOpThreads }),
    ...(input.sessionOptions === undefined ? {} : { sessionOptions: input.sessionOptions }),
  });
  const loadMs = performance.now() - t0;
  step(`load ${v.model}:${v.version}`);
  const t1 = performance.now();
  try {
    await loaded.infer(batchInputs(loaded.signature, data, 1, createSeededRandom(settings.seed)), undefined, signal);
  } catch (error) {
    await loaded.unload();
    throw error;
  }
  const firstCallMs = performance.now() - t1;
  const rssLoadedBytes = process.memoryUsage.rss();
  const state: Loaded = {
    v,
    data,
    loadMs,
    firstCallMs,
    rssBeforeBytes,
    rssLoadedBytes,
    rssPeakBytes: rssLoadedBytes,
    ctx: {
      loaded,
      signature: loaded.signature,
      settings,
      signal,
      onStep: step,
      sampleMemory: () => {
        const rss = process.memoryUsage.rss();
        if (rss > state.rssPeakBytes) state.rssPeakBytes = rss;
      },
    },
  };
  return state;
}

/** Every check but latency, on one loaded version; returns its measurements and predictions. */
async function measureLoaded(l: Loaded, latency: VersionMeasurements['performance']['latency']): Promise<{ measurements: VersionMeasurements; predictions: Predictions }> {
  const { ctx, data, v } = l;
  let accuracy: VersionMeasurements['accuracy'] = null;
  let robustness: VersionMeasurements['robustness'] = null;
  let predictions: Predictions | null = null;
  if (data !== null && data.target !== null) {
    const scored = await measureAccuracy(ctx, data);
    accuracy = scored.report;
    predictions = scored.predictions;
    if (scored.task !== null) robustness = await measureRobustness(ctx, data, scored.task, scored.rows);
  }
  const { report: stability, predictions: batchPredictions } = await measureStability(ctx, data);
  const edgeCases = await measureEdgeCases(ctx, data);
  ctx.sampleMemory();
  const performanceReport: PerformanceReport = {
    sizeBytes: v.sizeBytes,
    loadMs: l.loadMs,
    firstCallMs: l.firstCallMs,
    latency,
    memory: {
      rssBeforeBytes: l.rssBeforeBytes,
      rssPeakBytes: l.rssPeakBytes,
      rssDeltaBytes: Math.max(0, l.rssLoadedBytes - l.rssBeforeBytes),
      workerHeapBytes: ctx.loaded.stats().reduce((a, s) => a + s.heapBytes, 0),
    },
  };
  const partial = { model: v.model, version: v.version, digest: v.digest, accuracy, performance: performanceReport, robustness, stability, edgeCases };
  // without labelled rows, versions are compared on the stability batch (the same inputs for every version)
  return { measurements: { ...partial, figures: figuresOf(partial) }, predictions: predictions ?? batchPredictions };
}

/**
 * Agreement of two versions' predictions on the same rows (the scored rows, or the stability batch
 * without labels): the share of equal labels, and the largest difference of values — of every
 * float output when the predictions are labels, so a quantised model's probability error shows.
 */
function compare(a: Predictions | null, b: Predictions | null, la?: LatencyMeasurement, lb?: LatencyMeasurement): ValidationReport['comparison'] {
  if (a === null || b === null || a.rows !== b.rows || a.rows === 0) return null;
  const latency = la === undefined || lb === undefined ? [] : latencyRatios(la, lb);
  const diff = (x: Float64Array, y: Float64Array): number | null => {
    if (x.length !== y.length) return null;
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (y[i] as number)));
    return Number.isFinite(worst) ? worst : null;
  };
  if (a.kind === 'label' && b.kind === 'label') {
    let same = 0;
    for (let i = 0; i < a.rows; i++) if (a.labels[i] === b.labels[i]) same++;
    return { agreement: same / a.rows, maxAbsDiff: diff(a.floats, b.floats), latency };
  }
  if (a.kind === 'value' && b.kind === 'value') return { agreement: null, maxAbsDiff: diff(a.values, b.values), latency };
  return { agreement: null, maxAbsDiff: null, latency };
}

/**
 * The candidate's p50 over the baseline's at each batch size, with a 95 % paired block-bootstrap
 * interval over the rounds they were timed in (src/stats/bootstrap.ts); sizes with fewer than 2
 * rounds are left out — too little data to say.
 */
function latencyRatios(a: LatencyMeasurement, b: LatencyMeasurement): LatencyRatio[] {
  const out: LatencyRatio[] = [];
  for (const [batchSize, blocks] of a.blocks) {
    const other = b.blocks.get(batchSize);
    const rounds = Math.min(blocks.length, other?.length ?? 0);
    if (other === undefined || rounds < 2) continue;
    const r = pairedQuantileRatio(blocks.slice(0, rounds), other.slice(0, rounds), { q: 0.5, confidence: 0.95, resamples: 2000, seed: batchSize });
    out.push({ batchSize, p50Ratio: r.ratio, lower: r.lower, upper: r.upper, rounds });
  }
  return out;
}

/**
 * Reads the run's data as `v`'s inputs (its feature names from the artifact's metadata), or null
 * without data. Throws VALIDATE_INVALID_DATA / VALIDATE_UNSUPPORTED_MODEL when it does not fit.
 */
export async function readDataFor(input: Pick<RunValidationInput, 'data' | 'settings' | 'readArtifact'>, v: VersionUnderTest): Promise<ValidationData | null> {
  if (input.data === undefined) return null;
  const featureNames = await featureNamesOf(input, v.artifactPath);
  return readValidationData(input.data.text, v.signature, {
    ...(input.data.target === undefined ? {} : { target: input.data.target }),
    ...(input.settings.sliceBy === undefined ? {} : { sliceBy: input.settings.sliceBy }),
    ...(featureNames === undefined ? {} : { featureNames }),
    ...(input.data.maxRows === undefined ? {} : { maxRows: input.data.maxRows }),
  });
}

/** True when two versions read the data the same way (same inputs, same declared feature names): the rows read for one serve the other. */
async function sameInputs(input: Pick<RunValidationInput, 'data' | 'readArtifact'>, a: VersionUnderTest, b: VersionUnderTest): Promise<boolean> {
  if (input.data === undefined) return true;
  if (JSON.stringify(a.signature.inputs) !== JSON.stringify(b.signature.inputs)) return false;
  return JSON.stringify(await featureNamesOf(input, a.artifactPath)) === JSON.stringify(await featureNamesOf(input, b.artifactPath));
}

/** Runs the validation and assembles its report. Rejects with VALIDATE_* for data that does not fit the model. */
export async function runValidation(input: RunValidationInput): Promise<ValidationReport> {
  const started = performance.now();
  const { candidate, baseline, settings } = input;
  const versions = baseline === undefined ? 1 : 2;
  const total = versions * stepsPerVersion(settings, input.data !== undefined && input.data.target !== undefined) + 1;
  let done = 0;
  let stage = 'reading the data';
  const report = (): void => input.onProgress?.({ stage, done: Math.min(done, total), total });
  const step = (label: string): void => {
    done++;
    stage = label;
    report();
  };
  report();

  try {
    const candidateData = input.candidateData ?? (await readDataFor(input, candidate));
    step('data read');
    // both versions are loaded, then timed in turns (like for like), then measured one after the other
    const loaded: Loaded[] = [];
    let latency: LatencyMeasurement[] = [];
    let c: Awaited<ReturnType<typeof measureLoaded>>;
    let b: Awaited<ReturnType<typeof measureLoaded>> | null = null;
    try {
      loaded.push(await loadVersion(input, candidate, candidateData, step));
      if (baseline !== undefined) loaded.push(await loadVersion(input, baseline, (await sameInputs(input, candidate, baseline)) ? candidateData : await readDataFor(input, baseline), step));
      latency = await measureLatency(loaded.map((l) => l.ctx), candidateData);
      c = await measureLoaded(loaded[0] as Loaded, latency[0]?.summaries ?? []);
      if (loaded[1] !== undefined) b = await measureLoaded(loaded[1], latency[1]?.summaries ?? []);
    } finally {
      await Promise.all(loaded.map((l) => l.ctx.loaded.unload()));
    }
    const data: DataDescription | null =
      input.data === undefined || candidateData === null
        ? null
        : { digest: input.data.digest, name: input.data.name, rows: candidateData.rows, features: candidateData.featureNames.length, target: candidateData.target, ignoredColumns: candidateData.ignoredColumns };
    const comparison = compare(c.predictions, b?.predictions ?? null, latency[0], latency[1]);
    const figures = { ...c.measurements.figures, ...comparisonFigures(comparison) };
    const candidateMeasurements = { ...c.measurements, figures };
    let gates: ValidationReport['gates'] = null;
    if (input.gates !== undefined) {
      const results = evaluateGates(input.gates.policy, figures, b === null ? undefined : b.measurements.figures);
      gates = { source: input.gates.source, results, passed: gatesPassed(results) };
    }
    const edgesPassed = candidateMeasurements.edgeCases.every((e) => e.passed);
    return {
      id: input.id,
      model: candidate.model,
      version: candidate.version,
      createdAt: new Date(input.clock.now()).toISOString(),
      createdBy: input.by,
      durationMs: performance.now() - started,
      settings,
      data,
      candidate: candidateMeasurements,
      baseline: b?.measurements ?? null,
      comparison,
      gates,
      passed: edgesPassed && (gates === null || gates.passed),
    };
  } catch (error) {
    throw toPlatformError(error);
  }
}

function comparisonFigures(c: ValidationReport['comparison']): Record<string, number> {
  const out: Record<string, number> = {};
  // the smallest batch is what `baseline.latency_ratio.*` means, as `latency.*` does
  c?.latency.forEach((l, i) => {
    const names = i === 0 ? ['baseline.latency_ratio', `baseline.latency_ratio.batch_${l.batchSize}`] : [`baseline.latency_ratio.batch_${l.batchSize}`];
    for (const n of names) {
      out[`${n}.p50`] = l.p50Ratio;
      out[`${n}.p50_lower`] = l.lower;
      out[`${n}.p50_upper`] = l.upper;
    }
  });
  if (c?.agreement !== null && c?.agreement !== undefined) out['baseline.agreement'] = c.agreement;
  if (c?.maxAbsDiff !== null && c?.maxAbsDiff !== undefined) out['baseline.max_abs_diff'] = c.maxAbsDiff;
  return out;
}

/**
 * One validation run: loads the candidate (and the baseline, one after the other, never both at
 * once) into a temporary session of its own, measures it (src/validate/measure.ts), compares the
 * two on the same rows, evaluates the gates and assembles the report. Nothing here stores anything.
 */
import { toPlatformError, type Clock, type ModelSignature } from '../core/index.js';
import { featureNamesFrom, readOnnxMetadata, readOnnxMetadataFromBytes } from '../monitoring/profiles/feature-names.js';
import type { ModelRuntime, RuntimeSessionOptions } from '../runtime/index.js';
import { createSeededRandom } from '../stats/random.js';
import { readValidationData, type ValidationData } from './data.js';
import { figuresOf } from './figures.js';
import { evaluateGates, gatesPassed, type GatePolicy } from './gates.js';
import { batchInputs, measureAccuracy, measureEdgeCases, measureLatency, measureRobustness, measureStability, type MeasureContext } from './measure.js';
import type { Predictions } from './outputs.js';
import type { DataDescription, PerformanceReport, ValidationProgress, ValidationReport, ValidationSettings, VersionMeasurements } from './types.js';

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

/** The feature names the model at `artifactPath` declares in its metadata, if any. */
export async function featureNamesOf(input: Pick<RunValidationInput, 'readArtifact'>, artifactPath: string): Promise<readonly string[] | undefined> {
  const inMemory = await input.readArtifact?.(artifactPath);
  try {
    return featureNamesFrom(inMemory === undefined ? await readOnnxMetadata(artifactPath) : await readOnnxMetadataFromBytes(inMemory));
  } finally {
    inMemory?.fill(0);
  }
}

/** Measures one version: loads it, runs every check, unloads it. */
async function measureVersion(
  input: RunValidationInput,
  v: VersionUnderTest,
  data: ValidationData | null,
  step: (label: string) => void,
): Promise<{ measurements: VersionMeasurements; predictions: Predictions | null }> {
  const { runtime, settings, signal } = input;
  let rssPeak = process.memoryUsage.rss();
  const rssBefore = rssPeak;
  const sampleMemory = (): void => {
    const rss = process.memoryUsage.rss();
    if (rss > rssPeak) rssPeak = rss;
  };
  const sampler = setInterval(sampleMemory, 50);
  sampler.unref();
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
  try {
    const loadMs = performance.now() - t0;
    step(`load ${v.model}:${v.version}`);
    const ctx: MeasureContext = { loaded, signature: loaded.signature, settings, signal, onStep: step, sampleMemory };
    const t1 = performance.now();
    await loaded.infer(batchInputs(loaded.signature, data, 1, createSeededRandom(settings.seed)), undefined, signal);
    const firstCallMs = performance.now() - t1;
    const latency = await measureLatency(ctx, data);
    let accuracy: VersionMeasurements['accuracy'] = null;
    let robustness: VersionMeasurements['robustness'] = null;
    let predictions: Predictions | null = null;
    if (data !== null && data.target !== null) {
      const scored = await measureAccuracy(ctx, data);
      accuracy = scored.report;
      predictions = scored.predictions;
      if (scored.task !== null) robustness = await measureRobustness(ctx, data, scored.task, scored.rows);
    }
    const stability = await measureStability(ctx, data);
    const edgeCases = await measureEdgeCases(ctx, data);
    sampleMemory();
    const performanceReport: PerformanceReport = {
      sizeBytes: v.sizeBytes,
      loadMs,
      firstCallMs,
      latency,
      memory: {
        rssBeforeBytes: rssBefore,
        rssPeakBytes: rssPeak,
        rssDeltaBytes: Math.max(0, rssPeak - rssBefore),
        workerHeapBytes: loaded.stats().reduce((a, s) => a + s.heapBytes, 0),
      },
    };
    const partial = { model: v.model, version: v.version, digest: v.digest, accuracy, performance: performanceReport, robustness, stability, edgeCases };
    return { measurements: { ...partial, figures: figuresOf(partial) }, predictions };
  } finally {
    clearInterval(sampler);
    await loaded.unload();
  }
}

/** Agreement of two versions' predictions on the same scored rows. */
function compare(a: Predictions | null, b: Predictions | null): ValidationReport['comparison'] {
  if (a === null || b === null || a.rows !== b.rows || a.rows === 0) return null;
  if (a.kind === 'label' && b.kind === 'label') {
    let same = 0;
    for (let i = 0; i < a.rows; i++) if (a.labels[i] === b.labels[i]) same++;
    return { agreement: same / a.rows, maxAbsDiff: null };
  }
  if (a.kind === 'value' && b.kind === 'value') {
    let worst = 0;
    for (let i = 0; i < a.rows; i++) worst = Math.max(worst, Math.abs((a.values[i] as number) - (b.values[i] as number)));
    return { agreement: null, maxAbsDiff: Number.isFinite(worst) ? worst : null };
  }
  return null;
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
    const c = await measureVersion(input, candidate, candidateData, step);
    let b: Awaited<ReturnType<typeof measureVersion>> | null = null;
    if (baseline !== undefined) b = await measureVersion(input, baseline, await readDataFor(input, baseline), step);
    const data: DataDescription | null =
      input.data === undefined || candidateData === null
        ? null
        : { digest: input.data.digest, name: input.data.name, rows: candidateData.rows, features: candidateData.featureNames.length, target: candidateData.target, ignoredColumns: candidateData.ignoredColumns };
    const comparison = compare(c.predictions, b?.predictions ?? null);
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
  if (c?.agreement !== null && c?.agreement !== undefined) out['baseline.agreement'] = c.agreement;
  if (c?.maxAbsDiff !== null && c?.maxAbsDiff !== undefined) out['baseline.max_abs_diff'] = c.maxAbsDiff;
  return out;
}

/**
 * Drift check benchmark (issue [4 of 6], target: a drift check of a 100,000-row × 30-feature window
 * in ≤ 1 s, window memory bounded and reported). Builds a reference profile (24 numeric, 6
 * categorical features, with predictions), fills a live window with 100,000 rows (a few features
 * shifted, so the check has drift to find), then times `snapshot()` + `checkDrift()` several times.
 * Two references: a large one (100,000 rows: normalised Wasserstein beside KS, Jensen–Shannon beside
 * chi-square) and a small one (1,000 rows: KS, chi-square).
 *
 * Run: `npx tsx bench/monitoring/drift-check.ts` (add `--expose-gc` before the file to also measure
 * the window's heap). BENCH_DRIFT_RUNS sets the timed checks per reference (default 7).
 * `runDriftCheckBench()` returns the figures for `npm run bench:monitoring`.
 */
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { createFakeClock } from '../../src/core/index.js';
import { checkDrift, createDriftWindow, type DriftReport } from '../../src/monitoring/drift/index.js';
import { createProfileBuilder, type FeatureSpec, type FeatureValue } from '../../src/monitoring/profiles/compute.js';
import type { ReferenceProfile } from '../../src/monitoring/profiles/types.js';
import { createSeededRandom, type SeededRandom } from '../../src/stats/index.js';
import { median, spread } from '../lib/harness.js';

const NUMERIC = 24;
const CATEGORICAL = 6;
const WINDOW_ROWS = 100_000;
const CATEGORIES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const SHARES = [0.3, 0.2, 0.15, 0.1, 0.1, 0.07, 0.05, 0.03];
/** Features given a shift in the live window (numeric 0–3 by 0.5σ, categorical 0 reweighted). */
const SHIFTED_NUMERIC = 4;

function pick(random: SeededRandom, shares: readonly number[]): string {
  let u = random.next();
  for (let i = 0; i < shares.length; i++) {
    u -= shares[i] as number;
    if (u < 0) return CATEGORIES[i] as string;
  }
  return CATEGORIES[CATEGORIES.length - 1] as string;
}

/**
 * The reference profile, made by the product's own builder (src/monitoring/profiles/compute.ts)
 * from generated rows: numeric features drawn around a mean of their index, categorical ones and
 * the predictions drawn with {@link SHARES}.
 */
function buildProfile(referenceRows: number, random: SeededRandom): ReferenceProfile {
  const features: FeatureSpec[] = [
    ...Array.from({ length: NUMERIC }, (_, j): FeatureSpec => ({ name: `num_${j}`, input: 'input', column: j, datatype: 'FP32' })),
    ...Array.from({ length: CATEGORICAL }, (_, j): FeatureSpec => ({ name: `cat_${j}`, input: 'input', column: NUMERIC + j, datatype: 'BYTES' })),
  ];
  const builder = createProfileBuilder({ features });
  const rows: FeatureValue[][] = [];
  const predictions: string[] = [];
  for (let i = 0; i < referenceRows; i++) {
    const row: FeatureValue[] = [];
    for (let j = 0; j < NUMERIC; j++) row.push(j + (1 + j / 10) * random.normal());
    for (let j = 0; j < CATEGORICAL; j++) row.push(pick(random, SHARES));
    const predicted = pick(random, SHARES);
    rows.push(row);
    predictions.push(predicted);
    builder.add(row, predicted);
  }
  // columns with many distinct values have their bins counted in a second pass, as the service does
  if (builder.seal().needed) rows.forEach((row, i) => builder.recount(row, predictions[i] ?? null));
  return builder.finish({ model: 'bench', version: 1, source: 'generated', createdAt: 0, createdBy: 'bench', predictionOutput: 'predicted' });
}

export interface DriftBenchResult {
  readonly reference: string;
  readonly referenceRows: number;
  readonly windowRows: number;
  readonly features: number;
  readonly fillMs: number;
  readonly rowsPerSecond: number;
  readonly snapshotMs: { readonly median: number; readonly min: number; readonly max: number };
  readonly checkMs: { readonly first: number; readonly median: number; readonly min: number; readonly max: number };
  /** snapshot + check, median over runs. */
  readonly totalMedianMs: number;
  readonly memoryBoundBytes: number;
  /** Heap and array buffers held by the filled window (after GC), when the process runs with --expose-gc. */
  readonly measuredHeapBytes: number | null;
  readonly methods: Readonly<Record<string, number>>;
  readonly driftedFeatures: readonly string[];
}

function gc(): boolean {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) return false;
  g();
  g();
  return true;
}

/** Bytes held by JavaScript: the heap plus typed-array backing stores (which live outside it). */
function held(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Fills one window and times its checks. */
function benchOne(reference: string, referenceRows: number, runs: number): DriftBenchResult {
  const random = createSeededRandom(referenceRows);
  const profile = buildProfile(referenceRows, random);
  const hasGc = gc();
  const heldBefore = held();
  const window = createDriftWindow({ profile, maxRows: WINDOW_ROWS + 1, maxAgeMs: null, clock: createFakeClock(), seed: 7 });
  const rows: (number | string)[][] = [];
  // Rows are generated before timing, so the fill measures the window, not the generator.
  const shifted = CATEGORIES.map((_, i) => SHARES[CATEGORIES.length - 1 - i] as number);
  for (let i = 0; i < WINDOW_ROWS; i++) {
    const row: (number | string)[] = [];
    for (let j = 0; j < NUMERIC; j++) row.push(j + (j < SHIFTED_NUMERIC ? 0.5 * (1 + j / 10) : 0) + (1 + j / 10) * random.normal());
    for (let j = 0; j < CATEGORICAL; j++) row.push(pick(random, j === 0 ? shifted : SHARES));
    rows.push(row);
  }
  const predicted = rows.map(() => pick(random, SHARES));
  const fillStart = performance.now();
  for (let i = 0; i < WINDOW_ROWS; i++) window.add(rows[i] as (number | string)[], predicted[i]);
  const fillMs = performance.now() - fillStart;
  rows.length = 0;
  predicted.length = 0;
  let measuredHeapBytes: number | null = null;
  if (hasGc) {
    gc();
    measuredHeapBytes = held() - heldBefore;
  }

  const snapshotTimes: number[] = [];
  const checkTimes: number[] = [];
  const totals: number[] = [];
  let report: DriftReport | undefined;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const snapshot = window.snapshot();
    const t1 = performance.now();
    report = checkDrift(profile, snapshot);
    const t2 = performance.now();
    snapshotTimes.push(t1 - t0);
    checkTimes.push(t2 - t1);
    totals.push(t2 - t0);
  }
  if (report === undefined) throw new Error('BENCH_DRIFT_RUNS must be at least 1');
  const methods: Record<string, number> = {};
  for (const f of report.features) methods[f.method] = (methods[f.method] ?? 0) + 1;
  const s = spread(snapshotTimes);
  const c = spread(checkTimes);
  return {
    reference,
    referenceRows,
    windowRows: WINDOW_ROWS,
    features: profile.features.length,
    fillMs,
    rowsPerSecond: WINDOW_ROWS / (fillMs / 1000),
    snapshotMs: { median: median(snapshotTimes), min: s.min, max: s.max },
    checkMs: { first: checkTimes[0] as number, median: median(checkTimes), min: c.min, max: c.max },
    totalMedianMs: median(totals),
    memoryBoundBytes: window.stats().memoryBoundBytes,
    measuredHeapBytes,
    methods,
    driftedFeatures: report.dataset.driftedFeatures,
  };
}

export interface DriftBenchReport {
  readonly machine: { readonly cpus: number; readonly model: string; readonly loadBefore: readonly number[]; readonly loadAfter: readonly number[] };
  readonly runs: number;
  readonly results: readonly DriftBenchResult[];
  readonly targetMs: number;
}

/** Runs the benchmark on the large and the small reference. */
export function runDriftCheckBench(runs = Number(process.env.BENCH_DRIFT_RUNS ?? 7)): DriftBenchReport {
  const loadBefore = loadavg().map((l) => Number(l.toFixed(2)));
  const results = [benchOne('large (100,000 rows)', 100_000, runs), benchOne('small (1,000 rows)', 1000, runs)];
  const loadAfter = loadavg().map((l) => Number(l.toFixed(2)));
  return { machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadBefore, loadAfter }, runs, results, targetMs: 1000 };
}

function ms(x: number): string {
  return `${x.toFixed(1)} ms`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

/** The figures as lines for a terminal. */
export function renderDriftBench(r: DriftBenchReport): string {
  const lines = [
    `drift check: ${WINDOW_ROWS.toLocaleString('en')}-row × ${NUMERIC + CATEGORICAL}-feature window (+ predictions), ${r.runs} timed checks per reference`,
    `machine: ${r.machine.cpus} × ${r.machine.model}; load average before ${r.machine.loadBefore.join(' / ')}, after ${r.machine.loadAfter.join(' / ')}`,
  ];
  for (const x of r.results) {
    lines.push(
      '',
      `reference ${x.reference}: methods ${Object.entries(x.methods)
        .map(([m, n]) => `${m} × ${n}`)
        .join(', ')}; drifted ${x.driftedFeatures.join(', ') || 'none'}`,
      `  fill:     ${ms(x.fillMs)} (${Math.round(x.rowsPerSecond).toLocaleString('en')} rows/s)`,
      `  snapshot: median ${ms(x.snapshotMs.median)} (${ms(x.snapshotMs.min)}–${ms(x.snapshotMs.max)})`,
      `  check:    first ${ms(x.checkMs.first)}, median ${ms(x.checkMs.median)} (${ms(x.checkMs.min)}–${ms(x.checkMs.max)})`,
      `  snapshot + check median ${ms(x.totalMedianMs)} — target ≤ ${r.targetMs} ms: ${x.totalMedianMs <= r.targetMs ? 'met' : 'MISSED'}`,
      `  window memory bound ${mib(x.memoryBoundBytes)} (${x.memoryBoundBytes.toLocaleString('en')} bytes)${x.measuredHeapBytes === null ? '' : `; measured after filling (heap + array buffers) ${mib(x.measuredHeapBytes)}`}`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = runDriftCheckBench();
  console.log(renderDriftBench(report));
}

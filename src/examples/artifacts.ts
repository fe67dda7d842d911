/**
 * Writes a trained example's folder: model.onnx, test.csv, reference.csv, metrics.json,
 * request.json and feature-names.json, plus candidate.onnx and candidate-metrics.json for an
 * example that has a candidate. The folder is assembled under a temporary name and
 * renamed into place, so a crash never leaves a half-written model folder behind.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from '../core/files.js';
import { formatCsv } from './csv.js';
import { EXAMPLE_INPUT_NAME, exampleParameterCount, type ExampleName, type ExampleTask, type MetricCheck, type TrainedExample } from './example.js';
import { EXAMPLE_IR_VERSION, EXAMPLE_OPSET } from './onnx-export.js';

/** The files of an example folder. */
export const EXAMPLE_FILES = ['model.onnx', 'test.csv', 'reference.csv', 'metrics.json', 'request.json', 'feature-names.json'] as const;

/**
 * The extra files of an example that has a candidate. Its metrics go in a file of their own, not
 * under a key of metrics.json: metrics.json describes model.onnx alone (the server attaches its
 * numbers to the registered version as lineage metrics), and the candidate's file has the very same
 * shape, so whatever reads one reads the other.
 */
export const CANDIDATE_FILES = ['candidate.onnx', 'candidate-metrics.json'] as const;

/**
 * The rows a filtered example was not trained on (bike-sharing: 2012), in the test.csv layout, so
 * serving them shows real drift (docs/drift.md, the bike-sharing tour).
 */
export const DRIFT_FILE = 'drift.csv';

/** The name of a file an example folder may hold. */
export type ExampleFileName = (typeof EXAMPLE_FILES)[number] | (typeof CANDIDATE_FILES)[number] | typeof DRIFT_FILE;

/** The content of metrics.json: everything about the run except wall-clock time, so it is deterministic. */
export interface ExampleMetricsFile {
  readonly name: ExampleName;
  readonly title: string;
  /** candidate-metrics.json only: the model this one is a retrained alternative to. */
  readonly candidateOf?: { readonly file: 'model.onnx'; readonly sha256: string };
  readonly task: ExampleTask;
  readonly dataset: { readonly file: string; readonly sha256: string; readonly rows: number; readonly attribution: string };
  readonly seed: number;
  readonly target: string;
  readonly targetTransform: 'none' | 'log1p';
  readonly features: number;
  readonly classLabels?: readonly string[];
  readonly split: { readonly method: string; readonly testFraction: number; readonly eligibleRows: number; readonly trainRows: number; readonly testRows: number; readonly referenceRows: number };
  readonly heldOut: Readonly<Record<string, number>>;
  readonly train: Readonly<Record<string, number>>;
  readonly baseline: Readonly<Record<string, number>>;
  readonly checks: readonly MetricCheck[];
  readonly passed: boolean;
  readonly model: {
    readonly file: 'model.onnx' | 'candidate.onnx';
    readonly sha256: string;
    readonly bytes: number;
    readonly parameters: number;
    readonly opset: number;
    readonly irVersion: number;
    readonly architecture: string;
    readonly input: { readonly name: string; readonly datatype: 'FP32'; readonly shape: readonly (number | string)[] };
    readonly outputs: readonly { readonly name: string; readonly datatype: 'FP32' | 'INT64'; readonly shape: readonly (number | string)[] }[];
  };
  readonly training: Readonly<Record<string, unknown>>;
}

/** What building one example produced. */
export interface ExampleResult {
  readonly name: ExampleName;
  readonly task: ExampleTask;
  /** The example's folder, `<outDir>/<name>`. */
  readonly dir: string;
  readonly modelPath: string;
  readonly modelSha256: string;
  readonly modelBytes: number;
  /** What metrics.json holds. */
  readonly metrics: ExampleMetricsFile;
  /** Whether every held-out threshold was met, the candidate's included. */
  readonly passed: boolean;
  /** The candidate written beside the model, if the example has one. */
  readonly candidate?: CandidateResult;
}

/** What was written for an example's candidate. */
export interface CandidateResult {
  readonly modelPath: string;
  readonly modelSha256: string;
  readonly modelBytes: number;
  /** What candidate-metrics.json holds. */
  readonly metrics: ExampleMetricsFile;
  /** Whether every held-out threshold of the candidate was met. */
  readonly passed: boolean;
}

/** The metrics.json content of a trained example. */
export function exampleMetrics(example: TrainedExample): ExampleMetricsFile {
  return metricsOf(example, 'model.onnx', undefined);
}

/** The candidate-metrics.json content of an example's candidate, or undefined when it has none. */
export function candidateMetrics(example: TrainedExample): ExampleMetricsFile | undefined {
  if (example.candidate === undefined) return undefined;
  return metricsOf(example.candidate, 'candidate.onnx', { file: 'model.onnx', sha256: sha256(example.modelBytes) });
}

function metricsOf(example: TrainedExample, file: 'model.onnx' | 'candidate.onnx', candidateOf: ExampleMetricsFile['candidateOf']): ExampleMetricsFile {
  const classes = example.classLabels?.length ?? 0;
  return {
    name: example.name,
    title: example.title,
    // only in candidate-metrics.json, so metrics.json keeps its bytes
    ...(candidateOf === undefined ? {} : { candidateOf }),
    task: example.task,
    dataset: {
      file: example.dataset.info.file,
      sha256: example.dataset.sha256,
      rows: example.dataset.table.rows.length,
      attribution: `${example.dataset.info.citation}. doi:${example.dataset.info.doi}. ${example.dataset.info.license}.`,
    },
    seed: example.seed,
    target: example.target,
    targetTransform: example.targetTransform,
    features: example.featureNames.length,
    ...(example.classLabels === undefined ? {} : { classLabels: example.classLabels }),
    split: {
      method: example.split.description,
      testFraction: example.split.testFraction,
      eligibleRows: example.split.eligibleRows,
      trainRows: example.split.train.length,
      testRows: example.split.test.length,
      referenceRows: example.split.reference.length,
    },
    heldOut: example.heldOut,
    train: example.trainMetrics,
    baseline: example.baseline,
    checks: example.checks,
    passed: example.passed,
    model: {
      file,
      sha256: sha256(example.modelBytes),
      bytes: example.modelBytes.length,
      parameters: exampleParameterCount(example),
      opset: EXAMPLE_OPSET,
      irVersion: EXAMPLE_IR_VERSION,
      architecture: example.architecture,
      input: { name: EXAMPLE_INPUT_NAME, datatype: 'FP32', shape: ['batch', example.featureNames.length] },
      outputs:
        example.task === 'classification'
          ? [
              { name: 'label', datatype: 'INT64', shape: ['batch'] },
              { name: 'probabilities', datatype: 'FP32', shape: ['batch', classes] },
            ]
          : [{ name: 'prediction', datatype: 'FP32', shape: ['batch', 1] }],
    },
    training: example.training,
  };
}

/** The Open Inference Protocol request body for the first `rows` held-out rows. */
export function exampleRequest(example: TrainedExample, rows = 2): { inputs: { name: string; shape: number[]; datatype: 'FP32'; data: number[] }[] } {
  const n = Math.min(rows, example.xTest.rows);
  const width = example.xTest.cols;
  return { inputs: [{ name: EXAMPLE_INPUT_NAME, shape: [n, width], datatype: 'FP32', data: Array.from(example.xTest.data.subarray(0, n * width)) }] };
}

/** The bytes of every file of an example folder, by file name. */
export function exampleFiles(example: TrainedExample): Map<ExampleFileName, Uint8Array> {
  const table = example.dataset.table;
  const columns = [...example.featureNames, example.target].map((c) => table.header.indexOf(c));
  // Copy the cells' original text so the CSVs carry exactly the dataset's values.
  const cells = (rows: readonly number[]): string[][] => rows.map((r) => columns.map((c) => table.rows[r]?.[c] ?? ''));
  const header = [...example.featureNames, example.target];
  const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');
  const json = (v: unknown, indent = 2): Uint8Array => text(`${JSON.stringify(v, null, indent)}\n`);
  const files = new Map<ExampleFileName, Uint8Array>([
    ['model.onnx', example.modelBytes],
    ['test.csv', text(formatCsv(header, cells(example.split.test)))],
    ['reference.csv', text(formatCsv(header, cells(example.split.reference)))],
    ['metrics.json', json(exampleMetrics(example))],
    ['request.json', json(exampleRequest(example), 0)],
    ['feature-names.json', json(example.featureNames)],
  ]);
  const outside = example.split.outside ?? [];
  if (outside.length > 0) files.set(DRIFT_FILE, text(formatCsv(header, cells(outside))));
  const candidate = example.candidate;
  const metrics = candidateMetrics(example);
  if (candidate !== undefined && metrics !== undefined) {
    files.set('candidate.onnx', candidate.modelBytes);
    files.set('candidate-metrics.json', json(metrics));
  }
  return files;
}

/**
 * Writes the example's folder `<outDir>/<name>` atomically: the files go into a temporary sibling
 * folder (each flushed to disk), which then replaces any previous folder by rename. Running it
 * again with the same example gives the same bytes.
 */
export async function writeExample(example: TrainedExample, outDir: string): Promise<ExampleResult> {
  await mkdir(outDir, { recursive: true });
  await removeStale(outDir, example.name);
  const dir = join(outDir, example.name);
  const tmp = join(outDir, `.${example.name}.tmp-${process.pid}`);
  const old = join(outDir, `.${example.name}.old-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  for (const [name, bytes] of exampleFiles(example)) {
    const handle = await open(join(tmp, name), 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  // rename() cannot replace a non-empty folder: move the old one aside first, then drop it.
  const hadPrevious = await pathExists(dir);
  if (hadPrevious) await rename(dir, old);
  await rename(tmp, dir);
  if (hadPrevious) await rm(old, { recursive: true, force: true });
  const metrics = exampleMetrics(example);
  const candidate = candidateResult(example, dir);
  return {
    name: example.name,
    task: example.task,
    dir,
    modelPath: join(dir, 'model.onnx'),
    modelSha256: metrics.model.sha256,
    modelBytes: metrics.model.bytes,
    metrics,
    passed: example.passed && (candidate?.passed ?? true),
    ...(candidate === undefined ? {} : { candidate }),
  };
}

function candidateResult(example: TrainedExample, dir: string): CandidateResult | undefined {
  const metrics = candidateMetrics(example);
  if (example.candidate === undefined || metrics === undefined) return undefined;
  return {
    modelPath: join(dir, 'candidate.onnx'),
    modelSha256: metrics.model.sha256,
    modelBytes: metrics.model.bytes,
    metrics,
    passed: example.candidate.passed,
  };
}

/** Removes temporary folders left by an earlier run of this example that crashed (its process is gone). */
async function removeStale(outDir: string, name: string): Promise<void> {
  const pattern = new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}\\.(?:tmp|old)-(\\d+)$`);
  for (const entry of await readdir(outDir)) {
    const match = pattern.exec(entry);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    await rm(join(outDir, entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}


function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

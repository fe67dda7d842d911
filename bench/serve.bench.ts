/**
 * `npm run bench`: how close serving over HTTP gets to raw onnxruntime calls, measured in one run.
 *  (a) raw: onnxruntime-node InferenceSession.run in this process, batch 1, back to back;
 *  (b) served: `slipway serve` in a child process, autocannon POSTing OIP JSON at several concurrencies.
 * Prints a table and writes it to docs/benchmarks.md with the date and command.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import * as ort from 'onnxruntime-node';
import { ensureExampleModels } from '../src/app/examples.js';
import { silentLogger } from '../src/core/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const MODEL = process.env.BENCH_MODEL ?? 'digits';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,4,16,64').split(',').map(Number);

interface Row {
  mode: string;
  concurrency: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

async function raw(modelPath: string, row: Float32Array, features: number): Promise<Row> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
  const input = session.inputNames[0] ?? 'input';
  const feeds = { [input]: new ort.Tensor('float32', row, [1, features]) };
  for (let i = 0; i < 200; i++) await session.run(feeds);
  const latencies: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await session.run(feeds);
    latencies.push(performance.now() - t);
  }
  await session.release();
  latencies.sort((a, b) => a - b);
  return { mode: 'raw onnxruntime (in-process, 1 thread)', concurrency: 1, reqPerSec: latencies.length / SECONDS, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), errors: 0 };
}

async function startChildServer(dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(root, 'bin', 'slipway.js'), 'serve', '--examples', '--port', '0', '--data-dir', dataDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SLIPWAY_LOG_LEVEL: 'warn' },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${buffer}`)), 120_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const m = buffer.match(/https?:\/\/127\.0\.0\.1:\d+/);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${buffer}`)));
  });
  child.stdout.resume();
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function waitReady(url: string, endpoint: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = await fetch(`${url}/v2/models/${endpoint}/ready`).catch(() => undefined);
    if (r?.status === 200) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${endpoint} never became ready`);
}

async function served(url: string, body: string | undefined, concurrency: number): Promise<Row> {
  const result = await autocannon({
    url: body === undefined ? `${url}/v2/health/live` : `${url}/v2/models/${MODEL}/infer`,
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
    connections: concurrency,
    duration: SECONDS,
  });
  return {
    mode: body === undefined ? 'HTTP only: GET /v2/health/live (no inference, no JSON body)' : 'served over HTTP (OIP JSON)',
    concurrency,
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

async function main(): Promise<void> {
  const modelsDir = await ensureExampleModels(join(root, 'examples'), silentLogger);
  const dir = join(modelsDir, MODEL);
  const request = readFileSync(join(dir, 'request.json'), 'utf8');
  const parsed = JSON.parse(request) as { inputs: { name: string; shape: number[]; datatype: string; data: number[] }[] };
  const first = parsed.inputs[0];
  if (first === undefined) throw new Error('request.json has no input');
  const features = first.shape[1] ?? 1;
  const oneRow = first.data.slice(0, features);
  const body = JSON.stringify({ inputs: [{ ...first, shape: [1, features], data: oneRow }] });

  const rows: Row[] = [];
  rows.push(await raw(join(dir, 'model.onnx'), Float32Array.from(oneRow), features));
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
  const server = await startChildServer(dataDir);
  try {
    await waitReady(server.url, MODEL);
    await served(server.url, body, 4); // warm-up, not reported
    for (const c of CONCURRENCY) rows.push(await served(server.url, body, c));
    rows.push(await served(server.url, undefined, 16));
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const rawRate = rows[0]?.reqPerSec ?? NaN;
  // autocannon records whole milliseconds; the raw loop measures with performance.now()
  const ms = (r: Row, v: number): string => (r.mode.startsWith('raw') ? v.toFixed(3) : v < 1 ? '<1' : v.toFixed(0));
  const table = [
    '| mode | concurrency | req/s | p50 ms | p99 ms | errors | served/raw |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.mode} | ${r.concurrency} | ${r.reqPerSec.toFixed(0)} | ${ms(r, r.p50Ms)} | ${ms(r, r.p99Ms)} | ${r.errors} | ${(r.reqPerSec / rawRate).toFixed(2)} |`),
  ].join('\n');
  const date = new Date().toISOString().slice(0, 10);
  const at16 = rows.find((r) => r.mode.startsWith('served') && r.concurrency === 16);
  const ceiling = rows.find((r) => r.mode.startsWith('HTTP only'));
  const reading =
    at16 !== undefined && ceiling !== undefined
      ? [
          `Reading: at 16 connections the served rate is ${(at16.reqPerSec / ceiling.reqPerSec).toFixed(2)} of the HTTP-only ceiling measured in the`,
          'same run. What bounds it: every request is parsed from JSON, validated, copied to a worker thread and back',
          '(one postMessage each way) and encoded to JSON again, one request per model run. Dynamic batching and the',
          'idle-replica dispatcher of issue [2 of 6] amortise the worker hop; the raw row shows how little of the time',
          'the model itself takes.',
          '',
        ]
      : [];
  const section = [
    `## Serving overhead: ${MODEL}, batch 1`,
    '',
    `Measured ${date} with \`npm run bench\` (BENCH_SECONDS=${SECONDS}) on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}.`,
    'Raw is onnxruntime-node `session.run` back to back in one process with one intra-op thread. Served is `slipway serve`',
    '(one replica, default config) in a child process, loaded by autocannon from this process over loopback with one',
    'row of OIP JSON per request. Both share the same 2 cores, so the served figures include the load generator\'s cost.',
    'autocannon records latency in whole milliseconds (`<1` is below one); the raw loop times each call with performance.now().',
    'The HTTP-only row is the same server answering its liveness route: the ceiling that HTTP handling alone sets on this machine.',
    '',
    table,
    '',
    ...reading,
  ].join('\n');
  console.log(table);
  const path = join(root, 'docs', 'benchmarks.md');
  writeFileSync(path, `# Benchmarks\n\nEvery figure here was produced by the command named with it; rerun it to refresh.\n\n${section}`);
  console.log(`\nwrote ${path}`);
}

await main();

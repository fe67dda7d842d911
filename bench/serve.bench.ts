/**
 * `npm run bench`: the data-plane benchmark of issue [2 of 6], every figure in one run on this machine.
 *  1. raw in-process throughput of each model (bench/raw.ts): one thread at batch 1, and all cores batched;
 *  2. the HTTP ceiling: a bare Fastify server answering a fixed JSON body (bench/ceiling-server.ts);
 *  3. the baseline "what a user would write instead" (bench/baseline/server.ts), one process per model;
 *  4. Slipway (`slipway serve` compiled from src/ into bench/out/dist) with batching off, then on, on the
 *     small model (breast-cancer), the heavy one (heavy-conv) and a no-op Identity model;
 *  5. time from creating an endpoint to its model being ready;
 *  6. RSS after 10 and after 1,000 deploy/undeploy cycles of a tiny model, after a forced GC.
 * Every server and every load generator (autocannon's CLI) runs in its own process; traffic stays
 * on 127.0.0.1. Each figure is the median of BENCH_RUNS runs (default 5) of BENCH_SECONDS (default 3).
 * BENCH_QUICK=1 does one run of 2 s and 50 cycles, for development (docs go to bench/out/ then).
 * Prints the tables and writes docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { ensureExampleModels } from '../src/app/examples.js';
import { createControlClient, type ControlClient } from '../src/control/client.js';
import { silentLogger } from '../src/core/index.js';
import { ensureSyntheticExamples } from '../src/examples/index.js';
import { buildModel } from '../src/onnx/builder.js';
import { writeSection } from './lib/sections.js';
import { buildSlipway, cpuBusy, oneRowBody } from './lib/slipway.js';
import { BENCH_ADMIN_KEY, benchAuthHeaders, forceGc, median, root, rssKiB, runLoad, sleep, spread, startServerProcess, type LoadResult, type ServerProcess } from './lib/harness.js';
import { renderReport, type MemoryReading, type RawFigure, type Report, type Series } from './lib/report.js';

const QUICK = process.env.BENCH_QUICK === '1';
const BENCHMARKS_HEADER = '# Benchmarks\n\nEach section below is written by the benchmark named in it (`npm run bench`, `npm run bench:rollout`, `npm run bench:monitoring`), from one run; rerunning one rewrites its own section only.\n';
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 5));
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 2 : 3));
const RAW_SECONDS = QUICK ? 1 : 1.5;
const CYCLES = Number(process.env.BENCH_CYCLES ?? (QUICK ? 50 : 1000));
/** Warm-up per server and model, at 64 connections: long enough for an autoscaler's panic window to act and its new replicas to load. */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? (QUICK ? 2 : 8));
const CONCURRENCY = [1, 16, 64, 256];
const OVERHEAD_CONCURRENCY = [1, 64];
const CORES = cpus().length;
const RAW_BATCH = 32;
const TSX = ['--import', 'tsx'];

interface BenchModel {
  readonly name: 'breast-cancer' | 'heavy-conv';
  readonly role: 'small' | 'heavy';
  readonly modelPath: string;
  readonly requestPath: string;
  /** A one-row OIP request body, written to a file for the load generator. */
  readonly bodyFile: string;
}

function series(runs: readonly LoadResult[]): Series {
  const rates = runs.map((r) => r.reqPerSec);
  return {
    runs,
    reqPerSec: median(rates),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    ...spread(rates),
  };
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** An Identity graph on [batch, 30] FP32: the no-op model that shows the serving stack's own cost. */
function identityModel(file: string): string {
  writeFileSync(
    file,
    buildModel({
      graph: {
        name: 'identity',
        inputs: [{ name: 'input', elemType: 'FLOAT', shape: ['batch', 30] }],
        outputs: [{ name: 'output', elemType: 'FLOAT', shape: ['batch', 30] }],
        nodes: [{ opType: 'Identity', inputs: ['input'], outputs: ['output'] }],
      },
    }),
  );
  return file;
}

// ---------------------------------------------------------------------------------------------
// 1. raw in-process throughput

interface RawRun {
  rows: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `processes` copies of bench/raw.ts over the same window; returns their summed rows/s and the first one's latencies. */
async function rawOnce(model: BenchModel, processes: number, batch: number, threads: number): Promise<{ rowsPerSec: number; p50Ms: number; p99Ms: number }> {
  const startAt = Date.now() + 1200;
  const runs = await Promise.all(
    Array.from({ length: processes }, async () => {
      const child = spawn(process.execPath, [...TSX, join(root, 'bench', 'raw.ts'), model.modelPath, model.requestPath, String(batch), String(threads), String(RAW_SECONDS), String(startAt)], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`raw.ts exited with ${code}`);
      return JSON.parse(out.trim()) as RawRun;
    }),
  );
  return {
    rowsPerSec: runs.reduce((a, r) => a + r.rows / r.seconds, 0),
    p50Ms: runs[0]?.p50Ms ?? NaN,
    p99Ms: runs[0]?.p99Ms ?? NaN,
  };
}

async function rawFigure(model: BenchModel, label: string, processes: number, batch: number, threads: number): Promise<RawFigure> {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await rawOnce(model, processes, batch, threads));
  const rates = runs.map((r) => r.rowsPerSec);
  log(`raw ${model.name} ${label}: ${median(rates).toFixed(0)} rows/s`);
  return { label, rowsPerSec: median(rates), ...spread(rates), p50Ms: median(runs.map((r) => r.p50Ms)), p99Ms: median(runs.map((r) => r.p99Ms)) };
}

// ---------------------------------------------------------------------------------------------
// load against a server

/** Warms `url` up for WARMUP_SECONDS at 64 connections (not reported), then runs `RUNS` rounds over `concurrencies`. */
async function measure(url: string, bodyFile: string, concurrencies: readonly number[], what: string): Promise<Map<number, Series>> {
  await runLoad(url, 64, WARMUP_SECONDS, bodyFile);
  const runs = new Map<number, LoadResult[]>(concurrencies.map((c) => [c, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const c of concurrencies) runs.get(c)?.push(await runLoad(url, c, SECONDS, bodyFile));
  }
  const out = new Map<number, Series>();
  for (const [c, r] of runs) {
    const s = series(r);
    out.set(c, s);
    log(`${what} c=${c}: ${s.reqPerSec.toFixed(0)} req/s, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, errors ${s.errors}`);
  }
  return out;
}

async function withServer<T>(start: () => Promise<ServerProcess>, body: (server: ServerProcess) => Promise<T>): Promise<T> {
  const server = await start();
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}


let slipwayEntry = '';

function startSlipway(dataDir: string, env: NodeJS.ProcessEnv, exposeGc = false): Promise<ServerProcess> {
  return startServerProcess([...(exposeGc ? ['--expose-gc'] : []), join(root, 'bench', 'slipway-main.mjs'), slipwayEntry, 'serve', '--port', '0', '--data-dir', dataDir], {
    SLIPWAY_LOG_LEVEL: 'warn',
    ...env,
  });
}

async function waitReady(url: string, endpoint: string, timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  // bounded by the timeout; polls every 2 ms so the figure's resolution stays small against load times
  for (let i = 0; i < timeoutMs / 2; i++) {
    const r = await fetch(`${url}/v2/models/${endpoint}/ready`, { headers: benchAuthHeaders() }).catch(() => undefined);
    await r?.arrayBuffer();
    if (r?.status === 200) return performance.now() - started;
    await sleep(2);
    if (performance.now() - started > timeoutMs) break;
  }
  throw new Error(`${endpoint} was not ready after ${timeoutMs} ms`);
}

/** Waits (bounded) until the endpoint's autoscaler has taken it to zero replicas and it is idle. */
async function waitScaledToZero(url: string, endpoint: string, timeoutMs = 120_000): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const r = await fetch(`${url}/api/v1/endpoints/${endpoint}/scaling`, { headers: benchAuthHeaders() });
    if (r.status !== 200) throw new Error(`GET /api/v1/endpoints/${endpoint}/scaling answered ${r.status}: ${await r.text()}`);
    const body = (await r.json()) as { scaling?: { status?: { appliedReplicas?: number; readyReplicas?: number } } };
    const status = body.scaling?.status;
    if (status?.appliedReplicas === 0 && status.readyReplicas === 0) return;
    await sleep(250);
  }
  throw new Error(`${endpoint} did not scale to zero within ${timeoutMs} ms`);
}

async function waitGone(url: string, endpoint: string): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    const r = await fetch(`${url}/v2/models/${endpoint}/ready`, { headers: benchAuthHeaders() }).catch(() => undefined);
    await r?.arrayBuffer();
    if (r?.status === 404) return;
    await sleep(2);
  }
  throw new Error(`${endpoint} was still there after deletion`);
}

async function pushAll(client: ControlClient, models: readonly { name: string; path: string }[]): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  for (const m of models) {
    const { version } = await client.pushVersion(m.name, m.path, { description: 'benchmark model' });
    versions.set(m.name, version.version);
  }
  return versions;
}

// ---------------------------------------------------------------------------------------------


async function main(): Promise<void> {
  const started = performance.now();
  const busyBefore = await cpuBusy(2000);
  if (busyBefore > 0.15) log(`warning: the machine was ${(busyBefore * 100).toFixed(0)} % busy before the run; figures will be lower`);
  const modelsDir = await ensureExampleModels(join(root, 'examples'), silentLogger);
  await ensureSyntheticExamples(modelsDir, ['heavy-conv']);
  log('compiling src/ into bench/out/dist');
  slipwayEntry = await buildSlipway(log);
  const tmp = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
  try {
    const models: BenchModel[] = (['breast-cancer', 'heavy-conv'] as const).map((name) => ({
      name,
      role: name === 'heavy-conv' ? 'heavy' : 'small',
      modelPath: join(modelsDir, name, 'model.onnx'),
      requestPath: join(modelsDir, name, 'request.json'),
      bodyFile: oneRowBody(join(modelsDir, name, 'request.json'), join(tmp, `${name}.json`)),
    }));
    const small = models[0] as BenchModel;
    const identityPath = identityModel(join(tmp, 'identity.onnx'));

    // 1. raw
    const raw = new Map<string, { single: RawFigure; allCore: RawFigure[] }>();
    for (const m of models) {
      const single = await rawFigure(m, '1 thread, batch 1', 1, 1, 1);
      const allCore = [
        await rawFigure(m, `${CORES} processes × 1 thread, batch 1`, CORES, 1, 1),
        await rawFigure(m, `${CORES} processes × 1 thread, batch ${RAW_BATCH}`, CORES, RAW_BATCH, 1),
        await rawFigure(m, `1 process × ${CORES} threads, batch ${RAW_BATCH}`, 1, RAW_BATCH, CORES),
      ];
      raw.set(m.name, { single, allCore });
    }

    // 2. HTTP ceiling
    log('HTTP ceiling (bare Fastify, fixed JSON body)');
    const ceiling = await withServer(
      () => startServerProcess([...TSX, join(root, 'bench', 'ceiling-server.ts')]),
      (s) => measure(`${s.url}/v2/models/ceiling/infer`, small.bodyFile, OVERHEAD_CONCURRENCY, 'ceiling'),
    );

    // 3. baseline
    const baseline = new Map<string, Map<number, Series>>();
    for (const m of models) {
      log(`baseline server: ${m.name}`);
      baseline.set(
        m.name,
        await withServer(
          () => startServerProcess([...TSX, join(root, 'bench', 'baseline', 'server.ts'), m.modelPath]),
          (s) => measure(`${s.url}/v2/models/${m.name}/infer`, m.bodyFile, CONCURRENCY, `baseline ${m.name}`),
        ),
      );
    }

    // 4. Slipway, batching off then on; 5. deploy → ready on the default (batching on) server
    const slipway = new Map<string, Map<string, Map<number, Series>>>();
    let identity = new Map<number, Series>();
    const deployMs = new Map<string, number[]>();
    for (const batching of ['off', 'on'] as const) {
      const dataDir = join(tmp, `data-${batching}`);
      log(`Slipway, batching ${batching}`);
      await withServer(
        () => startSlipway(dataDir, { SLIPWAY_SERVING_BATCHING_ENABLED: batching === 'on' ? 'true' : 'false' }),
        async (s) => {
          const client = createControlClient({ baseUrl: s.url, apiKey: BENCH_ADMIN_KEY });
          const all = [...models.map((m) => ({ name: m.name, path: m.modelPath })), { name: 'identity', path: identityPath }];
          const versions = await pushAll(client, all);
          for (const m of all) {
            await client.createEndpoint({ name: m.name, model: m.name, version: versions.get(m.name) ?? 1 });
            await waitReady(s.url, m.name);
          }
          const byModel = new Map<string, Map<number, Series>>();
          for (const m of models) byModel.set(m.name, await measure(`${s.url}/v2/models/${m.name}/infer`, m.bodyFile, CONCURRENCY, `slipway batching ${batching} ${m.name}`));
          slipway.set(batching, byModel);
          if (batching === 'on') {
            identity = await measure(`${s.url}/v2/models/identity/infer`, small.bodyFile, OVERHEAD_CONCURRENCY, 'slipway identity');
            for (const m of models) {
              const times: number[] = [];
              for (let i = 0; i < RUNS; i++) {
                const t = performance.now();
                await client.createEndpoint({ name: 'deploy-probe', model: m.name, version: versions.get(m.name) ?? 1 });
                await waitReady(s.url, 'deploy-probe');
                times.push(performance.now() - t);
                await client.deleteEndpoint('deploy-probe');
                await waitGone(s.url, 'deploy-probe');
              }
              deployMs.set(m.name, times);
              log(`deploy → ready ${m.name}: median ${median(times).toFixed(1)} ms`);
            }
          }
        },
      );
    }

    // 6. a request held through scale-from-zero: endpoints allowed to scale to zero after a short idle time
    log('scale from zero');
    const scaleFromZero = await withServer(
      () =>
        startSlipway(join(tmp, 'data-zero'), {
          SLIPWAY_SERVING_AUTOSCALING_MIN_REPLICAS: '0',
          SLIPWAY_SERVING_AUTOSCALING_STABLE_WINDOW_SECONDS: '6',
          SLIPWAY_SERVING_AUTOSCALING_PANIC_WINDOW_SECONDS: '6',
          SLIPWAY_SERVING_AUTOSCALING_SCALE_TO_ZERO_GRACE_PERIOD_SECONDS: '2',
          SLIPWAY_SERVING_AUTOSCALING_TICK_INTERVAL_MS: '250',
        }),
      async (s) => {
        const client = createControlClient({ baseUrl: s.url, apiKey: BENCH_ADMIN_KEY });
        const versions = await pushAll(client, models.map((m) => ({ name: m.name, path: m.modelPath })));
        const out = new Map<string, number[]>();
        for (const m of models) {
          await client.createEndpoint({ name: m.name, model: m.name, version: versions.get(m.name) ?? 1 });
          await waitReady(s.url, m.name);
          const body = readFileSync(m.bodyFile);
          const times: number[] = [];
          for (let i = 0; i < RUNS; i++) {
            await waitScaledToZero(s.url, m.name);
            const t = performance.now();
            const r = await fetch(`${s.url}/v2/models/${m.name}/infer`, { method: 'POST', headers: benchAuthHeaders({ 'content-type': 'application/json' }), body });
            await r.arrayBuffer();
            if (r.status !== 200) throw new Error(`scale-from-zero request to ${m.name} answered ${r.status}`);
            times.push(performance.now() - t);
          }
          out.set(m.name, times);
          log(`scale from zero ${m.name}: median ${median(times).toFixed(1)} ms`);
        }
        return out;
      },
    );

    // 7. memory across deploy/undeploy cycles
    log(`memory: ${CYCLES} deploy/undeploy cycles of the Identity model`);
    const memory = await withServer(
      () => startSlipway(join(tmp, 'data-memory'), {}, true),
      async (s) => {
        const client = createControlClient({ baseUrl: s.url, apiKey: BENCH_ADMIN_KEY });
        const versions = await pushAll(client, [{ name: 'identity', path: identityPath }]);
        const version = versions.get('identity') ?? 1;
        const startedAt = performance.now();
        const probe = async (): Promise<MemoryReading> => {
          await sleep(1000);
          const gc = await forceGc(s);
          await sleep(300);
          return { rssMiB: rssKiB(s.child.pid ?? -1) / 1024, ...gc };
        };
        let after10: MemoryReading = { rssMiB: NaN, gc: false, heapUsedMiB: NaN, externalMiB: NaN };
        for (let i = 1; i <= CYCLES; i++) {
          await client.createEndpoint({ name: 'mem-probe', model: 'identity', version });
          await waitReady(s.url, 'mem-probe');
          await client.deleteEndpoint('mem-probe');
          await waitGone(s.url, 'mem-probe');
          if (i === 10) after10 = await probe();
          if (i % 100 === 0) log(`  ${i} cycles, RSS ${(rssKiB(s.child.pid ?? -1) / 1024).toFixed(1)} MiB`);
        }
        const cycleMs = (performance.now() - startedAt) / CYCLES;
        const afterAll = await probe();
        return { cycles: CYCLES, after10, afterAll, cycleMs };
      },
    );

    const busyAfter = await cpuBusy(2000);
    const report: Report = {
      date: new Date().toISOString(),
      command: QUICK ? 'BENCH_QUICK=1 npm run bench' : 'npm run bench',
      machine: `${CORES} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform}`,
      runs: RUNS,
      seconds: SECONDS,
      rawSeconds: RAW_SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      concurrency: CONCURRENCY,
      models: models.map((m) => ({ name: m.name, role: m.role })),
      raw,
      ceiling,
      identity,
      baseline,
      slipway,
      deployMs,
      scaleFromZero,
      memory,
      minutes: (performance.now() - started) / 60_000,
      idleCheck: { busyBefore, busyAfter },
    };
    const { markdown, table } = renderReport(report);
    console.log(table);
    const outDir = QUICK ? join(root, 'bench', 'out') : join(root, 'docs');
    mkdirSync(outDir, { recursive: true });
    const path = join(outDir, 'benchmarks.md');
    if (!existsSync(path)) writeFileSync(path, BENCHMARKS_HEADER);
    // this benchmark owns its section; the rollout simulator (npm run bench:rollout) owns another
    writeSection(path, 'serving', markdown);
    console.log(`\nwrote ${path} (${report.minutes.toFixed(1)} min)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();

/**
 * `npm run bench:predeploy`: the benchmarks of issue [6 of 6].
 *
 * 1. Plans served. For each model and target, `slipway plan` measures the model on a Slipway server
 *    and recommends a configuration; a second server is started with exactly that configuration,
 *    the model deployed, and the target rate offered over HTTP for BENCH_SECONDS (15) as Poisson
 *    arrivals (bench/lib/open-loop.ts), as the plan offered it in-process.
 *    The table puts the plan's expected p99 (in-process) beside the p99 served over HTTP and says
 *    whether the target was met.
 * 2. Optimisation. A 784-512-512-10 MLP (seeded random weights) and heavy-conv are optimised through
 *    the API — dynamic int8, weight-only int8, structured pruning of half the hidden units — and the
 *    validation reports (both versions timed in turns, on the same synthetic inputs) give the size,
 *    latency and output deltas against the parent.
 *
 * Writes the `predeploy` section of docs/benchmarks.md. BENCH_QUICK=1 uses short budgets and writes
 * bench/out/benchmarks-predeploy.md instead.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureExampleModels } from '../src/app/examples.js';
import { createControlClient } from '../src/control/index.js';
import { silentLogger } from '../src/core/index.js';
import { ensureSyntheticExamples } from '../src/examples/index.js';
import { buildModel, type InitializerSpec } from '../src/onnx/index.js';
import type { PlanResult } from '../src/optimize/plan/index.js';
import type { Optimization } from '../src/optimize/index.js';
import { createSeededRandom } from '../src/stats/random.js';
import { createValidationClient } from '../src/validate/client.js';
import type { ValidationReport } from '../src/validate/index.js';
import { BENCH_ADMIN_KEY, benchAuthHeaders, root, sleep, startServerProcess, type ServerProcess } from './lib/harness.js';
import { openLoop, type OpenLoopResult } from './lib/open-loop.js';
import { writeSection } from './lib/sections.js';
import { buildSlipway, oneRowBody } from './lib/slipway.js';

const QUICK = process.env.BENCH_QUICK === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 5 : 15));
const PLAN_BUDGET = QUICK ? 20 : 60;
const log = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

interface PlanCase {
  readonly model: string;
  readonly file: string;
  readonly request: string;
  readonly rps: number;
  readonly p99Ms: number;
}

const PLAN_CASES: readonly PlanCase[] = [
  { model: 'breast-cancer', file: join(root, 'examples', 'models', 'breast-cancer', 'model.onnx'), request: join(root, 'examples', 'models', 'breast-cancer', 'request.json'), rps: 1500, p99Ms: 20 },
  { model: 'heavy-conv', file: join(root, 'examples', 'models', 'heavy-conv', 'model.onnx'), request: join(root, 'examples', 'models', 'heavy-conv', 'request.json'), rps: 200, p99Ms: 50 },
];

interface PlanRow {
  readonly c: PlanCase;
  readonly plan: PlanResult;
  readonly served: OpenLoopResult | null;
}

interface OptimizeRow {
  readonly model: string;
  readonly recipe: string;
  readonly report: ValidationReport;
  readonly optimization: Optimization;
}

async function startSlipway(entry: string, dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  return startServerProcess([join(root, 'bench', 'slipway-main.mjs'), entry, 'serve', '--port', '0', '--data-dir', dataDir], { SLIPWAY_LOG_LEVEL: 'warn', ...env });
}

async function waitReady(url: string, endpoint: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await fetch(`${url}/v2/models/${endpoint}/ready`);
    if (r.status === 200) return;
    await sleep(100);
  }
  throw new Error(`${endpoint} not ready after ${timeoutMs} ms`);
}

/** The environment variables of a plan's serving block (docs/configuration.md). */
function envOf(plan: PlanResult): Record<string, string> {
  const s = plan.recommendation?.config.serving;
  if (s === undefined) return {};
  return {
    SLIPWAY_SERVING_REPLICAS: String(s.replicas),
    SLIPWAY_SERVING_INTRA_OP_THREADS: String(s.intraOpThreads),
    SLIPWAY_SERVING_PLACEMENT: s.placement,
    SLIPWAY_SERVING_BATCHING_ENABLED: String(s.batching.enabled),
    ...(s.batching.maxBatchSize === undefined ? {} : { SLIPWAY_SERVING_BATCHING_MAX_BATCH_SIZE: String(s.batching.maxBatchSize) }),
    ...(s.batching.maxQueueDelayMicros === undefined ? {} : { SLIPWAY_SERVING_BATCHING_MAX_QUEUE_DELAY_MICROS: String(s.batching.maxQueueDelayMicros) }),
    SLIPWAY_SERVING_AUTOSCALING_ENABLED: 'false',
  };
}

async function planCase(entry: string, tmp: string, c: PlanCase): Promise<PlanRow> {
  const planner = await startSlipway(entry, join(tmp, `plan-${c.model}`));
  let plan: PlanResult;
  try {
    const client = createControlClient({ baseUrl: planner.url, apiKey: BENCH_ADMIN_KEY });
    const { version } = await client.pushVersion(c.model, c.file, { description: 'benchmark model' });
    const pre = createValidationClient({ baseUrl: planner.url, apiKey: BENCH_ADMIN_KEY });
    const started = (await pre.startPlan(c.model, version.version, { rps: c.rps, p99Ms: c.p99Ms, budgetSeconds: PLAN_BUDGET })).plan;
    for (;;) {
      const { plan: job } = await pre.plan(started.id);
      if (job.status === 'failed') throw new Error(`plan failed: ${job.error?.message}`);
      if (job.status === 'succeeded' && job.plan !== null) {
        plan = job.plan;
        break;
      }
      await sleep(500);
    }
  } finally {
    await planner.stop();
  }
  log(`${c.model}: ${plan.feasible ? `recommends ${plan.recommendation?.configuration.label}, expected p99 ${plan.recommendation?.expectedP99Ms.toFixed(2)} ms` : `infeasible: ${plan.reason}`}`);
  if (!plan.feasible || plan.recommendation === null) return { c, plan, served: null };
  // one instance of the recommended configuration serves its share of the target
  const perInstance = Math.ceil(plan.recommendation.perInstanceRps);
  const server = await startSlipway(entry, join(tmp, `serve-${c.model}`), envOf(plan));
  try {
    const client = createControlClient({ baseUrl: server.url, apiKey: BENCH_ADMIN_KEY });
    await client.pushVersion(c.model, c.file, { description: 'benchmark model' });
    await client.createEndpoint({ name: c.model, model: c.model, version: 1 });
    await waitReady(server.url, c.model);
    const body = readFileSync(oneRowBody(c.request, join(tmp, `${c.model}-body.json`)), 'utf8');
    const url = `${server.url}/v2/models/${c.model}/infer`;
    await openLoop(url, body, benchAuthHeaders(), perInstance, 2); // warm-up
    const served = await openLoop(url, body, benchAuthHeaders(), perInstance, SECONDS);
    log(`${c.model}: served ${served.achievedRps.toFixed(0)} req/s, p99 ${served.p99Ms.toFixed(2)} ms, ${served.errors} errors`);
    return { c, plan, served };
  } finally {
    await server.stop();
  }
}

/** A 784-512-512-10 MLP with seeded He-normal weights (the issue's measured model). */
function mlp(): Uint8Array {
  const random = createSeededRandom(784);
  const layer = (name: string, fanIn: number, fanOut: number): InitializerSpec[] => {
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = random.normal() * Math.sqrt(2 / fanIn);
    return [
      { name: `${name}_w`, elemType: 'FLOAT', dims: [fanIn, fanOut], values: w },
      { name: `${name}_b`, elemType: 'FLOAT', dims: [fanOut], values: new Float32Array(fanOut) },
    ];
  };
  return buildModel({
    graph: {
      name: 'mlp-784',
      inputs: [{ name: 'input', elemType: 'FLOAT', shape: ['batch', 784] }],
      outputs: [{ name: 'probabilities', elemType: 'FLOAT', shape: ['batch', 10] }],
      initializers: [...layer('l1', 784, 512), ...layer('l2', 512, 512), ...layer('l3', 512, 10)],
      nodes: [
        { opType: 'Gemm', inputs: ['input', 'l1_w', 'l1_b'], outputs: ['h1'] },
        { opType: 'Relu', inputs: ['h1'], outputs: ['a1'] },
        { opType: 'Gemm', inputs: ['a1', 'l2_w', 'l2_b'], outputs: ['h2'] },
        { opType: 'Relu', inputs: ['h2'], outputs: ['a2'] },
        { opType: 'Gemm', inputs: ['a2', 'l3_w', 'l3_b'], outputs: ['logits'] },
        { opType: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: { i: 1 } } },
      ],
    },
    opsets: [{ domain: '', version: 17 }],
  });
}

async function optimizeCases(entry: string, tmp: string): Promise<OptimizeRow[]> {
  const server = await startSlipway(entry, join(tmp, 'optimize'));
  const rows: OptimizeRow[] = [];
  try {
    const client = createControlClient({ baseUrl: server.url, apiKey: BENCH_ADMIN_KEY });
    const pre = createValidationClient({ baseUrl: server.url, apiKey: BENCH_ADMIN_KEY });
    const mlpFile = join(tmp, 'mlp-784.onnx');
    writeFileSync(mlpFile, mlp());
    await client.pushVersion('mlp-784', mlpFile, { description: 'benchmark MLP' });
    await client.pushVersion('heavy-conv', join(root, 'examples', 'models', 'heavy-conv', 'model.onnx'), { description: 'benchmark model' });
    // no labelled data: the gates judge outputs and speed against the parent, as for any model
    const recipes: { model: string; recipe: string; body: Parameters<typeof pre.optimize>[2] }[] = [
      { model: 'mlp-784', recipe: 'dynamic int8', body: { quantize: 'dynamic' } },
      { model: 'mlp-784', recipe: 'weight-only int8', body: { quantize: 'weight-int8' } },
      { model: 'mlp-784', recipe: 'prune 0.5 structured', body: { prune: 0.5, structured: true } },
      { model: 'mlp-784', recipe: 'prune 0.5 (magnitude)', body: { prune: 0.5 } },
      { model: 'heavy-conv', recipe: 'dynamic int8', body: { quantize: 'dynamic' } },
      { model: 'heavy-conv', recipe: 'weight-only int8', body: { quantize: 'weight-int8' } },
    ];
    const settings = { batchSizes: [1, 32], latencyRuns: QUICK ? 50 : 200, latencyBudgetMs: QUICK ? 500 : 2000 };
    for (const r of recipes) {
      const { optimization } = await pre.optimize(r.model, 1, { ...r.body, settings });
      for (;;) {
        const o = (await pre.optimization(optimization.id)).optimization;
        if (o.validation.status !== 'running') break;
        await sleep(300);
      }
      const report = (await pre.report(optimization.id)).report;
      rows.push({ model: r.model, recipe: r.recipe, report, optimization: (await pre.optimization(optimization.id)).optimization });
      log(`${r.model} ${r.recipe}: ${report.passed ? 'passed' : 'failed'}`);
    }
  } finally {
    await server.stop();
  }
  return rows;
}

/** What bounds a served p99 above the plan's: said beside the table whatever the run gave. */
const MISSED_NOTE =
  'What separates the two p99 columns: the plan times the model in-process, from a request\'s arrival to its answer (queueing, batching, the model), and counts as cores only the replicas\' threads. Served, each request also costs the main thread HTTP parsing, authentication, JSON decoding and encoding, the prediction record and the payload log, none of which the plan measures; and here the load generator runs on the same 2 cores as the server. Where a row says missed, compare its served p50 with its p99: a median far below the target and a p99 above it is a miss in the tail, and a target this close to the served tail needs the headroom raised (`--headroom 0.5`) or the plan run on the serving machine with its HTTP load in mind. Measuring through the server\'s own HTTP stack is the fix, and is not done.';

const f = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : Number(x.toPrecision(digits)).toString());

function markdown(plans: readonly PlanRow[], optimized: readonly OptimizeRow[], started: number): string {
  const planRows = plans.map(({ c, plan, served }) => {
    const r = plan.recommendation;
    const met = served === null ? '—' : served.p99Ms <= c.p99Ms && served.errors === 0 && served.achievedRps >= 0.95 * Math.ceil(r?.perInstanceRps ?? 0) ? 'met' : '**missed**';
    return `| ${c.model} | ${c.rps} req/s, p99 ≤ ${c.p99Ms} ms | ${r === null ? `infeasible: ${plan.reason ?? ''}` : `${r.configuration.label}; ${r.instances} instance${r.instances === 1 ? '' : 's'}, ${r.cores} core${r.cores === 1 ? '' : 's'}`} | ${f(r?.capacityRps, 4)} | ${f(r?.expectedP99Ms)} ms | ${served === null ? '—' : `${f(served.achievedRps, 4)} req/s, p50 ${f(served.p50Ms)} ms, p99 ${f(served.p99Ms)} ms, ${served.errors} errors`} | ${met} |`;
  });
  const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b === 0 ? '—' : `${f(a / b)}×`);
  const optRows = optimized.map(({ model, recipe, report }) => {
    const c = report.candidate.figures;
    const b = report.baseline?.figures ?? {};
    const interval = c['baseline.latency_ratio.batch_1.p50_lower'] === undefined ? '' : ` [${f(c['baseline.latency_ratio.batch_1.p50_lower'])}, ${f(c['baseline.latency_ratio.batch_1.p50_upper'])}]`;
    return `| ${model} | ${recipe} | ${ratio(c.size_bytes, b.size_bytes)} | ${ratio(c['latency.batch_1.p50_ms'], b['latency.batch_1.p50_ms'])}${interval} | ${ratio(c['latency.batch_32.p50_ms'], b['latency.batch_32.p50_ms'])} | ${f(report.comparison?.maxAbsDiff)} | ${report.comparison?.agreement === null || report.comparison?.agreement === undefined ? '—' : `${f(report.comparison.agreement * 100, 4)} %`} | ${report.passed ? 'passed' : `failed: ${(report.gates?.results ?? []).filter((g) => !g.passed).map((g) => g.check).join('; ')}`} |`;
  });
  return [
    '## Before deployment ([6 of 6])',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Command: \`${QUICK ? 'BENCH_QUICK=1 ' : ''}npm run bench:predeploy\` (${Math.round((Date.now() - started) / 1000)} s)`,
    `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}; load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' / ')}`,
    '',
    '### Does a plan meet its target when served?',
    '',
    `\`slipway plan\` measured each model on a Slipway server (budget ${PLAN_BUDGET} s); a second server was then started with exactly the recommended \`serving:\` block (autoscaling off), the model deployed, and one instance's share of the target rate was offered over HTTP as the plan offers it in-process: Poisson arrivals, open loop (latency from each request's scheduled arrival, so a backlog is charged), at most 64 connections, ${SECONDS} s of one-row requests after a 2 s warm-up, the load generator in its own process on the same 2 cores. The plan's expected p99 is in-process; the served p99 includes HTTP, JSON and authentication — the difference is what the plan's assumptions say it leaves out.`,
    '',
    '| model | target | recommended | measured capacity (req/s per instance) | expected p99 | served over HTTP | target |',
    '| --- | --- | --- | ---: | ---: | --- | --- |',
    ...planRows,
    '',
    MISSED_NOTE,
    '',
    '### Optimisation: new versions against their parents',
    '',
    'Each row is one `POST /api/v1/models/{model}/versions/1/optimize` without labelled data: the new version is validated against its parent with the default gates (99 % of labels unchanged where the model outputs scores; not shown to be more than 25 % slower at batch 1, i.e. the lower end of the 95 % paired-bootstrap interval of the p50 ratio ≤ 1.25; every edge case handled). Both versions are loaded together and timed in turns, so the ratios compare like with like; the batch-1 column gives the ratio with its interval; the output difference is the largest |Δ| of any probability on the same seeded batch.',
    '',
    '| model | rewrite | size | p50 latency, batch 1 | p50 latency, batch 32 | largest output difference | same argmax | gates |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...optRows,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  // a fresh clone has no example models yet: train them (and build heavy-conv) as npm start would
  const modelsDir = await ensureExampleModels(join(root, 'examples'), silentLogger);
  await ensureSyntheticExamples(modelsDir, ['heavy-conv']);
  const entry = await buildSlipway(log);
  const tmp = mkdtempSync(join(tmpdir(), 'slipway-bench-predeploy-'));
  try {
    const plans: PlanRow[] = [];
    for (const c of PLAN_CASES) plans.push(await planCase(entry, tmp, c));
    const optimized = await optimizeCases(entry, tmp);
    const md = markdown(plans, optimized, started);
    process.stdout.write(`${md}\n`);
    writeSection(QUICK ? join(root, 'bench', 'out', 'benchmarks-predeploy.md') : join(root, 'docs', 'benchmarks.md'), 'predeploy', md);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();

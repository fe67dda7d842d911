/**
 * The recording cost of monitoring: served throughput at concurrency 64 with monitoring on against
 * off, in one run. Both servers run the same compiled Slipway with the example models; the load is
 * one-row requests to breast-cancer (a small model, so the per-request cost of recording shows most).
 *
 * - on: the defaults — a prediction record for every request, the payload log's metadata for every
 *   request with bodies sampled at 1 %, a drift window fed by every request (breast-cancer has a
 *   reference profile), business CPU metering, alert evaluation with one rule, Prometheus counters.
 * - off: prediction records, payload log, business metering and alerts switched off, and no profile
 *   (so drift costs one map lookup). Prometheus counting stays: it is not optional.
 * - payload: off, with the payload log on — the recording the target's parenthesis names
 *   (metadata for every request, bodies sampled at 1 %) and nothing else;
 * - predictions, drift: off with the prediction record on, or with the profile (so the drift
 *   window): what each of the larger parts costs alone.
 *
 * The profile-based security checks (docs/security.md) are off in every mode: the input guards read
 * the same reference profile, so on would otherwise also pay a check (ranges and the outlier score,
 * three more answer parameters) that off, without a profile, never runs; and model-extraction
 * detection scales each caller's queries by the profile when there is one and by running statistics
 * when not, so its cost too would differ between on and off. They are security, not recording.
 *
 * The servers run side by side, each idle but for its turns. Each round gives every mode one
 * short turn, after a pause that lets the previous turn's background writes finish, in an order that
 * turns from round to round, so no mode always runs first; each figure is the median over rounds of
 * mode ÷ off of the same round. Turns of a round are seconds apart: this VM's speed wanders over
 * minutes by more than the 5 % measured (runs of 10 s on servers started one after another differed
 * by up to 30 % between rounds).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createControlClient } from '../../src/control/client.js';
import type { Tensor } from '../../src/core/index.js';
import type { PredictionTape } from '../../src/monitoring/predictions/tape.js';
import { medianInterval, type MedianInterval } from '../../src/stats/index.js';
import { BENCH_ADMIN_KEY, benchAuthHeaders, median, root, runLoad, sleep, spread, startServerProcess, type LoadResult, type ServerProcess } from '../lib/harness.js';
import { buildSlipway, cpuBusy, oneRowBody } from '../lib/slipway.js';

/** What one mode measured over the rounds. */
export interface ModeResult {
  /** One turn per round, in round order. */
  readonly runs: readonly LoadResult[];
  /** Each round's requests per second ÷ the off turn's of the same round. */
  readonly pairRatios: readonly number[];
  /** Their median. */
  readonly ratio: number;
  /** A 95 % confidence interval of that median (distribution-free, from the rounds' order statistics). */
  readonly ratioInterval: MedianInterval;
  /** The request thread's busy share during the turns (median), from /proc. */
  readonly threadBusy: number;
  /** CPU time of the whole server process (every thread) per request served, µs (median over the turns). */
  readonly cpuPerRequest: number;
  /** The request thread's young-generation collections (scavenges): pauses per 1,000 requests and pause time a request, µs (medians over the turns), from the server's own GC metric. */
  readonly scavenges: { readonly per1000: number; readonly pauseMicros: number };
}

export interface RecordingBenchReport {
  readonly concurrency: number;
  readonly seconds: number;
  readonly runs: number;
  readonly modes: Readonly<Record<Mode, ModeResult>>;
  /** 1 − the on mode's ratio: the share of throughput all of monitoring costs. */
  readonly cost: number;
  readonly targetCost: number;
  /** What the on server recorded (from its own counters), so the comparison is known to have recorded. */
  readonly recorded: { readonly payloadEntries: number; readonly bodiesSampled: number; readonly driftRows: number };
  readonly busyBefore: number;
  readonly pieces: RecordingPieces;
  readonly machine: { readonly cpus: number; readonly model: string; readonly loadBefore: readonly number[] };
}

const ENDPOINT = 'breast-cancer';

/** The pause before each timed turn, ms: longer than the prediction recorder's and payload log's flush interval (1 s). */
const SETTLE_MS = 1500;

/** Every mode: the profile-based security checks off (input guards, extraction detection), so that on and off differ by monitoring only. */
const SECURITY_CHECKS_OFF: NodeJS.ProcessEnv = { SLIPWAY_SECURITY_INPUT_GUARDS_RANGES: 'off', SLIPWAY_SECURITY_INPUT_GUARDS_OUTLIER_ENABLED: 'false', SLIPWAY_SECURITY_ABUSE_ENABLED: 'false' };

const OFF_ENV: NodeJS.ProcessEnv = {
  SLIPWAY_MONITORING_PREDICTIONS_ENABLED: 'false',
  SLIPWAY_MONITORING_PAYLOAD_LOG_ENABLED: 'false',
  SLIPWAY_MONITORING_BUSINESS_ENABLED: 'false',
  SLIPWAY_MONITORING_ALERTS_ENABLED: 'false',
};

/** For finding what costs what: extra settings of the on server, as JSON (BENCH_ON_ENV='{"SLIPWAY_MONITORING_PAYLOAD_LOG_ENABLED":"false"}'). */
const ON_ENV: NodeJS.ProcessEnv = JSON.parse(process.env.BENCH_ON_ENV ?? '{}') as NodeJS.ProcessEnv;

/**
 * The servers compared. Off and on are the target's comparison; the others switch on one part of
 * monitoring each, to show what each part costs.
 */
const MODES = ['off', 'payload', 'predictions', 'drift', 'on'] as const;
type Mode = (typeof MODES)[number];

interface ModeSetup {
  readonly env: NodeJS.ProcessEnv;
  /** Whether the server's data directory gets breast-cancer's reference profile (which starts a drift window). */
  readonly profile: boolean;
  /** Whether it gets an alert rule. */
  readonly rule: boolean;
  readonly label: string;
}

const SETUPS: Readonly<Record<Mode, ModeSetup>> = {
  off: { env: OFF_ENV, profile: false, rule: false, label: 'off' },
  // the recording the target's parenthesis names: metadata of every request, bodies sampled at 1 %
  payload: { env: { ...OFF_ENV, SLIPWAY_MONITORING_PAYLOAD_LOG_ENABLED: 'true' }, profile: false, rule: false, label: 'payload log only' },
  predictions: { env: { ...OFF_ENV, SLIPWAY_MONITORING_PREDICTIONS_ENABLED: 'true' }, profile: false, rule: false, label: 'prediction record only' },
  drift: { env: OFF_ENV, profile: true, rule: false, label: 'drift window only' },
  on: { env: ON_ENV, profile: true, rule: true, label: 'on (all monitoring)' },
};

async function ready(url: string): Promise<void> {
  // bounded: 60 s at 50 ms
  for (let i = 0; i < 1200; i++) {
    const r = await fetch(`${url}/v2/models/${ENDPOINT}/ready`, { headers: benchAuthHeaders() }).catch(() => undefined);
    await r?.arrayBuffer();
    if (r?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${ENDPOINT} did not become ready at ${url}`);
}

/** GETs `path` with the bench key; throws on an answer other than 200, so a refusal is not read as zero recorded. */
async function get(url: string, path: string): Promise<Response> {
  const r = await fetch(`${url}${path}`, { headers: benchAuthHeaders() });
  if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}: ${await r.text()}`);
  return r;
}

/** Reads a Prometheus sample's value (first series whose line starts with `prefix`). */
function sample(text: string, prefix: string): number {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

export async function runRecordingBench(options: { readonly runs: number; readonly seconds: number; readonly warmupSeconds: number; readonly log: (m: string) => void }): Promise<RecordingBenchReport> {
  const { log } = options;
  const loadBefore = loadavg().map((x) => Number(x.toFixed(2)));
  const busyBefore = await cpuBusy(2000);
  log('compiling src/ into bench/out/dist');
  const entry = await buildSlipway(log);
  const tmp = mkdtempSync(join(tmpdir(), 'slipway-bench-recording-'));
  const body = oneRowBody(join(root, 'examples', 'models', ENDPOINT, 'request.json'), join(tmp, 'body.json'));
  const start = (name: string, env: NodeJS.ProcessEnv): Promise<ServerProcess> =>
    // The autoscaler off on all: a replica added in one run and not another would swamp the difference
    // measured. The placement pinned to what `auto` picks for this model (the request thread): `auto`
    // decides by timing the model at its start, so a slow moment on this VM at one server's start
    // could put its model in a worker thread, a thread hop per request more than the others.
    startServerProcess([join(root, 'bench', 'slipway-main.mjs'), entry, 'serve', '--port', '0', '--data-dir', join(tmp, name)], {
      SLIPWAY_LOG_LEVEL: 'warn',
      SLIPWAY_SERVING_AUTOSCALING_ENABLED: 'false',
      SLIPWAY_SERVING_PLACEMENT: 'main-thread',
      ...SECURITY_CHECKS_OFF,
      ...env,
    });
  const deploy = async (url: string, setup: ModeSetup): Promise<void> => {
    const client = createControlClient({ baseUrl: url, apiKey: BENCH_ADMIN_KEY });
    await client.pushVersion(ENDPOINT, join(root, 'examples', 'models', ENDPOINT, 'model.onnx'), { description: 'benchmark model' });
    await client.createEndpoint({ name: ENDPOINT, model: ENDPOINT, version: 1 });
    await ready(url);
    if (setup.profile) {
      const csv = readFileSync(join(root, 'examples', 'models', ENDPOINT, 'reference.csv'), 'utf8');
      const r = await fetch(`${url}/api/v1/models/${ENDPOINT}/versions/1/profile?target=target&source=reference.csv`, { method: 'PUT', headers: benchAuthHeaders({ 'content-type': 'text/csv' }), body: csv });
      if (r.status !== 200) throw new Error(`profile: ${r.status} ${await r.text()}`);
    }
    if (setup.rule) {
      const rule = { metric: 'slipway_errors_total', reduce: 'ratio', denominator: 'slipway_requests_total', by: ['endpoint'], window: '1m', op: '>', threshold: 0.05, minSamples: 100 };
      const put = await fetch(`${url}/api/v1/alerts/rules/error-ratio`, { method: 'PUT', headers: benchAuthHeaders({ 'content-type': 'application/json' }), body: JSON.stringify(rule) });
      if (put.status >= 300) throw new Error(`alert rule: ${put.status} ${await put.text()}`);
    }
  };
  const results = Object.fromEntries(MODES.map((m) => [m, { runs: [] as LoadResult[], busy: [] as number[], cpu: [] as number[], scavenges: [] as number[], pauses: [] as number[] }])) as Record<
    Mode,
    { runs: LoadResult[]; busy: number[]; cpu: number[]; scavenges: number[]; pauses: number[] }
  >;
  let recorded = { payloadEntries: 0, bodiesSampled: 0, driftRows: 0 };
  // All serve at once, idle but for the mode whose turn it is: short turns, many rounds, so the modes
  // compared are seconds apart (this VM's speed wanders over minutes, by more than the target).
  const servers = new Map<Mode, ServerProcess>();
  try {
    for (const mode of MODES) {
      // each mode has its data directory: the same model and endpoint, a profile and a rule where its setup says
      const server = await start(mode, SETUPS[mode].env);
      servers.set(mode, server);
      await deploy(server.url, SETUPS[mode]);
    }
    const urlOf = (mode: Mode): string => `${(servers.get(mode) as ServerProcess).url}/v2/models/${ENDPOINT}/infer`;
    for (const mode of MODES) await runLoad(urlOf(mode), 64, options.warmupSeconds, body);
    for (let i = 0; i < options.runs; i++) {
      // the order turns each round (off, payload, …, on; then payload, …, on, off; …), so no mode always runs first or last
      for (const mode of MODES.map((_, k) => MODES[(k + i) % MODES.length] as Mode)) {
        // a pause first: what the previous turn left to do in the background (a batch of prediction
        // records, the payload log's last write) is done before this one is timed
        await sleep(SETTLE_MS);
        const server = servers.get(mode) as ServerProcess;
        const pid = server.child.pid as number;
        // read outside the timed span: a scrape's own work is not charged to the turn
        const gcBefore = await scavengeTotals(server.url);
        const ticksBefore = cpuTicks(pid);
        const processBefore = cpuTicks(pid, 'process');
        const startedAt = performance.now();
        const result = await runLoad(urlOf(mode), 64, options.seconds, body);
        // the request thread's busy share over the run: CPU ticks are 1/100 s
        const busy = ((cpuTicks(pid) - ticksBefore) * 10) / (performance.now() - startedAt);
        const cpu = ((cpuTicks(pid, 'process') - processBefore) * 10_000) / (result.reqPerSec * options.seconds);
        const gcAfter = await scavengeTotals(server.url);
        const requests = result.reqPerSec * options.seconds;
        results[mode].scavenges.push(((gcAfter.count - gcBefore.count) * 1000) / requests);
        results[mode].pauses.push(((gcAfter.seconds - gcBefore.seconds) * 1e6) / requests);
        results[mode].runs.push(result);
        results[mode].busy.push(busy);
        results[mode].cpu.push(cpu);
        log(`${mode} run ${i + 1}: ${Math.round(result.reqPerSec)} req/s, p99 ${result.p99Ms} ms, ${result.errors} errors, request thread ${(busy * 100).toFixed(0)} % busy, ${cpu.toFixed(0)} µs of CPU a request`);
      }
    }
    const onUrl = (servers.get('on') as ServerProcess).url;
    const metrics = await (await get(onUrl, '/metrics')).text();
    const stats = (await (await get(onUrl, '/api/v1/payloads/stats')).json()) as { stats: { recorded: number; bodiesSampled: number } };
    const drift = (await (await get(onUrl, `/api/v1/endpoints/${ENDPOINT}/drift`)).json()) as { drift?: { current: { window: { rows: number } } } };
    recorded = {
      payloadEntries: stats.stats.recorded,
      bodiesSampled: stats.stats.bodiesSampled,
      driftRows: drift.drift?.current.window.rows ?? sample(metrics, 'slipway_drift_window_rows'),
    };
  } finally {
    for (const server of servers.values()) await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  // turns of one round share the machine's state (this VM's speed wanders between rounds)
  const offRuns = results.off.runs;
  const resultOf = (mode: Mode): ModeResult => {
    const { runs, busy, cpu, scavenges, pauses } = results[mode];
    const pairRatios = runs.map((r, i) => r.reqPerSec / (offRuns[i]?.reqPerSec ?? NaN));
    const finite = pairRatios.filter((x) => Number.isFinite(x));
    const ratioInterval: MedianInterval = finite.length === 0 ? { lower: NaN, upper: NaN, coverage: NaN } : medianInterval(finite);
    return { runs, pairRatios, ratio: median(pairRatios), ratioInterval, threadBusy: median(busy), cpuPerRequest: median(cpu), scavenges: { per1000: median(scavenges), pauseMicros: median(pauses) } };
  };
  const modes = Object.fromEntries(MODES.map((m) => [m, resultOf(m)])) as Record<Mode, ModeResult>;
  const pieces = await measureRecordingPieces();
  return {
    concurrency: 64,
    pieces,
    seconds: options.seconds,
    runs: options.runs,
    modes,
    cost: 1 - modes.on.ratio,
    targetCost: 0.05,
    recorded,
    busyBefore,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadBefore },
  };
}

/** The request thread's scavenges so far and their pause time, s: prom-client's GC histogram (kind minor) on the server's /metrics. */
async function scavengeTotals(url: string): Promise<{ readonly count: number; readonly seconds: number }> {
  const text = await (await get(url, '/metrics')).text();
  return { count: sample(text, 'slipway_nodejs_gc_duration_seconds_count{kind="minor"}'), seconds: sample(text, 'slipway_nodejs_gc_duration_seconds_sum{kind="minor"}') };
}

/** CPU ticks (1/100 s) the process's main thread — the request thread — or the whole process has used, from /proc (Linux); NaN elsewhere. */
function cpuTicks(pid: number, of: 'request thread' | 'process' = 'request thread'): number {
  try {
    const stat = readFileSync(of === 'process' ? `/proc/${pid}/stat` : `/proc/${pid}/task/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return NaN;
  }
}

/** A share as the section prints it: `9.1 %`. */
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** What each part of monitoring does per request, for naming the largest. */
const PART_WORK: Readonly<Record<'predictions' | 'payload' | 'drift', string>> = {
  predictions: 'one SQLite row with three B-trees, and its outputs summary, per prediction',
  payload: "one JSONL line per request, made from its capture and encoded into the log's buffer on the request thread",
  drift: "each row's features added to the window's histograms, moments and sample on the request thread",
};

/** The section's markdown for the recording cost. */
export function renderRecordingBench(r: RecordingBenchReport, driftRowMicros?: number): string {
  const rate = (runs: readonly LoadResult[]): string => {
    const s = spread(runs.map((x) => x.reqPerSec));
    return `${Math.round(median(runs.map((x) => x.reqPerSec))).toLocaleString('en-US')} req/s (runs ${Math.round(s.min).toLocaleString('en-US')}–${Math.round(s.max).toLocaleString('en-US')}), p99 ${median(runs.map((x) => x.p99Ms))} ms, ${runs.reduce((a, x) => a + x.errors, 0)} errors`;
  };
  const { off, payload, on } = r.modes;
  const offCpu = off.cpuPerRequest;
  return [
    '### Recording cost',
    '',
    `One-row requests to breast-cancer at concurrency ${r.concurrency} (autocannon). The ${MODES.length} servers run side by side, idle but for the one whose turn it is: after a warm-up of each, ${r.runs} rounds of one ${r.seconds} s turn per mode, each turn after a ${SETTLE_MS / 1000} s pause (so the previous turn's background writes are done), the modes in an order that turns each round, each compared with the off turn of its round: turns seconds apart, because this VM's speed wanders over minutes by more than the target. **On**: prediction record, payload log metadata of every request with bodies sampled at 1 %, a drift window with a reference profile, business CPU metering, one alert rule. **Off**: all of those switched off and no profile; Prometheus counting stays. In between, one part each: **payload log only** (metadata of every request, bodies sampled at 1 %: the recording the target's parenthesis names), **prediction record only**, **drift window only** (the profile, nothing else recorded). The profile-based security checks (input guards and model-extraction detection, whose cost depends on whether a profile exists) are off in every mode, so that the modes differ by monitoring only. All with one replica on the request thread (the autoscaler off, and the placement pinned to \`main-thread\`, which \`auto\` picks for this model, so that no server differs from the others by a timing taken at its start). Machine ${pct(r.busyBefore)} busy before the run.`,
    '',
    '| monitoring | throughput (median) | cost (median of rounds of 1 − mode ÷ off, 95 % interval) | server CPU per request (all threads, median) | request thread\'s scavenges per 1,000 requests, pause a request (median) |',
    '| --- | --- | ---: | ---: | ---: |',
    ...MODES.map((mode) => {
      const m = r.modes[mode];
      const cpu = `${m.cpuPerRequest.toFixed(0)} µs${mode === 'off' ? '' : ` (${m.cpuPerRequest >= offCpu ? '+' : '−'}${Math.abs(m.cpuPerRequest - offCpu).toFixed(0)})`}`;
      return `| ${SETUPS[mode].label} | ${rate(m.runs)} | ${mode === 'off' ? '—' : `${pct(1 - m.ratio)} (${costRange(m)})`} | ${cpu} | ${m.scavenges.per1000.toFixed(1)}, ${m.scavenges.pauseMicros.toFixed(1)} µs |`;
    }),
    '',
    `All of monitoring costs **${pct(r.cost)}** of served throughput (on ÷ off, median of the ${on.pairRatios.length} rounds = ${on.ratio.toFixed(3)}; rounds ${on.pairRatios.map((x) => x.toFixed(3)).join(', ')}); target ≤ ${pct(r.targetCost)}: **${r.cost <= r.targetCost ? 'met' : 'missed'}**. ${settles(on, r.targetCost)} The payload log alone costs **${pct(1 - payload.ratio)}** (payload ÷ off = ${payload.ratio.toFixed(3)}; rounds ${payload.pairRatios.map((x) => x.toFixed(3)).join(', ')}): **${1 - payload.ratio <= r.targetCost ? 'within' : 'over'}** the target${offSpread(r) > Math.abs(1 - payload.ratio) ? `, and within this machine's run-to-run noise (the off turns alone spread by ${pct(offSpread(r))})` : ''}. Over its turns the on server recorded ${r.recorded.payloadEntries.toLocaleString('en-US')} payload entries (${r.recorded.bodiesSampled.toLocaleString('en-US')} with bodies) and ${r.recorded.driftRows.toLocaleString('en-US')} rows in the drift window.`,
    '',
    boundText(r, driftRowMicros),
  ].join('\n');
}

/** A mode's cost interval: 1 − its ratio's interval, as text with its coverage; undefined with too few rounds for one. */
function costInterval(m: ModeResult): { readonly low: number; readonly high: number; readonly text: string } | undefined {
  const { lower, upper, coverage } = m.ratioInterval;
  if (!Number.isFinite(lower) || !Number.isFinite(upper)) return undefined;
  return { low: 1 - upper, high: 1 - lower, text: `${pct(1 - upper)} to ${pct(1 - lower)}, coverage ${(coverage * 100).toFixed(1)} %` };
}

/** A mode's cost interval as the table prints it. */
function costRange(m: ModeResult): string {
  return costInterval(m)?.text ?? 'too few rounds for an interval';
}

/** Whether the rounds settle the target: the cost's interval wholly within it, wholly over it, or across it. */
function settles(m: ModeResult, target: number): string {
  const ci = costInterval(m);
  if (ci === undefined) return 'Too few rounds to say how sure that is.';
  const said = `The confidence interval of the median, from the rounds' order statistics (Conover, §3.2), is ${ci.text}`;
  if (ci.high <= target) return `${said}: wholly within the target.`;
  if (ci.low > target) return `${said}: wholly over the target.`;
  return `${said}; it takes in the target: this run does not settle it either way.`;
}

/** How far apart the off turns are, as a share of their median. */
function offSpread(r: RecordingBenchReport): number {
  const rates = r.modes.off.runs.map((x) => x.reqPerSec);
  const { min, max } = spread(rates);
  return (max - min) / median(rates);
}

/** Per-record CPU of the pieces recording adds to a request, measured in-process on this machine. */
export interface RecordingPieces {
  /** One prediction record encoded (outputs summary as JSON) and written to SQLite in batches of 1,000, as the store's writer thread does, µs of that thread, not the request thread. */
  readonly sqliteRecordMicros: number;
  /** One prediction appended to a tape and handed to the writer thread (batches of 1,000), µs of the request thread. */
  readonly handoffRecordMicros: number;
  /** One payload log entry (metadata only) taken, encoded and appended to its segment, µs. */
  readonly payloadEntryMicros: number;
}

/** Measures {@link RecordingPieces} with the product's own store and log, in a temporary directory. */
export async function measureRecordingPieces(): Promise<RecordingPieces> {
  const { openSqliteDatabase } = await import('../../src/storage/sqlite/database.js');
  const { createSqliteMonitoringStore, startStoreThread } = await import('../../src/storage/index.js');
  const { prepareMonitoringOps } = await import('../../src/storage/sqlite/monitoring-ops.js');
  const { createTapeWriter } = await import('../../src/monitoring/predictions/tape.js');
  const { compilePayloadLogOptions, openPayloadLog } = await import('../../src/monitoring/payload-log/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-pieces-'));
  const cpuMicros = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  try {
    const db = openSqliteDatabase(join(dir, 'db.sqlite'));
    createSqliteMonitoringStore({ db });
    const N = 50_000;
    let k = 0;
    // breast-cancer's answer to one row: a label and two class probabilities (which vary, as they do live)
    const answer = (): Tensor[] => [
      { name: 'label', datatype: 'INT64', shape: [1], data: new BigInt64Array([1n]) },
      { name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: new Float32Array([0.07 + (k % 97) / 1000, 0.93 - (k % 97) / 1000]) },
    ];
    const tapeOf = (): PredictionTape => {
      const tape = createTapeWriter();
      for (let j = 0; j < 1000; j++) tape.add({ requestId: `01BENCH${(k++).toString(36).padStart(12, '0')}`, endpoint: ENDPOINT, model: ENDPOINT, version: 1, variant: 'stable', latencyMs: 1.2, status: 200, outputs: answer() }, Date.now());
      return tape.seal();
    };
    // what the writer thread does with each tape (src/storage/sqlite/store-thread-worker.ts, on a
    // connection like this one): encode, then insert in one transaction
    db.pragma('ignore_check_constraints = ON');
    const ops = prepareMonitoringOps(db);
    const write = (tape: PredictionTape): void => {
      ops.insertTape(tape);
    };
    write(tapeOf()); // warm
    let writerCpu = 0;
    for (let i = 0; i < N / 1000; i++) {
      const tape = tapeOf();
      const t0 = cpuMicros();
      write(tape);
      writerCpu += cpuMicros() - t0;
    }
    const sqliteRecordMicros = writerCpu / N;

    // the request thread's share with the writer thread: each answer appended to a tape (primitives and
    // raw outputs), then the tape handed over (the synchronous part of insertTape: a copy kept, a post)
    const outputTensors = answer();
    db.pragma('ignore_check_constraints = OFF');
    const writer = await startStoreThread({ path: join(dir, 'db.sqlite'), role: 'writer' });
    const store = createSqliteMonitoringStore({ db, writer });
    const tapes = createTapeWriter();
    let handoff = 0;
    for (let i = 0; i < N / 1000; i++) {
      const start = performance.now();
      for (let j = 0; j < 1000; j++) tapes.add({ requestId: `01BENCH${(k++).toString(36).padStart(12, '0')}`, endpoint: ENDPOINT, model: ENDPOINT, version: 1, variant: 'stable', latencyMs: 1.2, status: 200, outputs: outputTensors }, Date.now());
      const done = store.insertTape?.(tapes.seal());
      handoff += performance.now() - start;
      await done;
    }
    const handoffRecordMicros = (handoff * 1000) / N;
    await writer.close();
    db.close();

    const log = await openPayloadLog({ dir: join(dir, 'payloads'), config: compilePayloadLogOptions({ bodies: { sampleRate: 0 } }), random: () => 1 });
    const t0 = cpuMicros();
    for (let i = 0; i < N; i++) {
      log.record({ requestId: `01BENCH${i}`, endpoint: ENDPOINT, model: ENDPOINT, version: 1, variant: 'stable', latencyMs: 1.2, status: 200, method: 'POST', path: `/v2/models/${ENDPOINT}/infer` });
      if (i % 1000 === 999) await log.flush();
    }
    await log.flush();
    const payloadEntryMicros = (cpuMicros() - t0) / N;
    await log.close();
    return { sqliteRecordMicros, handoffRecordMicros, payloadEntryMicros };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What bounds the figure: the request thread's time a request may cost for 5 %, against what each piece costs alone. */
function boundText(r: RecordingBenchReport, driftRowMicros: number | undefined): string {
  const offRate = median(r.modes.off.runs.map((x) => x.reqPerSec));
  const parts = [
    `a prediction appended to a tape and handed to the writer thread ${r.pieces.handoffRecordMicros.toFixed(1)} µs (its outputs summary and SQLite write, ${r.pieces.sqliteRecordMicros.toFixed(1)} µs, run on that thread)`,
    `a payload log entry encoded and appended ${r.pieces.payloadEntryMicros.toFixed(1)} µs`,
  ];
  if (driftRowMicros !== undefined) parts.push(`a row added to a 30-feature drift window ${driftRowMicros.toFixed(1)} µs`);
  const sum = r.pieces.handoffRecordMicros + r.pieces.payloadEntryMicros + (driftRowMicros ?? 0);
  const offRates = r.modes.off.runs.map((x) => x.reqPerSec);
  const { min, max } = spread(offRates);
  const steady = (max - min) / offRate <= 0.25;
  const caveat = steady ? '' : `**The machine's speed wandered during this run** (off turns ${Math.round(min).toLocaleString('en-US')}–${Math.round(max).toLocaleString('en-US')} req/s, more than 25 % apart): the figure above is not reliable; rerun on a quiet machine. `;
  if (r.cost <= r.targetCost) return `${caveat}Within the target. Measured alone in this run (CPU time per item): ${parts.join('; ')}.`;
  const busy = (x: number): string => `${(x * 100).toFixed(0)} %`;
  const { off, on } = r.modes;
  const extra = on.cpuPerRequest - off.cpuPerRequest;
  const signed = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(0)} µs`;
  const served = (['predictions', 'payload', 'drift'] as const).map((m) => ({ m, extra: r.modes[m].cpuPerRequest - off.cpuPerRequest }));
  const servedText = `${served.map(({ m, extra: x }) => `${SETUPS[m].label.replace(' only', '')} ${signed(x)}`).join(', ')} of CPU a request against off`;
  const largest = served.reduce((a, b) => (b.extra > a.extra ? b : a));
  const all = sum + r.pieces.sqliteRecordMicros;
  return `${caveat}What bounds it: CPU, on every thread. The server used ${off.cpuPerRequest.toFixed(0)} µs of CPU per request with monitoring off and ${on.cpuPerRequest.toFixed(0)} µs with all of it (all threads, medians over the turns, from /proc): ${extra.toFixed(0)} µs more, ${pct(extra / off.cpuPerRequest)}. This machine has ${r.machine.cpus} cores shared by the request thread (which also runs the model; ${busy(off.threadBusy)} busy off, ${busy(on.threadBusy)} on), the store's writer thread, the garbage collector's threads and the load generator, so CPU spent on any thread is throughput lost: ${pct(r.targetCost)} of the off server's CPU is ${(off.cpuPerRequest * r.targetCost).toFixed(1)} µs a request. Measured alone in this run (the product's own code, CPU per item): ${parts.join('; ')} — ${all.toFixed(1)} µs together. Served, a part's cost also takes in the hooks that feed it, system calls and the garbage collector's threads (which every isolate shares), and this machine's noise: ${servedText}. The request thread's own young-generation collections (the table's last column) paused it ${off.scavenges.pauseMicros.toFixed(1)} µs a request off (${off.scavenges.per1000.toFixed(1)} per 1,000 requests) and ${on.scavenges.pauseMicros.toFixed(1)} µs on (${on.scavenges.per1000.toFixed(1)}): each scavenge copies what the 64 requests in flight hold, so every allocation recording adds brings the next one sooner, and the collector's helper threads work alongside. The largest in this run is the ${SETUPS[largest.m].label.replace(' only', '')}: ${PART_WORK[largest.m]}. The share falls in proportion as a model's own cost grows: this one (a 30-feature logistic regression) costs microseconds.`;
}
/**
 * The terminal rendering of a capacity plan: the recommendation, the configuration to paste, the
 * alternatives and why each lost, the measurements behind them, and the assumptions. Plain strings,
 * tables laid out by the same function as the CLI's (src/core/text-table.ts).
 */
import { stringify } from 'yaml';
import { renderTable } from '../../core/text-table.js';
import { failureOf } from './recommend.js';
import type { PlanResult } from './types.js';

/** The CLI's table layout (src/core/text-table.ts), so a plan reads like the rest of the output. */
export const planTable = renderTable;

/** A number with `digits` decimals, or `—` when there is none. */
function num(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n.toFixed(digits);
}

/** A rate: whole numbers from 100 up, one decimal below. */
function rate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n >= 100 ? Math.round(n).toString() : n.toFixed(1);
}

function mib(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? '—' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function percent(share: number | null | undefined): string {
  return share === null || share === undefined ? '—' : `${Math.round(share * 100)} %`;
}

/** A cost: enough significant digits to tell small amounts apart. */
function money(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n >= 100 ? n.toFixed(0) : n.toPrecision(3);
}

function indent(text: string, by = '  '): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `${by}${l}`.trimEnd())
    .join('\n');
}

function fields(pairs: readonly (readonly [string, string | undefined])[]): string {
  const shown = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`.trimEnd()).join('\n');
}

/** Renders a plan for a terminal: every figure the JSON holds that a person needs to trust it. */
export function formatPlan(result: PlanResult): string {
  const { target, measurements: m } = result;
  const out: string[] = [];
  out.push(`Capacity plan for ${result.label}: ${rate(target.rps)} req/s at p99 ≤ ${num(target.p99Ms, 2)} ms, headroom ${percent(target.headroom)}`);
  out.push(`Measured on ${m.machine.cores} cores (${m.machine.cpuModel}) in ${num(m.seconds, 1)} s; latencies in-process, without HTTP.`);
  out.push('');

  const r = result.recommendation;
  if (r === null) {
    out.push(`No configuration meets the target: ${result.reason ?? 'no reason recorded'}.`);
    out.push(`Best p99 measured: ${result.bestAchievableP99Ms === null ? '—' : `${num(result.bestAchievableP99Ms, 2)} ms`}.`);
  } else {
    const cur = target.currency;
    out.push('Recommendation');
    out.push(
      fields([
        ['configuration', `${r.configuration.label} (${r.configuration.id})`],
        ['instances', `${r.instances} machine${r.instances === 1 ? '' : 's'} like this one, ${rate(r.perInstanceRps)} req/s each`],
        ['cores', `${r.cores} (${r.configuration.cores} per instance)`],
        ['capacity', `${rate(r.capacityRps)} req/s per instance measured; utilisation ${percent(r.utilisation)}`],
        ['expected p99', `${num(r.expectedP99Ms, 2)} ms (${r.p99Basis})`],
        ['busy cores', r.busyCoresPerInstance === null ? undefined : `${num(r.busyCoresPerInstance, 2)} per instance at that load`],
        ['memory', r.memoryBytesPerInstance === null ? undefined : `${mib(r.memoryBytesPerInstance)} per instance, ${mib(r.memoryBytes)} in all`],
        ['cost', r.costPer1MPredictions === null ? result.costReason ?? undefined : `${money(r.costPer1MPredictions)} ${cur} per 1M predictions (${money(r.costPerHour)} ${cur} per hour)`],
        ['concurrency', r.concurrencyPerReplica === null ? undefined : `${num(r.concurrencyPerReplica, 1)} requests in flight per replica (a starting point for serving.autoscaling.targetConcurrency)`],
      ]),
    );
    out.push('');
    out.push('Configuration, per instance (slipway.yaml)');
    out.push(indent(stringify(r.config)));
  }
  out.push('');

  out.push('Alternatives');
  out.push(
    indent(
      planTable(
        ['CONFIGURATION', 'CAPACITY REQ/S', 'INSTANCES', 'CORES', 'UTIL', 'P99 MS', `COST/1M ${target.currency}`, 'WHY'],
        result.alternatives.map((a) => [
          `${a.chosen ? '* ' : ''}${a.configuration.label}`,
          rate(a.capacityRps),
          a.instances === null ? '—' : String(a.instances),
          a.cores === null ? '—' : String(a.cores),
          percent(a.utilisation),
          num(a.expectedP99Ms, 2),
          money(a.costPer1MPredictions),
          a.why,
        ]),
      ),
    ),
  );
  out.push('');

  out.push(`Service time: one replica, one call at a time (${m.durations.servicePointMs} ms per batch size)`);
  const serviceRows: string[][] = [];
  for (const s of m.serviceTimes) {
    if (s.failure !== null) serviceRows.push([String(s.intraOpThreads), '—', '—', '—', '—', '—', '—', `failed: ${s.failure}`]);
    for (const p of s.points) {
      serviceRows.push([
        String(s.intraOpThreads),
        String(p.batchSize),
        String(p.calls),
        num(p.latency?.p50Ms, 3),
        num(p.latency?.p95Ms, 3),
        num(p.latency?.p99Ms, 3),
        rate(p.rowsPerSecond),
        p.failure === null ? '' : p.failure,
      ]);
    }
    for (const k of s.skippedBatchSizes) serviceRows.push([String(s.intraOpThreads), String(k.batchSize), '—', '—', '—', '—', '—', `skipped: ${k.reason}`]);
  }
  out.push(indent(planTable(['THREADS', 'BATCH', 'CALLS', 'P50 MS', 'P95 MS', 'P99 MS', 'ROWS/S', 'NOTE'], serviceRows)));
  out.push('');

  out.push(`Load: open-loop ${m.grid.arrivals} arrivals, ${m.rowsPerRequest} row${m.rowsPerRequest === 1 ? '' : 's'} per request, ${m.durations.loadPointMs} ms per rate; verdicts at p99 ≤ ${num(target.p99Ms, 2)} ms`);
  const loadRows: string[][] = [];
  for (const c of m.configurations) {
    if (c.status !== 'measured') {
      loadRows.push([c.configuration.label, '—', '—', '—', '—', '—', '—', '—', '—', `${c.status}: ${c.reason ?? ''}`]);
      continue;
    }
    for (const p of c.points) {
      const why = failureOf(p, target.p99Ms);
      loadRows.push([
        c.configuration.label,
        rate(p.offeredRps),
        rate(p.achievedRps),
        num(p.latency?.p50Ms, 2),
        num(p.latency?.p95Ms, 2),
        num(p.latency?.p99Ms, 2),
        String(p.errors),
        num(p.busyCores, 2),
        num(p.meanBatchSize, 1),
        why === null ? 'pass' : `fail: ${why}`,
      ]);
    }
  }
  out.push(indent(planTable(['CONFIGURATION', 'OFFERED', 'ACHIEVED', 'P50 MS', 'P95 MS', 'P99 MS', 'ERRORS', 'BUSY CORES', 'BATCH', 'VERDICT'], loadRows)));
  out.push('');

  out.push('Assumptions');
  for (const a of result.assumptions) out.push(`  - ${a}`);
  if (m.notes.length > 0) {
    out.push('');
    out.push('Notes');
    for (const n of m.notes) out.push(`  - ${n}`);
  }
  return out.join('\n') + '\n';
}

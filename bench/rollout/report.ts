/**
 * Turns the rollout simulator's runs into the console table and the Markdown section of
 * docs/benchmarks.md, and evaluates the targets of issue [3 of 6]. Nothing here measures; every
 * number comes from the runs it is given.
 */
import type { CheckDefinition } from '../../src/rollout/analysis/index.js';
import { normalCdf, normalIsf, wilsonInterval } from '../../src/stats/index.js';
import type { FixedGateConfig, GateOutcome } from './gates.js';
import { analysedOf, latencyRatioOf, type RealServerResult } from './real-server.js';
import type { GateVariant, Scenario } from './scenarios.js';
import { medianOf, type GateSummary } from './simulation.js';
import type { TrafficShape } from './traffic.js';

/** One scenario as run for the main table: Slipway, the fixed gate as the issue defines it, and the fixed gate calibrated. */
export interface ScenarioRow {
  readonly scenario: Scenario;
  readonly variant: GateVariant;
  readonly slipway: GateSummary;
  readonly fixed: GateSummary;
  readonly calibrated: GateSummary | null;
}

/** One alternative mapping on one scenario. */
export interface AlternativeRow {
  readonly variant: GateVariant;
  readonly scenario: Scenario;
  readonly slipway: GateSummary;
}

/** Everything the report shows. */
export interface RolloutReport {
  readonly date: string;
  readonly command: string;
  readonly seconds: number;
  readonly processes: number;
  readonly machine: string;
  readonly runs: number;
  readonly seeds: { readonly from: number; readonly to: number };
  readonly calibrationSeeds: { readonly from: number; readonly to: number };
  readonly shape: TrafficShape;
  readonly lookEvery: number;
  readonly weights: readonly [number, number];
  readonly alpha: number;
  readonly baselineP99Ms: number;
  readonly fixed: FixedGateConfig;
  /** The fixed gate's `analysis.threshold` calibrated to ≤ `calibrationTarget` false rollbacks, or null if none in range. */
  readonly calibratedThreshold: number | null;
  readonly calibrationTarget: number;
  readonly calibrationRange: { readonly from: number; readonly to: number };
  readonly rows: readonly ScenarioRow[];
  readonly alternatives: readonly AlternativeRow[];
  /** Analytic power of one fixed-horizon z test at the end of the run for the outcome fault, for context. */
  readonly outcomeFixedHorizonPower: number;
  /** Differences between the checks simulated here and src/rollout/spec's defaults at the time of the run. */
  readonly specAlignment: readonly string[];
  readonly realServer: RealServerResult;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const int = (x: number | null): string => (x === null ? '—' : Math.round(x).toLocaleString('en-US'));

/** A share with its 95 % Wilson interval, e.g. "2.1 % (1.4–3.2)". */
export function shareWithInterval(successes: number, n: number): string {
  if (n === 0) return '—';
  const ci = wilsonInterval({ n, successes });
  return `${pct(successes / n)} (${(100 * ci.lower).toFixed(1)}–${(100 * ci.upper).toFixed(1)})`;
}

/** The value at quantile q of sorted values (nearest rank), or null for none. */
function rank(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function byCheck(s: GateSummary): string {
  const entries = Object.entries(s.rollbacksByCheck).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? '—' : entries.map(([k, v]) => `${k} ${v}`).join(', ');
}

function undecided(s: GateSummary): string {
  if (s.endedUndecided === 0) return '0';
  const parts = Object.entries(s.endedByVerdict)
    .filter(([k]) => k !== 'none')
    .map(([k, v]) => `${k} ${v}`);
  return `${pct(s.endedUndecided / s.runs)}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

function describeCheck(c: CheckDefinition): string {
  const fields = Object.entries(c)
    .filter(([k]) => k !== 'name')
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `\`${c.name ?? c.metric}\` — ${fields.join(', ')}`;
}

/** The verdict of a target: met, missed, or not evaluable (with why). */
interface TargetRow {
  readonly target: string;
  readonly measured: string;
  readonly met: 'met' | '**missed**' | 'n/a';
  readonly note: string;
}

function targets(r: RolloutReport): TargetRow[] {
  const rows: TargetRow[] = [];
  const noFault = r.rows.filter((x) => x.scenario.id === 'no-fault');
  for (const nf of noFault) {
    const rate = nf.slipway.rollbacks / nf.slipway.runs;
    rows.push({
      target: `No fault: false rollback ≤ 5 % — ${nf.variant.title}`,
      measured: shareWithInterval(nf.slipway.rollbacks, nf.slipway.runs),
      met: rate <= 0.05 ? 'met' : '**missed**',
      note: `nominal bound α/2 = ${pct(r.alpha / 2)} (each check Fails wrongly with probability ≤ its α share / 2). The fixed gate: ${pct(nf.fixed.rollbacks / nf.fixed.runs)}.`,
    });
  }
  const errors = r.rows.find((x) => x.scenario.id === 'errors');
  if (errors !== undefined) {
    const rate = errors.slipway.rollbacks / errors.slipway.runs;
    rows.push({
      target: '+2 percentage points of errors: caught in ≥ 95 % of runs',
      measured: shareWithInterval(errors.slipway.rollbacks, errors.slipway.runs),
      met: rate >= 0.95 ? 'met' : '**missed**',
      note: '',
    });
  }
  for (const row of r.rows) {
    if (row.scenario.id === 'no-fault') continue;
    const nf = noFault.find((x) => x.variant.id === row.variant.id);
    const slipMedian = medianOf(row.slipway.rollbackAt);
    const fixedMedian = medianOf(row.fixed.rollbackAt);
    const target = `${row.scenario.title}: median requests-to-detection ≤ the fixed gate's, with a false-rollback rate ≤ its`;
    if (row.scenario.faultCheck.fixed === null) {
      rows.push({
        target,
        measured: `Slipway ${int(slipMedian)} (caught ${pct(row.slipway.rollbacks / row.slipway.runs)}); fixed gate ${int(fixedMedian)}`,
        met: 'n/a',
        note: 'The fixed gate has no outcome check, so its rollbacks here are its error-rate and latency checks firing on noise (the same as without a fault); there is no detection to compare.',
      });
      continue;
    }
    const slipFalse = nf === undefined ? null : nf.slipway.rollbacks / nf.slipway.runs;
    const fixedFalse = nf === undefined ? null : nf.fixed.rollbacks / nf.fixed.runs;
    const fasterOk = slipMedian !== null && fixedMedian !== null && slipMedian <= fixedMedian;
    const falseOk = slipFalse !== null && fixedFalse !== null && slipFalse <= fixedFalse;
    let note = '';
    if (!fasterOk && row.calibrated !== null && nf !== undefined && nf.calibrated !== null && r.calibratedThreshold !== null) {
      const calMedian = medianOf(row.calibrated.rollbackAt);
      note =
        `The issue's fixed gate rolls back ${pct(fixedFalse ?? 0)} of healthy canaries, so its speed is that of a gate that fires on noise. ` +
        `At a comparable false-rollback rate (threshold ${r.calibratedThreshold} failed checks: ${pct(nf.calibrated.rollbacks / nf.calibrated.runs)} false rollbacks) ` +
        `the fixed gate catches this fault in ${pct(row.calibrated.rollbacks / row.calibrated.runs)} of runs, median ${int(calMedian)} requests.`;
      const extra = row.scenario.fault.extraErrorRate;
      if (extra > 0 && fixedMedian !== null) {
        // the most powerful test that uses the requests up to the fixed gate's median once, at the
        // check's whole α (no Bonferroni share, one-sided): no level-α test can detect more often by then
        const power = errorFixedHorizonPower(r.shape, extra, fixedMedian, ALPHA_FOR_BOUND);
        note +=
          ` No test that keeps its false-alarm rate at α = ${ALPHA_FOR_BOUND} can have a median at or below ${int(fixedMedian)} requests: ` +
          `the most powerful single test at that point (a one-sided z test on all ${int(fixedMedian)} requests, α = ${ALPHA_FOR_BOUND}, no share for the other checks) ` +
          `detects this fault only with probability ${pct(power)} (computed, not simulated), under the 50 % a median needs.`;
      }
    }
    rows.push({
      target,
      measured: `Slipway ${int(slipMedian)} vs fixed ${int(fixedMedian)} requests; false rollbacks ${slipFalse === null ? '—' : pct(slipFalse)} vs ${fixedFalse === null ? '—' : pct(fixedFalse)}`,
      met: fasterOk && falseOk ? 'met' : '**missed**',
      note,
    });
  }
  return rows;
}

function summaryCells(s: GateSummary, faultCheck: string | null): string[] {
  const caughtByFault = faultCheck === null ? null : (s.rollbacksByCheck[faultCheck] ?? 0);
  return [
    shareWithInterval(s.rollbacks, s.runs),
    caughtByFault === null ? '—' : pct(caughtByFault / s.runs),
    int(medianOf(s.rollbackAt)),
    int(rank(s.rollbackAt, 0.9)),
    s.promotedOnPass === 0 ? '0' : `${pct(s.promotedOnPass / s.runs)} (median ${int(medianOf(s.promotedOnPassAt))})`,
    undecided(s),
    s.paused === 0 ? '0' : pct(s.paused / s.runs),
    byCheck(s),
  ];
}

const RESULT_HEADER = [
  'scenario',
  'gate',
  'rolled back (95 % CI)',
  'by the faulty metric’s check',
  'median requests to rollback',
  'p90',
  'promoted on Pass (median requests)',
  'undecided at the end (promoted)',
  'paused (SRM)',
  'rollbacks by check',
];

function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(align.map((a) => (a === 'r' ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

/** One run's outcome in a few words, e.g. "rollback (error-rate) at 3,012". */
export function outcomeCell(o: GateOutcome): string {
  switch (o.kind) {
    case 'rollback':
      return `rollback (${o.checks.join(', ')}) at ${int(o.atRequest)}`;
    case 'promote':
      return `promote on Pass at ${int(o.atRequest)}`;
    case 'pause':
      return `pause at ${int(o.atRequest)}`;
    case 'end':
      return `undecided (${o.lastVerdict ?? 'no look'}) at ${int(o.atRequest)}`;
  }
}

const ratio = (x: number | null): string => (x === null ? '—' : `${x.toFixed(2)} ×`);

/** The Markdown of the real-server part (a wiring check) from what it produced. */
export function realServerMarkdown(rs: RealServerResult): string[] {
  if (rs.status === 'not-measured') return [`Not measured: ${rs.reason}.`];
  const out: string[] = [];
  const runs = rs.scenarios.map((x) => x.runs);
  const fewest = Math.min(...runs);
  const most = Math.max(...runs);
  out.push(
    `**A wiring check, not a rate estimate.** ${fewest === most ? most : `${fewest}–${most}`} run${most === 1 ? '' : 's'} per scenario (of ${rs.runsAsked} asked${fewest < rs.runsAsked ? '; the time budget ran out before the rest' : ''}; ${rs.runsAsked} rather than more to keep this part within about six minutes on this machine) drive a real \`slipway serve\` over HTTP: the router's split, the prediction records and the feedback API feed the rollout controller's analysis looks, whose verdicts and decisions are read back from the stored rollout and its events. A handful of runs cannot estimate false-rollback or detection rates — the simulator above does that; this shows what the real server decided in each run and the evidence it stored for it. ${rs.requestsPerRun.toLocaleString('en-US')} requests per run at most; ${rs.seconds.toFixed(1)} s in all.`,
  );
  out.push('');
  for (const line of rs.setup) out.push(`- ${line}`);
  out.push('');
  out.push(
    table(
      ['scenario', 'analysis checks', 'runs', 'rolled back', 'rollbacks by check', 'median requests to rollback (sent / analysed)', 'promoted on Pass (median requests)', 'undecided at the end (last verdict)', 'paused'],
      rs.scenarios.map((x) => {
        const s = x.summary;
        const analysed = x.details.filter((d) => d.outcome.kind === 'rollback').map((d) => analysedOf(d.lastVerdict)).filter((n): n is number => n !== null).sort((a, b) => a - b);
        return [
          x.title,
          x.checks,
          String(x.runs),
          `${s.rollbacks} of ${s.runs}`,
          byCheck(s),
          s.rollbacks === 0 ? '—' : `${int(medianOf(s.rollbackAt))} / ${int(medianOf(analysed))}`,
          s.promotedOnPass === 0 ? '0' : `${s.promotedOnPass} of ${s.runs} (median ${int(medianOf(s.promotedOnPassAt))})`,
          s.endedUndecided === 0 ? '0' : `${s.endedUndecided} of ${s.runs} (${Object.entries(s.endedByVerdict).map(([k, v]) => `${k} ${v}`).join(', ')})`,
          s.paused === 0 ? '0' : `${s.paused} of ${s.runs}`,
        ];
      }),
      ['l', 'l', 'r', 'r', 'l', 'r', 'r', 'r', 'r'],
    ),
  );
  out.push('');
  out.push('Every run:');
  out.push('');
  out.push(
    table(
      ['scenario', 'run', 'outcome (requests sent)', 'rollout reason', 'requests analysed at the last look', 'looks', 'load s', 'canary share of answers', 'failed requests (by status)', 'canary ÷ stable latency (geometric means)'],
      rs.scenarios.flatMap((x) =>
        x.details.map((d) => {
          const answered = d.answered.stable + d.answered.candidate;
          const failed = Object.entries(d.failed);
          return [
            x.scenarioId,
            String(d.run),
            outcomeCell(d.outcome),
            d.reason,
            int(analysedOf(d.lastVerdict)),
            String(d.looks),
            d.seconds.toFixed(1),
            answered === 0 ? '—' : pct(d.answered.candidate / answered),
            failed.length === 0 ? '0' : failed.map(([status, n]) => `${n} × ${status}`).join(', '),
            ratio(latencyRatioOf(d.lastVerdict)),
          ];
        }),
      ),
      ['l', 'r', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  out.push('');
  for (const note of rs.notes) out.push(`- ${note}`);
  return out;
}

/** The Markdown of the `rollout-simulator` section of docs/benchmarks.md. */
export function renderMarkdown(r: RolloutReport): string {
  const s = r.shape;
  const out: string[] = [];
  out.push('## Rollout simulator ([3 of 6])');
  out.push('');
  out.push(
    'The real analysis engine (`analyse` from src/rollout/analysis) on a fake clock (time is counted in requests; nothing waits) over synthetic canary traffic, side by side with a fixed-threshold gate of the Flagger kind on the same requests. A benchmark, not a test: it reports what it measured, targets met or not.',
  );
  out.push('');
  out.push(`- Date: ${r.date}`);
  out.push(`- Command: \`${r.command}\` (${r.seconds.toFixed(1)} s wall on ${r.processes} process${r.processes === 1 ? '' : 'es'})`);
  out.push(`- Machine: ${r.machine}`);
  out.push(
    `- Seeds: ${r.runs.toLocaleString('en-US')} runs per scenario, seeds ${r.seeds.from}–${r.seeds.to} (mulberry32, src/stats/random.ts). Every scenario and both gates use the same seeds, and every request draws the same random numbers in every scenario, so scenarios differ by their fault alone. The fixed gate's calibrated threshold comes from seeds ${r.calibrationSeeds.from}–${r.calibrationSeeds.to}, disjoint from the reported ones. Rates carry a 95 % Wilson interval.`,
  );
  out.push(
    `- Traffic: ${s.requests.toLocaleString('en-US')} requests per run, each routed to the canary with probability ${s.candidateWeight} (weights ${r.weights[0]}/${r.weights[1]}, no stickiness); a look every ${r.lookEvery} requests (${s.requests / r.lookEvery} looks). Baseline error rate ${pct(s.baselineErrorRate)}; latency log-normal with median ${s.latencyMedianMs} ms and σ = ${s.latencySigma} on the log scale (p99 ${r.baselineP99Ms.toFixed(1)} ms), every request including failed ones; conversion rate ${pct(s.baselineConversionRate)} (a \`converted\` feedback event, independent of errors, joined at once: no feedback delay).`,
  );
  out.push('');
  out.push('### Gates');
  out.push('');
  const main = r.rows.map((x) => x.variant).filter((v, i, all) => all.findIndex((w) => w.id === v.id) === i);
  out.push(
    `**Slipway** runs \`analyse\` after every ${r.lookEvery} requests on the cumulative arm summaries, with the analysis state of the previous look passed back in (as the controller persists it), α = ${r.alpha} split across the checks by Bonferroni, and the sample-ratio mismatch test on the request counts against the weights. It rolls back on the first **Fail**, promotes on the first **Pass** (every check passed), pauses on **SampleRatioMismatch**; a run still InsufficientData or Inconclusive after the last look counts as *undecided* and is promoted like the fixed gate's (the real controller would pause it for a person at its deadline). The checks, as engine definitions:`,
  );
  out.push('');
  for (const v of main) {
    out.push(`- ${v.title}:`);
    for (const c of v.checks) out.push(`  - ${describeCheck(c)}`);
  }
  out.push('');
  out.push(
    `**Fixed gate** (Flagger's kind): after every ${r.lookEvery} requests it looks at the canary's requests *of that interval only*; the check fails when the canary got no request (Flagger's "no values found"), its error rate is above ${pct(r.fixed.errorRateAbove)}, or its p99 latency (type-7 quantile of the interval's latencies; Flagger reads a Prometheus histogram) is above ${r.fixed.p99AboveMs.toFixed(1)} ms = 1.5 × the baseline's true p99. At most one failed check per interval. Rollback once ${r.fixed.failedChecksThreshold} checks have failed **in total** — Flagger's \`analysis.threshold\`: \`status.failedChecks\` is incremented on each failed analysis and reset only when a new revision restarts the analysis, never by a passing check (fluxcd/flagger pkg/controller/scheduler.go, \`advanceCanary\`: "check if the number of failed checks reached the threshold"; docs: "max number of failed metric checks before rollback"). Flagger rolls back at the next tick after the threshold is reached; here the rollback is credited at the look that reached it, which favours the fixed gate by one interval. Promotion after the last step (the end of the run). It has no outcome check (Flagger's built-ins are request success rate and duration).`,
  );
  if (r.calibratedThreshold !== null) {
    out.push('');
    out.push(
      `**Fixed gate, calibrated**: the same checks with \`analysis.threshold\` = ${r.calibratedThreshold}, the smallest threshold in ${r.calibrationRange.from}–${r.calibrationRange.to} whose false-rollback rate on the calibration seeds is ≤ ${pct(r.calibrationTarget)} — the knob a Flagger user turns when healthy canaries keep rolling back. Not part of the issue's targets; it shows what the fixed gate detects at a false-rollback rate comparable to Slipway's.`,
    );
  } else {
    out.push('');
    out.push(`**Fixed gate, calibrated**: no \`analysis.threshold\` in ${r.calibrationRange.from}–${r.calibrationRange.to} keeps false rollbacks ≤ ${pct(r.calibrationTarget)} on the calibration seeds.`);
  }
  out.push('');
  out.push('### Targets');
  out.push('');
  out.push(
    table(
      ['target', 'measured', 'met?', 'note'],
      targets(r).map((t) => [t.target, t.measured, t.met, t.note]),
      ['l', 'l', 'l', 'l'],
    ),
  );
  out.push('');
  out.push('### Results');
  out.push('');
  const rows: string[][] = [];
  for (const [i, row] of r.rows.entries()) {
    rows.push([row.scenario.title, row.variant.title, ...summaryCells(row.slipway, row.scenario.faultCheck.slipway)]);
    // The fixed gate is the same in every row of a scenario (same seeds, same checks): show it once.
    if (r.rows.findIndex((x) => x.scenario.id === row.scenario.id) !== i) continue;
    rows.push([row.scenario.title, `fixed gate (threshold ${r.fixed.failedChecksThreshold})`, ...summaryCells(row.fixed, row.scenario.faultCheck.fixed)]);
    if (row.calibrated !== null) rows.push([row.scenario.title, `fixed gate, calibrated (threshold ${r.calibratedThreshold})`, ...summaryCells(row.calibrated, row.scenario.faultCheck.fixed)]);
  }
  out.push(table(RESULT_HEADER, rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']));
  out.push('');
  out.push(
    'In the no-fault rows every rollback is a false rollback; in the fault rows "rolled back" is the detection rate. Requests count both arms since the canary started (the canary sees about a tenth of them). Medians and p90 are over the runs that rolled back.',
  );
  const outcome = r.rows.find((x) => x.scenario.id === 'outcome');
  if (outcome !== undefined) {
    out.push('');
    out.push(
      `The outcome scenario is hard for any method at this size: the canary gets about ${Math.round(s.requests * s.candidateWeight).toLocaleString('en-US')} predictions per run, and even a single fixed-horizon z test at the end of the run (no peeking, α/3 two-sided) would catch a 10 % → 8 % drop with probability ${pct(r.outcomeFixedHorizonPower)} (computed, not simulated). An always-valid test that may stop at any look pays for that freedom with some power; longer canaries or a higher weight are what detect small outcome changes.`,
    );
  }
  out.push('');
  out.push('### Mapping the spec defaults onto the engine: alternatives measured');
  out.push('');
  out.push('The same seeds and traffic; Slipway only. The first rows repeat the chosen checks for comparison.');
  out.push('');
  const altRows: string[][] = [];
  const chosen = r.rows.filter((x) => x.variant.id === 'slipway');
  for (const row of [...chosen.map((x) => ({ variant: x.variant, scenario: x.scenario, slipway: x.slipway })), ...r.alternatives]) {
    altRows.push([row.variant.title, row.scenario.title, shareWithInterval(row.slipway.rollbacks, row.slipway.runs), int(medianOf(row.slipway.rollbackAt)), row.slipway.promotedOnPass === 0 ? '0' : `${pct(row.slipway.promotedOnPass / row.slipway.runs)} (median ${int(medianOf(row.slipway.promotedOnPassAt))})`, undecided(row.slipway)]);
  }
  out.push(table(['checks', 'scenario', 'rolled back (95 % CI)', 'median requests to rollback', 'promoted on Pass (median requests)', 'undecided at the end'], altRows, ['l', 'l', 'r', 'r', 'r', 'r']));
  if (r.specAlignment.length > 0) {
    out.push('');
    out.push('At the time of this run src/rollout/spec\'s defaults differed from the checks simulated here:');
    out.push('');
    for (const line of r.specAlignment) out.push(`- ${line}`);
  }
  out.push('');
  out.push('### Against a real server');
  out.push('');
  out.push(...realServerMarkdown(r.realServer));
  return out.join('\n');
}

/** A compact console table of the main results. */
export function renderConsole(r: RolloutReport): string {
  const lines: string[] = [];
  const pad = (x: string, n: number): string => (x.length >= n ? x : x + ' '.repeat(n - x.length));
  lines.push(`${pad('scenario', 44)} ${pad('gate', 48)} ${pad('rolled back', 22)} ${pad('median', 8)} ${pad('on Pass', 9)} ${pad('undecided', 10)} paused`);
  for (const [i, row] of r.rows.entries()) {
    const gates: [string, GateSummary][] = [[row.variant.title, row.slipway]];
    const first = r.rows.findIndex((x) => x.scenario.id === row.scenario.id) === i;
    if (first) gates.push([`fixed gate (threshold ${r.fixed.failedChecksThreshold})`, row.fixed]);
    if (first && row.calibrated !== null) gates.push([`fixed gate, calibrated (threshold ${r.calibratedThreshold})`, row.calibrated]);
    for (const [name, g] of gates) {
      lines.push(
        `${pad(row.scenario.title, 44)} ${pad(name, 48)} ${pad(shareWithInterval(g.rollbacks, g.runs), 22)} ${pad(int(medianOf(g.rollbackAt)), 8)} ${pad(pct(g.promotedOnPass / g.runs), 9)} ${pad(pct(g.endedUndecided / g.runs), 10)} ${pct(g.paused / g.runs)}`,
      );
    }
  }
  lines.push('');
  for (const t of targets(r)) lines.push(`${t.met === 'met' ? 'MET   ' : t.met === 'n/a' ? 'N/A   ' : 'MISSED'} ${t.target}: ${t.measured}`);
  lines.push('');
  if (r.realServer.status === 'not-measured') {
    lines.push(`real server: not measured: ${r.realServer.reason}`);
  } else {
    lines.push(`real server (${r.realServer.seconds.toFixed(1)} s, a wiring check):`);
    for (const x of r.realServer.scenarios) {
      lines.push(`  ${pad(x.title, 44)} ${x.runs} runs: ${x.details.map((d) => outcomeCell(d.outcome)).join('; ')}`);
    }
  }
  return lines.join('\n');
}

/** The significance level of the bound quoted for a missed detection-speed target. */
const ALPHA_FOR_BOUND = 0.05;

/**
 * Power of a one-sided two-proportion z test after `requests` requests split by the canary weight,
 * for baseline error rate p and candidate p + extra (normal approximation, unpooled variance).
 */
export function errorFixedHorizonPower(shape: Pick<TrafficShape, 'baselineErrorRate' | 'candidateWeight'>, extra: number, requests: number, alpha: number): number {
  const pB = shape.baselineErrorRate;
  const pC = pB + extra;
  const nC = requests * shape.candidateWeight;
  const nB = requests - nC;
  const se = Math.sqrt((pB * (1 - pB)) / nB + (pC * (1 - pC)) / nC);
  return normalCdf(extra / se - normalIsf(alpha));
}

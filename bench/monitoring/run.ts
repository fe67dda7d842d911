/**
 * `npm run bench:monitoring`: the monitoring benchmarks of issue [4 of 6]: the drift check of a
 * 100,000-row × 30-feature window (target ≤ 1 s) and the window's memory bound, then the recording
 * cost at concurrency 64 (all of monitoring, and the payload log, the prediction record and the drift
 * window each alone, against off; bodies sampled at 1 %; target ≤ 5 %). Writes the `monitoring`
 * section of docs/benchmarks.md (BENCH_QUICK=1: 3 timed checks and one short run per mode, written
 * to bench/out/benchmarks-monitoring.md). BENCH_RUNS and BENCH_SECONDS set the
 * recording rounds (default 30, each mode one 3 s turn per round: more, shorter turns, because the
 * share is the median of per-round ratios whose spread on this VM is tens of per cent; the section
 * gives its 95 % interval).
 */
import { join } from 'node:path';
import { root } from '../lib/harness.js';
import { writeSection } from '../lib/sections.js';
import { renderDriftBench, runDriftCheckBench, type DriftBenchReport } from './drift-check.js';
import { renderRecordingBench, runRecordingBench, type RecordingBenchReport } from './recording.js';

const QUICK = process.env.BENCH_QUICK === '1';

/** CPU per row added to the 30-feature window (the large-reference fill, the one the server's windows resemble). */
function driftRowMicros(r: DriftBenchReport): number | undefined {
  const fill = r.results[0]?.rowsPerSecond;
  return fill === undefined ? undefined : 1e6 / fill;
}

function markdown(r: DriftBenchReport, recording: RecordingBenchReport, command: string): string {
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
  const rows = r.results.map(
    (x) =>
      `| ${x.reference} | ${Object.entries(x.methods)
        .map(([m, n]) => `${m} × ${n}`)
        .join(', ')} | ${ms(x.totalMedianMs)} (check ${ms(x.checkMs.min)}–${ms(x.checkMs.max)}, first ${ms(x.checkMs.first)}) | ${x.totalMedianMs <= r.targetMs ? 'met' : '**missed**'} | ${mib(x.memoryBoundBytes)}${x.measuredHeapBytes === null ? '' : ` (measured ${mib(x.measuredHeapBytes)})`} | ${Math.round(x.rowsPerSecond).toLocaleString('en-US')} rows/s | ${x.driftedFeatures.join(', ') || 'none'} |`,
  );
  return [
    '## Monitoring ([4 of 6])',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Command: \`${command}\``,
    `- Machine: ${r.machine.cpus} × ${r.machine.model}; load average before ${r.machine.loadBefore.join(' / ')}, after ${r.machine.loadAfter.join(' / ')} (other work only stretches times)`,
    '',
    '### Drift check',
    '',
    `A 100,000-row window of 30 features (24 numeric, 6 categorical, plus predictions; five features shifted) filled through \`createDriftWindow\`, then \`snapshot()\` + \`checkDrift\` against a reference profile made by the product's profile builder, ${r.runs} timed checks per reference (median shown). Target: ≤ ${r.targetMs} ms. The method per feature follows the reference's size (docs/drift.md): KS and chi-square on a small reference, normalised Wasserstein and Jensen–Shannon (each beside its significance test) on a large one.`,
    '',
    '| reference | methods | snapshot + check (median) | ≤ 1 s? | window memory bound | fill rate | drifted features found |',
    '| --- | --- | ---: | --- | ---: | ---: | --- |',
    ...rows,
    '',
    renderRecordingBench(recording, driftRowMicros(r)),
  ].join('\n');
}

const report = runDriftCheckBench(QUICK ? 3 : undefined);
console.log(renderDriftBench(report));
const recording = await runRecordingBench({
  runs: Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 30)),
  seconds: Number(process.env.BENCH_SECONDS ?? 3),
  warmupSeconds: QUICK ? 2 : 5,
  log: (m) => console.log(m),
});
console.log(renderRecordingBench(recording, driftRowMicros(report)));
const command = QUICK ? 'BENCH_QUICK=1 npm run bench:monitoring' : 'npm run bench:monitoring';
const file = QUICK ? join(root, 'bench', 'out', 'benchmarks-monitoring.md') : join(root, 'docs', 'benchmarks.md');
writeSection(file, 'monitoring', markdown(report, recording, command));
console.log(`wrote section monitoring of ${file}`);

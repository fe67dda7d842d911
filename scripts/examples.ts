// Trains the example models on examples/data, writes them to examples/models/<name>/, prints the
// held-out figures and exits non-zero if any model misses its threshold.
// Usage: npm run examples [-- --only breast-cancer,digits]
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExamples, buildSyntheticExamples, formatExamplesTable, SYNTHETIC_EXAMPLE_NAMES } from '../src/examples/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',').filter((s) => s !== '') : undefined;

const outDir = join(root, 'examples', 'models');
const started = performance.now();
// Synthetic examples (heavy-conv: seeded weights, no dataset) are built after the trained ones.
const isSynthetic = (n: string): boolean => (SYNTHETIC_EXAMPLE_NAMES as readonly string[]).includes(n);
const trainedOnly = only?.filter((n) => !isSynthetic(n));
const syntheticOnly = only?.filter(isSynthetic);
const results = trainedOnly?.length === 0 ? [] : await buildExamples({ outDir, dataDir: join(root, 'examples', 'data'), ...(trainedOnly === undefined ? {} : { only: trainedOnly }) });
const synthetic = syntheticOnly?.length === 0 ? [] : await buildSyntheticExamples({ outDir, ...(syntheticOnly === undefined ? {} : { only: syntheticOnly }) });
const seconds = (performance.now() - started) / 1000;

console.log(formatExamplesTable(results));
for (const s of synthetic) console.log(`${s.name}: synthetic seeded weights, ${s.modelBytes} bytes, sha256 ${s.modelSha256.slice(0, 12)}`);
console.log(`\nwrote ${[...results, ...synthetic].map((r) => relative(root, r.dir)).join(', ')} in ${seconds.toFixed(1)} s`);
const failed = results.filter((r) => !r.passed);
if (failed.length > 0) {
  for (const r of failed) {
    for (const [who, checks] of [[r.name, r.metrics.checks], [`${r.name} (candidate)`, r.candidate?.metrics.checks ?? []]] as const) {
      for (const c of checks.filter((k) => !k.passed)) console.error(`${who}: missed "${c.rule}": ${c.metric} = ${c.value} (needs ${c.comparison} ${c.threshold})`);
    }
  }
  process.exitCode = 1;
}

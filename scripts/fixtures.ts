// Regenerates the fixture-model corpus into test/fixtures/models (`npm run fixtures`). The output
// is deterministic: running it twice writes the same bytes.
import { FIXTURES_DIR } from '../test/fixtures/corpus.js';
import { generateFixtures } from '../test/fixtures/generate.js';

const dir = process.argv[2] ?? FIXTURES_DIR;
const manifest = await generateFixtures(dir);
const byKind = new Map<string, number>();
for (const f of manifest.fixtures) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
console.log(`wrote ${manifest.fixtures.length} fixtures (manifest version ${manifest.version}) to ${dir}`);
for (const [kind, n] of byKind) console.log(`  ${kind}: ${n}`);

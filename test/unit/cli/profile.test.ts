/** `slipway profile` and `slipway models push --reference` against the profile routes (stand-in runtime, memory stores). */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatStat } from '../../../src/cli/commands/profile.js';
import { startProfileHarness, type ProfileHarness } from '../monitoring/profiles/harness.js';
import { sampleProfile } from '../monitoring/profiles/profile-store.contract.js';
import { runCli, type RunResult } from './cli-harness.js';

let h: ProfileHarness;
before(async () => {
  h = await startProfileHarness();
  await h.registry.pushVersion({ model: 'adder', artifactPath: h.modelFile(1) }, { by: 'test' });
  await h.registry.setAlias('adder', 'production', 1, { by: 'test' });
  writeFileSync(join(h.dir, 'ref.csv'), 'a,b,label,c,d\n1,2,yes,3,4\n8,7,no,6,5\n0,9,no,1,1\n2,2,no,,2\n');
  writeFileSync(join(h.dir, 'bad.csv'), 'a,b,c,d\n1,2,3,4\n5,six,7,8\n');
});
after(async () => {
  await h.close();
});

const cli = (argv: readonly string[]): Promise<RunResult> => runCli(argv, { cwd: h.dir, env: { SLIPWAY_SERVER: h.url } });

/** The table's cells for one feature, split on runs of spaces. */
function rowOf(stdout: string, feature: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith(`${feature} `));
  assert.ok(line !== undefined, `no row for ${feature} in:\n${stdout}`);
  return line.split(/\s{2,}/);
}

void describe('slipway profile', () => {
  void test('uploads a CSV, leaving out --target, and prints a row per feature and the predictions', async () => {
    const r = await cli(['profile', 'adder:1', '--data', 'ref.csv', '--target', 'label']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Model\s+adder:1\nRows\s+4\nSource\s+ref\.csv\nCreated\s+.+ by anonymous\nFeatures\s+4\n/);
    assert.match(r.stdout, /\nFEATURE\s+KIND\s+COUNT\s+MISSING\s+MEAN\s+STD\s+MIN\s+P50\s+MAX\n/, 'no categories column without categorical features');
    // a: 1, 8, 0, 2 → mean 2.75, sample std 3.594, median 1.5
    assert.deepEqual(rowOf(r.stdout, 'a'), ['a', 'numeric', '4', '0', '2.75', '3.594', '0', '1.5', '8']);
    assert.deepEqual(rowOf(r.stdout, 'c').slice(0, 4), ['c', 'numeric', '3', '1']);
    // the row with a missing cell is not run; the others' argmax of y = x + 1: d, a, b
    assert.match(r.stdout, /Predictions \(y\): 0 33\.3%, 1 33\.3%, 3 33\.3%; 1 missing\n$/);
  });

  void test('shows the stored profile without --data, by version or alias, and prints the API answer with --json', async () => {
    const shown = await cli(['profile', 'adder@production']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^Model\s+adder:1\nRows\s+4/);
    const json = await cli(['profile', 'adder:1', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as { profile: { rows: number; features: unknown[] } };
    assert.equal(body.profile.rows, 4);
    assert.equal(body.profile.features.length, 4);
  });

  void test('shows categorical features by their most frequent categories, and a numeric prediction by its statistics', async () => {
    const base = sampleProfile('adder', 9);
    const amount = base.features[0]!;
    await h.store.put({
      ...base,
      features: [...base.features, { kind: 'categorical', name: 'city', input: 'x', column: 2, count: 10, missing: 0, frequencies: { paris: 5, rome: 2, oslo: 1, lima: 1, __other__: 1 } }],
      predictions: { ...amount, name: 'score', input: 'score', column: null, missing: 2 },
    });
    const r = await cli(['profile', 'adder:9']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nFEATURE\s+KIND\s+COUNT\s+MISSING\s+MEAN\s+STD\s+MIN\s+P50\s+MAX\s+TOP CATEGORIES\n/);
    assert.deepEqual(rowOf(r.stdout, 'amount'), ['amount', 'numeric', '3', '0', '2.1667', '1.2583', '1', '2', '3.5', '-']);
    assert.deepEqual(rowOf(r.stdout, 'country'), ['country', 'categorical', '2', '1', '-', '-', '-', '-', '-', 'de 50%, fr 50%']);
    assert.deepEqual(rowOf(r.stdout, 'city'), ['city', 'categorical', '10', '0', '-', '-', '-', '-', '-', 'paris 50%, rome 20%, lima 10%, +2 more']);
    assert.match(r.stdout, /Predictions \(score\): mean 2\.1667, std 1\.2583, min 1, p50 2, max 3\.5; 2 missing\n$/);
  });

  void test('deletes the stored profile, after which showing it exits 3 naming the fix', async () => {
    const deleted = await cli(['profile', 'adder', '--delete']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'Deleted the reference profile of adder:1 (4 rows from ref.csv)\n');
    const missing = await cli(['profile', 'adder:1']);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /adder version 1 has no reference profile; compute one with `slipway profile adder:1 --data FILE\.csv` \[MONITORING_PROFILE_NOT_FOUND\]/);
  });

  void test('reports a bad cell with its row and column, and misused flags, as usage errors', async () => {
    const bad = await cli(['profile', 'adder:1', '--data', 'bad.csv']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /row 2, column "b": "six" is not a number \[MONITORING_PROFILE_INVALID_DATA\]/);
    const wide = await cli(['profile', 'adder:1', '--data', 'ref.csv']);
    assert.match(wide.stderr, /the data has 5 columns — is one of them the label\? .*\[MONITORING_PROFILE_COLUMNS_MISMATCH\]/);
    const target = await cli(['profile', 'adder:1', '--target', 'label']);
    assert.equal(target.code, 2);
    assert.match(target.stderr, /--target applies with --data/);
    const missingFile = await cli(['profile', 'adder:1', '--data', 'nope.csv']);
    assert.match(missingFile.stderr, /no such file \[CONTROL_CLIENT_FILE_NOT_FOUND\]/);
  });
});

void describe('slipway models push --reference', () => {
  void test('pushes the version, then profiles it from the reference file', async () => {
    const r = await cli(['models', 'push', h.modelFile(2), '--name', 'adder', '--reference', 'ref.csv', '--target', 'label']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Registered adder version 2 /);
    assert.match(r.stdout, /Profiled 4 rows of ref\.csv: 4 features, predictions of y \(`slipway profile adder:2` shows it\)\n$/);
    assert.equal((await h.service.get('adder', 2)).rows, 4);
  });

  void test('says the version was registered when its profile fails', async () => {
    const r = await cli(['models', 'push', h.modelFile(3), '--name', 'adder', '--reference', 'bad.csv']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Registered adder version 3, but its reference profile failed; retry with `slipway profile adder:3 --data bad\.csv`/);
    assert.match(r.stderr, /\[MONITORING_PROFILE_INVALID_DATA\]/);
  });

  void test('refuses --target without --reference', async () => {
    const r = await cli(['models', 'push', h.modelFile(4), '--name', 'adder', '--target', 'label']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--target applies with --reference/);
  });
});

void test('formats statistics in at most five significant digits', () => {
  assert.deepEqual([formatStat(2.75), formatStat(3.593976442141304), formatStat(12), formatStat(0.000001234567), formatStat(123456.78)], ['2.75', '3.594', '12', '0.0000012346', '123460']);
});

/**
 * Live drift end to end: the breast-cancer example profiled from its training rows, then live
 * traffic through the real server — held-out rows like the reference raise no drift, the same rows
 * with three features scaled by 1.5 drift and are named; an endpoint version without a profile is
 * a 404 naming the command that makes one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../unit/cli/cli-harness.js';
import { startTestServer, type TestServer, adminHeaders, ADMIN_ENV } from '../support/server.js';

const dir = fileURLToPath(new URL('../../examples/models/breast-cancer/', import.meta.url));
let s: TestServer;

/** A CSV of the example (header, then rows of 30 features and the target). */
function rowsOf(file: string): { header: string[]; rows: number[][] } {
  const [head, ...lines] = readFileSync(`${dir}${file}`, 'utf8').trim().split('\n');
  return { header: (head ?? '').split(','), rows: lines.map((l) => l.split(',').map(Number)) };
}

async function infer(rows: number[][]): Promise<void> {
  const body = { inputs: [{ name: 'input', shape: [rows.length, 30], datatype: 'FP32', data: rows.flat() }] };
  const r = await s.call('POST', '/v2/models/breast-cancer/infer', body);
  assert.equal(r.status, 200, JSON.stringify(r.json));
}

interface Drift {
  current: { status: string; window: { rows: number }; dataset: { driftedFeatures: string[]; drifted: boolean }; features: { name: string; drifted: boolean }[] };
}

before(async () => {
  s = await startTestServer({ examples: true, overrides: { 'log.level': 'silent' } });
  await s.settled;
  const csv = readFileSync(`${dir}reference.csv`, 'utf8');
  const res = await fetch(`${s.url}/api/v1/models/breast-cancer/versions/1/profile?target=target&source=reference.csv`, { method: 'PUT', headers: adminHeaders({ 'content-type': 'text/csv' }), body: csv });
  assert.equal(res.status, 200, await res.text());
});
after(async () => {
  await s.stop();
});

describe('live drift', () => {
  test('held-out rows like the reference raise no drift; training rows with three features scaled drift, and those are named', async () => {
    const { header, rows } = rowsOf('test.csv');
    const features = rows.map((r) => r.slice(0, 30));
    // each held-out row once: repeating rows would make them look more certain than they are
    await infer(features);
    let r = await s.call('GET', '/api/v1/endpoints/breast-cancer/drift');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    let drift = r.json.drift as Drift;
    assert.equal(drift.current.window.rows, features.length, 'a profile stored through the server is used from the first request on');
    assert.equal(drift.current.dataset.driftedFeatures.length, 0, `no feature drifts: ${drift.current.dataset.driftedFeatures.join(', ')}`);
    assert.equal(drift.current.status, 'no_drift');

    const shifted = ['mean radius', 'mean texture', 'worst area'].map((name) => header.indexOf(name));
    assert.ok(shifted.every((i) => i >= 0));
    // other rows than the held-out ones (training rows), so no row is counted twice
    const moved = rowsOf('reference.csv')
      .rows.slice(0, 150)
      .map((row) => row.slice(0, 30).map((v, i) => (shifted.includes(i) ? v * 1.5 : v)));
    await infer(moved);
    r = await s.call('GET', '/api/v1/endpoints/breast-cancer/drift');
    drift = r.json.drift as Drift;
    for (const name of ['mean radius', 'mean texture', 'worst area']) {
      assert.ok(drift.current.dataset.driftedFeatures.includes(name), `${name} drifts: ${drift.current.dataset.driftedFeatures.join(', ')}`);
    }
    // three features of thirty: named, but under the dataset share (0.5) at which the dataset drifts
    assert.equal(drift.current.dataset.drifted, false);

    const cli = await runCli(['--server', s.url, 'drift', 'report', 'breast-cancer'], { env: ADMIN_ENV });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^Endpoint breast-cancer — breast-cancer:1$/m);
    assert.match(cli.stdout, /^mean radius +numeric +ks .* DRIFT$/m);
  });

  test('a version without a reference profile is a 404 that says how to make one', async () => {
    const r = await s.call('GET', '/api/v1/endpoints/digits/drift');
    assert.equal(r.status, 404, JSON.stringify(r.json));
    assert.equal(r.json.code, 'MONITORING_DRIFT_NO_PROFILE');
    assert.match(String(r.json.error), /slipway profile digits:1/);
    const bad = await s.call('GET', '/api/v1/endpoints/digits/drift?version=zero');
    assert.equal(bad.status, 400, JSON.stringify(bad.json));
  });
});

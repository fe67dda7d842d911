/**
 * Reference profiles on the real server started with the example models: profile breast-cancer
 * version 1 from its held-out rows (a classifier: categorical predictions) and bike-sharing from its
 * reference rows (a regressor: numeric predictions), through the same routes and client the CLI
 * uses; the version's own endpoint keeps serving meanwhile.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createProfileClient } from '../../src/monitoring/profiles/client.js';
import type { CategoricalFeatureProfile, NumericFeatureProfile, ReferenceProfile } from '../../src/monitoring/profiles/index.js';
import { startTestServer, type TestServer, adminHeaders, TEST_ADMIN_KEY } from '../support/server.js';

const examplesDir = fileURLToPath(new URL('../../examples/models/', import.meta.url));

let s: TestServer;
before(async () => {
  s = await startTestServer({ examples: true });
});
after(async () => {
  await s.stop();
});

async function putCsv(path: string, text: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(s.url + path, { method: 'PUT', headers: adminHeaders({ 'content-type': 'text/csv' }), body: text });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

void test('profiles breast-cancer version 1 from its test rows: 30 named features and the predicted classes', async () => {
  const csv = await readFile(`${examplesDir}breast-cancer/test.csv`, 'utf8');
  const featureNames = JSON.parse(await readFile(`${examplesDir}breast-cancer/feature-names.json`, 'utf8')) as string[];
  const r = await putCsv('/api/v1/models/breast-cancer/versions/1/profile?target=target&source=test.csv', csv);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const profile = r.json.profile as ReferenceProfile;
  assert.equal(profile.rows, 113);
  assert.equal(profile.features.length, 30);
  assert.deepEqual(profile.features.map((f) => f.name), featureNames);
  for (const f of profile.features) {
    assert.equal(f.kind, 'numeric', f.name);
    assert.equal(f.count + f.missing, 113, f.name);
    const n = f;
    assert.equal(n.histogram.counts.reduce((a, b) => a + b, 0), n.count, `${f.name}: every value in a bin`);
    assert.ok(n.min <= n.quantiles[3]! && n.quantiles[3]! <= n.max, f.name);
  }
  const radius = profile.features[0] as NumericFeatureProfile;
  const column = csv.trim().split('\n').slice(1).map((line) => Number(line.split(',')[0]));
  assert.equal(radius.min, Math.min(...column));
  assert.equal(radius.max, Math.max(...column));

  // the label output holds the class index; the test rows hold both classes
  const predictions = profile.predictions as CategoricalFeatureProfile;
  assert.equal(predictions.kind, 'categorical');
  assert.equal(predictions.name, 'label');
  assert.deepEqual(Object.keys(predictions.frequencies).sort(), ['0', '1']);
  assert.equal(predictions.count, 113);
  // held-out accuracy is 0.99 (metrics.json): the predicted classes follow the true ones closely
  const benign = csv.trim().split('\n').slice(1).filter((line) => line.endsWith(',1')).length;
  assert.ok(Math.abs((predictions.frequencies['1'] ?? 0) - benign) <= 3, `predicted benign ${predictions.frequencies['1']}, true ${benign}`);

  const stored = await s.call('GET', '/api/v1/models/breast-cancer/versions/1/profile');
  assert.equal(stored.status, 200);
  assert.deepEqual(stored.json.profile, profile);

  // the endpoint that serves version 1 answered throughout and still does
  const request = JSON.parse(await readFile(`${examplesDir}breast-cancer/request.json`, 'utf8')) as unknown;
  const infer = await s.call('POST', '/v2/models/breast-cancer/infer', request);
  assert.equal(infer.status, 200, JSON.stringify(infer.json));
});

void test('profiles the bike-sharing regressor with a numeric prediction distribution', async () => {
  const client = createProfileClient({ baseUrl: s.url, apiKey: TEST_ADMIN_KEY });
  const { profile } = await client.computeProfile('bike-sharing', 1, `${examplesDir}bike-sharing/reference.csv`, { target: 'cnt', source: 'reference.csv' });
  assert.equal(profile.rows, 500);
  assert.equal(profile.features.length, 11);
  const predictions = profile.predictions as NumericFeatureProfile;
  assert.equal(predictions.kind, 'numeric');
  assert.equal(predictions.count, 500);
  assert.ok(predictions.min < predictions.mean && predictions.mean < predictions.max, JSON.stringify({ min: predictions.min, mean: predictions.mean, max: predictions.max }));
  assert.equal(predictions.histogram.counts.reduce((a, b) => a + b, 0), 500);
});

void test('names the unknown columns and missing features of a file that does not fit the model', async () => {
  const r = await putCsv('/api/v1/models/breast-cancer/versions/1/profile', 'mean radius,colour\n1,2\n');
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'MONITORING_PROFILE_COLUMNS_MISMATCH');
  assert.match(String(r.json.error), /a column the model does not take: "colour".*lacks features "mean texture", "mean perimeter"/);
  const missing = await s.call('GET', '/api/v1/models/breast-cancer/versions/9/profile');
  assert.equal(missing.status, 404);
  assert.equal(missing.json.code, 'MONITORING_PROFILE_NOT_FOUND');
});

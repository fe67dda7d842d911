/** The profile routes over HTTP (stand-in runtime, memory store) and their typed client. */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { PlatformError } from '../../../../src/core/index.js';
import { profileApi } from '../../../../src/monitoring/profiles/api.js';
import { createProfileClient } from '../../../../src/monitoring/profiles/client.js';
import type { CategoricalFeatureProfile, ProfileService, ReferenceProfile } from '../../../../src/monitoring/profiles/index.js';
import { request } from '../../control/harness.js';
import { startProfileHarness, type ProfileHarness } from './harness.js';

let h: ProfileHarness;
before(async () => {
  h = await startProfileHarness({ maxUploadBytes: 4096 });
  await h.registry.pushVersion({ model: 'adder', artifactPath: h.modelFile(1) }, { by: 'test' });
});
after(async () => {
  await h.close();
});

const ROUTE = '/api/v1/models/adder/versions/1/profile';
const CSV = 'a,b,label,c,d\n1,2,yes,3,4\n8,7,no,6,5\n0,9,no,1,1\n';

function uploads(): string[] {
  try {
    return readdirSync(h.profileUploadDir);
  } catch {
    return [];
  }
}

void describe('PUT /models/{model}/versions/{version}/profile', () => {
  void test('computes the profile from a CSV body and answers with it, leaving no file behind', async () => {
    const r = await request(h.url, 'PUT', `${ROUTE}?target=label&source=rows.csv`, { body: CSV, headers: { 'content-type': 'text/csv' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const profile = r.body.profile as ReferenceProfile;
    assert.equal(profile.model, 'adder');
    assert.equal(profile.version, 1);
    assert.equal(profile.rows, 3);
    assert.equal(profile.source, 'rows.csv');
    assert.equal(profile.createdBy, 'anonymous');
    assert.deepEqual(profile.features.map((f) => f.name), ['a', 'b', 'c', 'd']);
    // y = x + 1 has no label output: the prediction is y's argmax (column of the largest value)
    const predictions = profile.predictions as CategoricalFeatureProfile;
    assert.equal(predictions.name, 'y');
    assert.deepEqual(predictions.frequencies, { 3: 1, 0: 1, 1: 1 });
    assert.deepEqual(uploads(), []);
  });

  void test('refuses a JSON or multipart body, naming the form it takes', async () => {
    const r = await request(h.url, 'PUT', ROUTE, { json: { rows: [] } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'HTTP_UNSUPPORTED_MEDIA_TYPE');
    assert.match(String(r.body.error), /the CSV file itself as the body \(Content-Type: text\/csv\)/);
  });

  void test('refuses columns that do not fit the inputs with 400, hinting at the label', async () => {
    const r = await request(h.url, 'PUT', ROUTE, { body: CSV, headers: { 'content-type': 'text/csv' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'MONITORING_PROFILE_COLUMNS_MISMATCH');
    assert.match(String(r.body.error), /take 4 values per row .* the data has 5 columns — is one of them the label\?/);
    assert.deepEqual(uploads(), []);
  });

  void test('refuses an empty body, an unknown query parameter and a malformed version', async () => {
    const empty = await request(h.url, 'PUT', ROUTE, { body: '', headers: { 'content-type': 'text/csv' } });
    assert.deepEqual([empty.status, empty.body.code], [400, 'MONITORING_PROFILE_INVALID_DATA']);
    const query = await request(h.url, 'PUT', `${ROUTE}?label=x&target=a&target=b`, { body: CSV, headers: { 'content-type': 'text/csv' } });
    assert.deepEqual([query.status, query.body.code], [400, 'MONITORING_PROFILE_INVALID_QUERY']);
    assert.match(String(query.body.error), /label: unknown query parameter.*target: is given 2 times/);
    const version = await request(h.url, 'PUT', '/api/v1/models/adder/versions/one/profile', { body: CSV, headers: { 'content-type': 'text/csv' } });
    assert.deepEqual([version.status, version.body.code], [400, 'CONTROL_INVALID_PARAM']);
  });

  void test('answers 404 for a version the registry does not have', async () => {
    const r = await request(h.url, 'PUT', '/api/v1/models/adder/versions/7/profile?target=label', { body: CSV, headers: { 'content-type': 'text/csv' } });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'REGISTRY_VERSION_NOT_FOUND');
  });

  void test('refuses a body over the upload limit with 413, declared or streamed', async () => {
    const big = `a,b,c,d\n${'1,2,3,4\n'.repeat(1000)}`;
    const declared = await request(h.url, 'PUT', ROUTE, { body: big, headers: { 'content-type': 'text/csv' } });
    assert.deepEqual([declared.status, declared.body.code], [413, 'MONITORING_PROFILE_TOO_LARGE']);
    assert.match(String(declared.body.error), /declares 7\.8 KiB \(8008 bytes\), more than the server accepts: 4\.0 KiB \(4096 bytes\)/);
    const chunks = new TextEncoder().encode(big);
    const streamed = await fetch(h.url + ROUTE, {
      method: 'PUT',
      headers: { 'content-type': 'text/csv' },
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < chunks.length; at += 1000) controller.enqueue(chunks.slice(at, at + 1000));
          controller.close();
        },
      }),
      duplex: 'half',
    });
    const body = (await streamed.json()) as { code: string };
    assert.deepEqual([streamed.status, body.code], [413, 'MONITORING_PROFILE_TOO_LARGE']);
    assert.deepEqual(uploads(), []);
  });
});

void describe('GET and DELETE', () => {
  void test('reads the stored profile, deletes it, then answers 404', async () => {
    const put = await request(h.url, 'PUT', `${ROUTE}?target=label`, { body: CSV, headers: { 'content-type': 'text/csv' } });
    assert.equal(put.status, 200);
    const got = await request(h.url, 'GET', ROUTE);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.profile, put.body.profile);
    const deleted = await request(h.url, 'DELETE', ROUTE);
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.body, { profile: put.body.profile, deleted: true });
    const gone = await request(h.url, 'GET', ROUTE);
    assert.deepEqual([gone.status, gone.body.code], [404, 'MONITORING_PROFILE_NOT_FOUND']);
  });
});

void describe('permissions', () => {
  void test('PUT and DELETE need models:write, GET models:read', async () => {
    const app = Fastify();
    const routes: string[] = [];
    app.addHook('onRoute', (route) => {
      routes.push(`${String(route.method)} ${route.url} ${String((route.config as { permission?: string } | undefined)?.permission)}`);
    });
    await app.register(profileApi({ service: {} as ProfileService, uploadDir: '/nonexistent', maxUploadBytes: 1 }), { prefix: '/api/v1' });
    await app.ready();
    const path = '/api/v1/models/:model/versions/:version/profile';
    assert.deepEqual(routes.filter((r) => !r.startsWith('HEAD')).sort(), [`DELETE ${path} models:write`, `GET ${path} models:read`, `PUT ${path} models:write`]);
    await app.close();
  });
});

void describe('the profile client', () => {
  void test('uploads a file, reads and deletes the profile, and fails with the server’s codes', async () => {
    const client = createProfileClient({ baseUrl: h.url });
    const file = join(h.dir, 'ref.csv');
    writeFileSync(file, CSV);
    const { profile } = await client.computeProfile('adder', 1, file, { target: 'label', source: 'ref.csv' });
    assert.equal(profile.rows, 3);
    assert.equal(profile.source, 'ref.csv');
    assert.deepEqual((await client.getProfile('adder', 1)).profile, profile);
    assert.equal((await client.deleteProfile('adder', 1)).deleted, true);
    await assert.rejects(client.getProfile('adder', 1), (e: unknown) => e instanceof PlatformError && e.code === 'MONITORING_PROFILE_NOT_FOUND' && e.kind === 'not_found');
    await assert.rejects(client.computeProfile('adder', 1, join(h.dir, 'missing.csv')), (e: unknown) => e instanceof PlatformError && e.code === 'CONTROL_CLIENT_FILE_NOT_FOUND');
  });
});

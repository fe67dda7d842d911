/**
 * The fixture-model corpus served end to end: every runnable fixture (every datatype, several
 * inputs and outputs, fixed and dynamic dims, a sequence dimension, opsets 13–21, ai.onnx.ml) is
 * registered over the control API, deployed, and called over the Open Inference Protocol; the JSON
 * outputs are compared with values computed in plain TypeScript, never by onnxruntime. Models
 * registration must refuse are refused with the right code and leave nothing behind.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureFixtures, fixturePath, type FixtureCase, type FixtureEntry, type FixtureManifest } from '../fixtures/corpus.js';
import { startTestServer, type TestServer, adminHeaders } from '../support/server.js';

let s: TestServer;
let manifest: FixtureManifest;

before(async () => {
  manifest = await ensureFixtures();
  s = await startTestServer();
});
after(async () => s.stop());

function endpointName(fixtureName: string): string {
  return fixtureName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
}

interface JsonOutput {
  name: string;
  datatype: string;
  shape: number[];
  data: (number | boolean | string | null)[];
}

function compareJson(outputs: JsonOutput[], c: FixtureCase): string[] {
  const problems: string[] = [];
  for (const e of c.expected) {
    const a = outputs.find((o) => o.name === e.name);
    if (a === undefined) {
      problems.push(`output ${e.name} missing`);
      continue;
    }
    if (a.datatype !== e.datatype) problems.push(`${e.name}: datatype ${a.datatype}, expected ${e.datatype}`);
    if (a.shape.join(',') !== e.shape.join(',')) problems.push(`${e.name}: shape [${a.shape.join(', ')}], expected [${e.shape.join(', ')}]`);
    if (a.data.length !== e.data.length) {
      problems.push(`${e.name}: ${a.data.length} values, expected ${e.data.length}`);
      continue;
    }
    const float = e.datatype === 'FP16' || e.datatype === 'FP32' || e.datatype === 'FP64';
    e.data.forEach((want, k) => {
      const got = a.data[k];
      const ok = float && typeof got === 'number' && typeof want === 'number' ? Math.abs(got - want) <= c.tolerance.abs + c.tolerance.rel * Math.abs(want) : got === want;
      if (!ok && problems.length < 10) problems.push(`${e.name}[${k}]: ${String(got)}, expected ${String(want)}`);
    });
  }
  if (outputs.length !== c.expected.length) problems.push(`${outputs.length} outputs, expected ${c.expected.length}`);
  return problems;
}

async function serveAndCheck(entry: FixtureEntry): Promise<string[]> {
  const name = endpointName(entry.name);
  const version = await s.push(name, readFileSync(fixturePath(entry)));
  await s.deploy(name, name, version);
  const problems: string[] = [];
  for (const c of entry.cases) {
    const r = await s.call('POST', `/v2/models/${name}/infer`, { id: c.name, inputs: c.inputs });
    if (r.status !== 200) {
      problems.push(`case ${c.name}: ${r.status} ${JSON.stringify(r.json)}`);
      continue;
    }
    assert.equal(r.json.id, c.name);
    problems.push(...compareJson(r.json.outputs as JsonOutput[], c).map((p) => `case ${c.name}: ${p}`));
  }
  // free the replicas before the next batch of fixtures
  const del = await s.call('DELETE', `/api/v1/endpoints/${name}`);
  assert.equal(del.status, 200, JSON.stringify(del.json));
  return problems;
}

describe('fixture corpus over HTTP', () => {
  test('every runnable fixture answers its cases with the independently computed outputs', async () => {
    const runnable = manifest.fixtures.filter((f) => f.kind === 'runnable');
    assert.ok(runnable.length >= 30, `the corpus has ${runnable.length} runnable fixtures`);
    const datatypes = new Set(runnable.flatMap((f) => f.cases.flatMap((c) => c.inputs.map((i) => i.datatype))));
    for (const dt of ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES']) {
      assert.ok(datatypes.has(dt as never), `no runnable fixture takes ${dt}`);
    }
    const failures: string[] = [];
    // a few at a time: each deploy starts a worker thread with an onnxruntime session
    for (let i = 0; i < runnable.length; i += 4) {
      const batch = runnable.slice(i, i + 4);
      const results = await Promise.all(batch.map(async (f) => ({ f, problems: await serveAndCheck(f) })));
      for (const { f, problems } of results) if (problems.length > 0) failures.push(`${f.name}: ${problems.join('; ')}`);
    }
    assert.deepEqual(failures, []);
  });

  test('registration refuses models it cannot serve, naming why, and writes nothing', async () => {
    const expectations: Record<string, { status: number; codes: string[]; message: (f: FixtureEntry) => RegExp }> = {
      'non-tensor-output': { status: 400, codes: ['ONNX_UNSUPPORTED_SIGNATURE', 'RUNTIME_UNSUPPORTED_MODEL'], message: (f) => new RegExp(`output '?"?${f.refusal?.output ?? ''}`) },
      unloadable: { status: 400, codes: ['RUNTIME_LOAD_FAILED'], message: () => /onnxruntime could not create a session/ },
      'not-onnx': { status: 400, codes: ['ONNX_INVALID_MODEL'], message: () => /not an ONNX model/ },
    };
    const refused = manifest.fixtures.filter((f) => f.kind !== 'runnable');
    assert.ok(refused.length >= 3);
    for (const f of refused) {
      const want = expectations[f.kind];
      assert.ok(want, `no expectation for ${f.kind}`);
      const name = endpointName(f.name);
      const res = await fetch(`${s.url}/api/v1/models/${name}/versions`, {
        method: 'POST',
        headers: adminHeaders({ 'content-type': 'application/octet-stream' }),
        body: readFileSync(fixturePath(f)),
      });
      const body = (await res.json()) as { error: string; code: string };
      assert.equal(res.status, want.status, `${f.name}: ${JSON.stringify(body)}`);
      assert.ok(want.codes.includes(body.code), `${f.name}: code ${body.code}`);
      assert.match(body.error, want.message(f), `${f.name}: ${body.error}`);
      const model = await s.call('GET', `/api/v1/models/${name}`);
      assert.equal(model.status, 404, `${f.name}: a refused push must not create the model`);
    }
    assert.deepEqual(readdirSync(join(s.dataDir, 'tmp')), [], 'refused uploads leave no temporary files');
  });
});

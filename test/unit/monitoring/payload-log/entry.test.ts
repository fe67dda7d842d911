import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildEntry, cutUtf8, encodeBody, metadataLine } from '../../../../src/monitoring/payload-log/entry.js';
import { createRedactor, WITHHELD_NOT_JSON } from '../../../../src/monitoring/payload-log/index.js';
import { capture } from './helpers.js';

const none = createRedactor([]);

describe('payload entries', () => {
  test('a body over maxBytes is cut, flagged, and the line is still one valid JSON document', () => {
    const big = JSON.stringify({ inputs: [{ name: 'x', data: Array.from({ length: 5000 }, (_, i) => i) }] });
    const entry = buildEntry(capture({ requestBody: big }), 1, true, none, 1024);
    assert.deepEqual(entry.truncated, { request: true });
    assert.equal(typeof entry.request, 'string');
    assert.equal(Buffer.byteLength(entry.request as string), 1024);
    assert.ok(big.startsWith(entry.request as string));
    const line = JSON.stringify(entry);
    assert.ok(!line.includes('\n'));
    assert.deepEqual(JSON.parse(line), entry);
    // the response was small: kept whole, parsed
    assert.equal(typeof entry.response, 'object');
  });

  test('a body is redacted before it is cut, so a cut body never shows a redacted value', () => {
    const body = JSON.stringify({ parameters: { ssn: '123-45-6789' }, pad: 'x'.repeat(4000) });
    const r = createRedactor([{ path: 'parameters.ssn', action: 'mask', in: 'both' }]);
    const encoded = encodeBody(body, 'request', r, 200);
    assert.equal(encoded.truncated, true);
    assert.ok(!(encoded.value as string).includes('123-45-6789'));
    assert.equal(encoded.redacted, 1);
  });

  test('cutting never splits a character', () => {
    assert.equal(cutUtf8('aé€😀', 1), 'a');
    assert.equal(cutUtf8('aé€😀', 2), 'a');
    assert.equal(cutUtf8('aé€😀', 3), 'aé');
    assert.equal(cutUtf8('aé€😀', 9), 'aé€');
    assert.equal(cutUtf8('aé€😀', 10), 'aé€😀');
  });

  test('a body that is not JSON is kept as text without rules, and withheld with them', () => {
    assert.deepEqual(encodeBody('{"inputs": [', 'request', none, 1024), { value: '{"inputs": [', truncated: false, redacted: 0 });
    const r = createRedactor([{ path: 'a', action: 'mask', in: 'both' }]);
    assert.deepEqual(encodeBody('ssn=123-45-6789', 'request', r, 1024), { value: WITHHELD_NOT_JSON, truncated: false, redacted: 1 });
  });

  test('without bodies an entry is metadata only', () => {
    const entry = buildEntry(capture({ status: 503 }), 7, false, none, 1024);
    assert.equal(entry.request, undefined);
    assert.equal(entry.response, undefined);
    assert.equal(entry.status, 503);
    assert.equal(entry.at, 7);
  });
});

describe('metadataLine', () => {
  test('writes exactly JSON.stringify of the metadata-only entry and a newline', () => {
    const names = ['fraud', 'with "quote"', 'ünï\n', ''];
    let k = 0;
    for (const endpoint of names) {
      for (const model of [null, 'm', 'odd "m"']) {
        for (const version of [null, 1, 12]) {
          for (const variant of [null, 'stable', 'shadow']) {
            for (const latencyMs of [0, 1.234, 12345.678, 0.001]) {
              const c = capture({ endpoint, model, version, variant, latencyMs, status: [200, 400, 503][k % 3] as number, requestId: `id-${k++} "x"`, path: `/v2/models/${endpoint}/infer` });
              const entry = buildEntry(c, 1_764_000_000_000 + k, false, none, 1024);
              assert.equal(metadataLine(c, 1_764_000_000_000 + k), `${JSON.stringify(entry)}\n`);
            }
          }
        }
      }
    }
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { createRedactor, parseRedactionPath, REDACTED, type JsonValue, type RedactionRule } from '../../../../src/monitoring/payload-log/index.js';

const rule = (path: string, action: RedactionRule['action'] = 'mask', target: RedactionRule['in'] = 'both'): RedactionRule => ({ path, action, in: target });

function run(rules: RedactionRule[], body: unknown, which: 'request' | 'response' = 'request', salt = 'pepper'): { value: JsonValue; count: number } {
  const value = structuredClone(body) as JsonValue;
  const count = createRedactor(rules, salt).apply(value, which);
  return { value, count };
}

const oip = () => ({
  inputs: [
    { name: 'ssn', datatype: 'BYTES', shape: [1], data: ['123-45-6789'] },
    { name: 'amount', datatype: 'FP32', shape: [1], data: [42] },
  ],
  parameters: { user_id: 'u-17', trace: 't' },
  outputs: [
    { name: 'score', data: [0.9] },
    { name: 'label', data: ['fraud'] },
  ],
});

describe('redaction rules', () => {
  test('mask replaces a tensor chosen by name, and nothing else', () => {
    const { value, count } = run([rule('inputs[name=ssn].data')], oip());
    const v = value as ReturnType<typeof oip>;
    assert.equal(v.inputs[0]?.data, REDACTED);
    assert.deepEqual(v.inputs[1]?.data, [42]);
    assert.equal(count, 1);
  });

  test('drop removes a key, and an array element chosen by a selector', () => {
    const dropKey = run([rule('parameters.user_id', 'drop')], oip()).value as ReturnType<typeof oip>;
    assert.deepEqual(dropKey.parameters, { trace: 't' });
    const dropTensor = run([rule('inputs[name=ssn]', 'drop')], oip()).value as ReturnType<typeof oip>;
    assert.deepEqual(
      dropTensor.inputs.map((t) => t.name),
      ['amount'],
    );
  });

  test('hash keeps equal values joinable: the hex SHA-256 of the salt and the JSON text', () => {
    const a = run([rule('parameters.user_id', 'hash')], oip()).value as { parameters: { user_id: string } };
    const b = run([rule('parameters.user_id', 'hash')], oip()).value as { parameters: { user_id: string } };
    const expected = createHash('sha256').update('pepper').update('"u-17"').digest('hex');
    assert.equal(a.parameters.user_id, expected);
    assert.equal(b.parameters.user_id, a.parameters.user_id);
    const other = run([rule('parameters.user_id', 'hash')], oip(), 'request', 'other-salt').value as { parameters: { user_id: string } };
    assert.notEqual(other.parameters.user_id, expected);
  });

  test('[*] and * reach every element; ** reaches any depth', () => {
    const all = run([rule('outputs[*].data')], oip()).value as ReturnType<typeof oip>;
    assert.deepEqual(
      all.outputs.map((o) => o.data as unknown),
      [REDACTED, REDACTED],
    );
    const star = run([rule('*.password')], { a: { password: 'x' }, b: { password: 'y', c: { password: 'deep' } }, password: 'top' }).value;
    assert.deepEqual(star, { a: { password: REDACTED }, b: { password: REDACTED, c: { password: 'deep' } }, password: 'top' });
    const deep = run([rule('**.password')], { password: 'top', b: { c: [{ password: 'deep' }] } });
    assert.deepEqual(deep.value, { password: REDACTED, b: { c: [{ password: REDACTED }] } });
    assert.equal(deep.count, 2);
  });

  test('an index selects one element', () => {
    const { value } = run([rule('inputs[1].data')], oip());
    assert.equal((value as ReturnType<typeof oip>).inputs[1]?.data, REDACTED);
    assert.deepEqual((value as ReturnType<typeof oip>).inputs[0]?.data, ['123-45-6789']);
  });

  test('a rule for requests leaves responses alone', () => {
    const onlyRequest = [rule('outputs[*].data', 'mask', 'request')];
    assert.equal(run(onlyRequest, oip(), 'response').count, 0);
    assert.equal(run(onlyRequest, oip(), 'request').count, 2);
  });

  test('dropping several elements of one array removes exactly those', () => {
    const body = { inputs: [{ name: 'a' }, { name: 'ssn' }, { name: 'b' }, { name: 'ssn' }] };
    const { value, count } = run([rule('inputs[name=ssn]', 'drop')], body);
    assert.deepEqual(value, { inputs: [{ name: 'a' }, { name: 'b' }] });
    assert.equal(count, 2);
  });

  test('a key named __proto__ is redacted like any other', () => {
    const body = JSON.parse('{"parameters":{"__proto__":"secret"}}') as JsonValue;
    const count = createRedactor([rule('parameters.__proto__')]).apply(body, 'request');
    assert.equal(count, 1);
    assert.ok(!JSON.stringify(body).includes('secret'));
  });

  test('paths that are not paths are refused with the position', () => {
    for (const bad of ['', 'a..b', 'a.', 'in[puts', 'inputs[x]', 'a*b', '**', 'a]']) {
      assert.ok('error' in parseRedactionPath(bad), bad);
    }
    assert.deepEqual(parseRedactionPath('inputs[name=input_1:0].data'), {
      steps: [
        { kind: 'key', key: 'inputs' },
        { kind: 'where', key: 'name', value: 'input_1:0' },
        { kind: 'key', key: 'data' },
      ],
    });
  });
});

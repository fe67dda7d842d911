import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DATATYPES, PlatformError } from '../../../src/core/index.js';
import { datatypeOfOrtType, ORT_TYPE_BY_DATATYPE, signatureFromOrt } from '../../../src/runtime/index.js';

describe('signature from onnxruntime metadata', () => {
  test('maps every protocol datatype to an onnxruntime type and back', () => {
    for (const datatype of DATATYPES) assert.equal(datatypeOfOrtType(ORT_TYPE_BY_DATATYPE[datatype]), datatype);
    assert.equal(datatypeOfOrtType('int4'), undefined);
  });

  test('marks symbolic and unnamed dimensions -1 and keeps their names', () => {
    const signature = signatureFromOrt(
      {
        inputs: [
          { name: 'x', isTensor: true, type: 'float32', shape: ['batch', '', 3] },
          { name: 'k', isTensor: true, type: 'int64', shape: [1] },
        ],
        outputs: [{ name: 'y', isTensor: true, type: 'string', shape: ['batch'] }],
      },
      'm:1',
    );
    assert.deepEqual(signature, {
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [-1, -1, 3], dimNames: ['batch', null, null] },
        { name: 'k', datatype: 'INT64', shape: [1] },
      ],
      outputs: [{ name: 'y', datatype: 'BYTES', shape: [-1], dimNames: ['batch'] }],
    });
  });

  test('refuses a non-tensor output, naming it', () => {
    assert.throws(
      () =>
        signatureFromOrt(
          { inputs: [{ name: 'x', isTensor: true, type: 'float32', shape: [1] }], outputs: [{ name: 'output_probability', isTensor: false }] },
          'clf:2',
        ),
      (e: unknown) => {
        assert.ok(e instanceof PlatformError);
        assert.equal(e.code, 'RUNTIME_UNSUPPORTED_MODEL');
        assert.equal(e.kind, 'invalid');
        assert.match(e.message, /clf:2: output "output_probability" is not a tensor/);
        assert.deepEqual(e.details, { output: 'output_probability', reason: 'non-tensor' });
        return true;
      },
    );
  });

  test('refuses an element type the protocol cannot carry', () => {
    assert.throws(
      () => signatureFromOrt({ inputs: [{ name: 'q', isTensor: true, type: 'int4', shape: [2] }], outputs: [] }, 'q:1'),
      (e: unknown) => e instanceof PlatformError && e.code === 'RUNTIME_UNSUPPORTED_MODEL' && /input "q" has element type int4/.test(e.message),
    );
  });
});

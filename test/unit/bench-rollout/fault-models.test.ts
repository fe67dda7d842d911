import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { faultModel, tableSizeFor } from '../../../bench/rollout/fault-models.js';

const WIDTH = 8;

async function sessionOf(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/** Runs x through the session: the answer, or the error onnxruntime gave. */
async function answer(session: ort.InferenceSession, xs: readonly number[]): Promise<{ y: number[] } | { error: string }> {
  try {
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(xs), [xs.length, 1]) });
    const y = out.y;
    if (y === undefined) throw new Error('no output y');
    assert.deepEqual(y.dims, [xs.length, 1]);
    return { y: Array.from(y.data as Float32Array) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

describe('fault models', () => {
  test('a table of 99 rows answers every x below 99 and fails every x from 99 on', async () => {
    for (const rounds of [0, 3]) {
      const session = await sessionOf(faultModel({ tableSize: 99, rounds, width: WIDTH }));
      try {
        for (const x of [0, 0.5, 42.7, 98, 98.999]) {
          const r = await answer(session, [x]);
          assert.ok('y' in r, `x = ${x} (rounds ${rounds}) failed: ${'error' in r ? r.error : ''}`);
          // the row sum is ⌊x⌋ / width: the gathered row, unchanged by the identity MatMuls
          assert.ok(Math.abs((r.y[0] ?? NaN) - Math.floor(x) / WIDTH) < 1e-6, `x = ${x}: ${r.y[0]}`);
        }
        for (const x of [99, 99.2, 99.999]) {
          const r = await answer(session, [x]);
          assert.ok('error' in r, `x = ${x} (rounds ${rounds}) was answered`);
          assert.match(r.error, /out of (data )?bounds|indices/i);
        }
      } finally {
        await session.release();
      }
    }
  });

  test('a table of 97 rows fails from 97 on, so uniform x in [0, 100) fails 3 % instead of 1 %', async () => {
    const session = await sessionOf(faultModel({ tableSize: 97, rounds: 1, width: WIDTH }));
    try {
      assert.ok('y' in (await answer(session, [96.9])));
      assert.ok('error' in (await answer(session, [97])));
      assert.ok('error' in (await answer(session, [98.5])));
      let failures = 0;
      // every hundredth of [0, 100): exactly the share the table leaves out
      for (let i = 0; i < 100; i++) if ('error' in (await answer(session, [i + 0.5]))) failures++;
      assert.equal(failures, 3);
    } finally {
      await session.release();
    }
  });

  test('the tag changes the bytes but not the answers', async () => {
    const plain = faultModel({ tableSize: 99, rounds: 2, width: WIDTH });
    const tagged = faultModel({ tableSize: 99, rounds: 2, width: WIDTH, tag: 1 });
    assert.notDeepEqual(Buffer.from(plain), Buffer.from(tagged));
    const a = await sessionOf(plain);
    const b = await sessionOf(tagged);
    try {
      const xs = [0, 12.5, 50, 98.4];
      assert.deepEqual(await answer(a, xs), await answer(b, xs));
    } finally {
      await a.release();
      await b.release();
    }
  });

  test('more rounds mean more MatMul nodes and the same answers', async () => {
    const few = faultModel({ tableSize: 99, rounds: 2, width: WIDTH });
    const many = faultModel({ tableSize: 99, rounds: 3, width: WIDTH });
    assert.ok(many.byteLength > few.byteLength);
    const a = await sessionOf(few);
    const b = await sessionOf(many);
    try {
      assert.deepEqual(await answer(a, [7.5, 64]), await answer(b, [7.5, 64]));
    } finally {
      await a.release();
      await b.release();
    }
  });

  test('the table size for an error rate leaves that share of [0, 100) out, and refuses what cannot be a table', () => {
    assert.equal(tableSizeFor(0.01), 99);
    assert.equal(tableSizeFor(0.03), 97);
    assert.equal(tableSizeFor(0), 100);
    assert.throws(() => tableSizeFor(0.015), /whole number of percent/);
    assert.throws(() => tableSizeFor(1), /whole number of percent/);
    assert.throws(() => faultModel({ tableSize: 0, rounds: 0, width: 1 }), /tableSize/);
    assert.throws(() => faultModel({ tableSize: 99, rounds: -1, width: 1 }), /rounds/);
  });
});

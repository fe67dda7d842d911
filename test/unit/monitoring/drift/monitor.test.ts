import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock, float32ToFloat16Bits, type Tensor } from '../../../../src/core/index.js';
import { createDriftMonitor } from '../../../../src/monitoring/drift/index.js';
import { createSeededRandom } from '../../../../src/stats/index.js';
import { makeProfile, normals, numericProfile } from './fixtures.js';

const random = createSeededRandom(7);
const profile = makeProfile([
  { ...numericProfile('a', normals(2000, random)), input: 'x', column: 0 },
  { ...numericProfile('b', normals(2000, random)), input: 'x', column: 1 },
]);

/** A request of `rows` rows of x [rows, 2]: column a shifted by `shift`. */
function request(rows: number, shift: number): Tensor[] {
  const a = normals(rows, random, shift);
  const b = normals(rows, random);
  const data = new Float32Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    data[r * 2] = a[r] ?? 0;
    data[r * 2 + 1] = b[r] ?? 0;
  }
  return [{ name: 'x', datatype: 'FP32', shape: [rows, 2], data }];
}

describe('drift monitor', () => {
  test('a version without a profile is not observed and reports MONITORING_DRIFT_NO_PROFILE; a profile stored later is used from the next request', async () => {
    let lookups = 0;
    const monitor = createDriftMonitor({
      profile: async () => {
        lookups++;
        return undefined;
      },
      clock: createFakeClock(0),
    });
    monitor.observe('fraud', 'm', 1, request(10, 0), []);
    await assert.rejects(monitor.report('fraud', 'm', 1), (e: { code?: string }) => e.code === 'MONITORING_DRIFT_NO_PROFILE');
    monitor.profileChanged('m', 1, profile);
    monitor.observe('fraud', 'm', 1, request(500, 0), []);
    const calm = await monitor.report('fraud', 'm', 1);
    assert.equal(calm.current.window.rows, 500);
    assert.deepEqual(calm.current.dataset.driftedFeatures, []);
    monitor.profileChanged('m', 1, profile); // a new profile starts the window afresh
    monitor.observe('fraud', 'm', 1, request(500, 1), []);
    const moved = await monitor.report('fraud', 'm', 1);
    assert.equal(moved.current.window.rows, 500);
    assert.deepEqual(moved.current.dataset.driftedFeatures, ['a']);
    assert.ok(lookups >= 1);
  });

  test('a request without the profiled input counts as missing values, and observing never throws', async () => {
    const monitor = createDriftMonitor({ profile: async () => profile, clock: createFakeClock(0) });
    monitor.profileChanged('m', 1, profile);
    assert.doesNotThrow(() => monitor.observe('fraud', 'm', 1, [{ name: 'other', datatype: 'FP32', shape: [3, 2], data: new Float32Array(6) }], []));
    assert.doesNotThrow(() => monitor.observe('fraud', 'm', 1, request(5, 0), []));
    assert.equal((await monitor.report('fraud', 'm', 1)).current.window.rows, 8, 'rows without the profiled input count as missing values');
  });

  test('a feature reads the same whatever typed array carries it: FP32, FP64, half-precision bit patterns or plain numbers', async () => {
    // values a half-precision float holds exactly
    const rows = 400;
    const values = Array.from({ length: rows * 2 }, (_, i) => (i % 2 === 0 ? 1 + ((i * 7) % 16) / 8 : ((i * 5) % 16) / 8 - 1));
    const carriers: Tensor[] = [
      { name: 'x', datatype: 'FP32', shape: [rows, 2], data: Float32Array.from(values) },
      { name: 'x', datatype: 'FP64', shape: [rows, 2], data: Float64Array.from(values) },
      { name: 'x', datatype: 'FP16', shape: [rows, 2], data: Uint16Array.from(values, (v) => float32ToFloat16Bits(v)) },
      // not a typed array: read value by value
      { name: 'x', datatype: 'FP64', shape: [rows, 2], data: values as unknown as Float64Array },
    ];
    const reports = [];
    for (const x of carriers) {
      const monitor = createDriftMonitor({ profile: async () => profile, clock: createFakeClock(0) });
      monitor.profileChanged('m', 1, profile);
      monitor.observe('fraud', 'm', 1, [x], []);
      reports.push(await monitor.report('fraud', 'm', 1));
    }
    assert.equal(reports[0]?.current.window.rows, rows);
    assert.deepEqual(reports[0]?.current.dataset.driftedFeatures, ['a', 'b'], 'discrete values unlike the normal reference: both drift');
    for (let k = 1; k < reports.length; k++) assert.deepEqual(reports[k]?.current.features, reports[0]?.current.features, `carrier ${carriers[k]?.datatype} #${k}`);
  });
});

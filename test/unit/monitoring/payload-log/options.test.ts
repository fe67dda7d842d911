import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlatformError } from '../../../../src/core/index.js';
import { compilePayloadLogOptions, PAYLOAD_LOG_DEFAULTS, PAYLOAD_LOG_OPTION_KEYS } from '../../../../src/monitoring/payload-log/index.js';

function problems(input: Record<string, unknown>): { path: string; message: string }[] {
  try {
    compilePayloadLogOptions(input, { path: 'monitoring.payloadLog', what: 'monitoring' });
  } catch (error) {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, 'CORE_INVALID_CONFIG');
    return error.details?.problems as { path: string; message: string }[];
  }
  assert.fail('expected a config error');
}

describe('payload log options', () => {
  test('defaults keep metadata of everything, 1 % of bodies and every error body, 64 KiB each, a week or 1 GiB', () => {
    const c = compilePayloadLogOptions(undefined);
    assert.equal(c.enabled, true);
    assert.equal(c.bodies.sampleRate, 0.01);
    assert.equal(c.bodies.errorSampleRate, 1);
    assert.equal(c.bodies.maxBytes, 64 * 1024);
    assert.equal(c.retention.maxAgeHours, 168);
    assert.equal(c.retention.maxBytes, 1024 ** 3);
    assert.equal(c.webhook, null);
    assert.deepEqual(c, PAYLOAD_LOG_DEFAULTS);
    assert.ok(Object.isFrozen(c.bodies));
  });

  test('compiling a compiled config again yields an equal one', () => {
    const c = compilePayloadLogOptions({
      bodies: { sampleRate: '0.5' },
      redact: ['parameters.user_id', { path: 'inputs[name=ssn].data', action: 'hash', in: 'request' }],
      hashSalt: 's3cret',
      webhook: { url: 'http://127.0.0.1:9/hook', headers: { Authorization: 'Bearer x' } },
    });
    assert.equal(c.bodies.sampleRate, 0.5);
    assert.deepEqual(c.redact[0], { path: 'parameters.user_id', action: 'mask', in: 'both' });
    assert.equal(c.webhook?.headers.authorization, 'Bearer x');
    assert.deepEqual(compilePayloadLogOptions(c as unknown as Record<string, unknown>), c);
  });

  test('a bad redaction rule is reported by its index with what was expected', () => {
    const p = problems({ redact: ['parameters.user_id', 'inputs[name=ssn.data', { path: 'a..b' }, { path: 'x', action: 'scramble' }, 42] });
    const paths = p.map((x) => x.path);
    assert.deepEqual(paths, ['monitoring.payloadLog.redact[1]', 'monitoring.payloadLog.redact[2].path', 'monitoring.payloadLog.redact[3].action', 'monitoring.payloadLog.redact[4]']);
    assert.match(p[0]?.message ?? '', /'\[' without its '\]'.*expected a path such as/);
    assert.match(p[2]?.message ?? '', /mask, drop, hash/);
  });

  test('a hash rule without a salt is refused, naming the rule', () => {
    const p = problems({ redact: ['a', { path: 'inputs[name=ssn].data', action: 'hash' }] });
    assert.equal(p[0]?.path, 'monitoring.payloadLog.redact[1]');
    assert.match(p[0]?.message ?? '', /hashSalt/);
  });

  test('every problem is reported at once, each by its path', () => {
    const p = problems({ bodies: { sampleRate: 2, maxBytes: 'lots' }, segmentMaxBytes: 10 * 1024 ** 3, retention: { maxAgeHours: 0 }, webhook: { batchSize: 0 }, colour: 'blue' });
    const paths = p.map((x) => x.path).sort();
    assert.deepEqual(paths, [
      'monitoring.payloadLog.bodies.maxBytes',
      'monitoring.payloadLog.bodies.sampleRate',
      'monitoring.payloadLog.colour',
      'monitoring.payloadLog.retention.maxAgeHours',
      'monitoring.payloadLog.segmentMaxBytes',
      'monitoring.payloadLog.webhook.batchSize',
      'monitoring.payloadLog.webhook.url',
    ]);
  });

  test('a webhook url must be http or https', () => {
    const p = problems({ webhook: { url: 'ftp://example.org/x' } });
    assert.equal(p[0]?.path, 'monitoring.payloadLog.webhook.url');
  });

  test('the option keys are the scalar keys, settable from the environment', () => {
    assert.ok(PAYLOAD_LOG_OPTION_KEYS.includes('bodies.sampleRate'));
    assert.ok(PAYLOAD_LOG_OPTION_KEYS.includes('retention.maxAgeHours'));
    assert.ok(PAYLOAD_LOG_OPTION_KEYS.includes('webhook.url'));
    assert.ok(!PAYLOAD_LOG_OPTION_KEYS.includes('redact'));
    assert.ok(!PAYLOAD_LOG_OPTION_KEYS.includes('webhook.headers'));
    // each key compiles from a string as an env var gives it
    const c = compilePayloadLogOptions({ enabled: 'false', bufferSize: '5', retention: { maxBytes: '8192' }, segmentMaxBytes: '4096' });
    assert.equal(c.enabled, false);
    assert.equal(c.bufferSize, 5);
  });
});

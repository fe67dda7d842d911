import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONFIG_KEYS, compileConfig, envNameFor, loadConfig } from '../../../src/app/config.js';
import { PlatformError } from '../../../src/core/index.js';

test('defaults follow DESIGN.md: 127.0.0.1:8080, 16 MiB bodies, 2 GiB uploads, ./.slipway', () => {
  const c = compileConfig({}, '/srv');
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.server.port, 8080);
  assert.equal(c.server.bodyLimitBytes, 16 * 1024 * 1024);
  assert.equal(c.server.uploadLimitBytes, 2048 * 1024 * 1024);
  assert.equal(c.dataDir, '/srv/.slipway');
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.serving));
});

test('reports every problem at once, each with its path', () => {
  try {
    compileConfig({ server: { port: 'eighty', hots: 'x' }, serving: { replicas: 0, warmup: 'maybe' }, log: { level: 'loud' } });
    assert.fail('expected an error');
  } catch (error) {
    assert.ok(error instanceof PlatformError);
    assert.equal(error.code, 'CORE_INVALID_CONFIG');
    for (const path of ['server.port', 'server.hots', 'serving.replicas', 'serving.warmup', 'log.level']) assert.match(error.message, new RegExp(`${path.replace('.', '\\.')}:`));
    assert.equal((error.details?.problems as unknown[]).length, 5);
  }
});

test('flags override environment variables, which override the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-config-'));
  const file = join(dir, 'slipway.yaml');
  writeFileSync(file, 'server:\n  port: 7000\n  host: 0.0.0.0\nserving:\n  replicas: 2\n');
  const c = loadConfig({ file, env: { SLIPWAY_PORT: '7001', SLIPWAY_SERVING_HOLD_TIMEOUT_MS: '5' }, overrides: { 'server.port': 7002 }, baseDir: dir });
  assert.equal(c.server.port, 7002);
  assert.equal(c.server.host, '0.0.0.0');
  assert.equal(c.serving.replicas, 2);
  assert.equal(c.serving.holdTimeoutMs, 5);
});

test('a config file that is not YAML, or not a mapping, is refused naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-config-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'server: [unclosed\n');
  assert.throws(() => loadConfig({ file: bad, env: {} }), (e: unknown) => e instanceof PlatformError && e.message.includes(bad) && /YAML/.test(e.message));
  writeFileSync(bad, '- a list\n');
  assert.throws(() => loadConfig({ file: bad, env: {} }), /mapping/);
  assert.throws(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }), /cannot read/);
});

test('every config key and its environment variable is documented in docs/configuration.md', () => {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  for (const key of CONFIG_KEYS) {
    assert.ok(doc.includes(`\`${key.path}\``), `docs/configuration.md lacks ${key.path}`);
    assert.ok(doc.includes(envNameFor(key.path)), `docs/configuration.md lacks ${envNameFor(key.path)}`);
  }
});

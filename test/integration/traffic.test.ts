/**
 * Traffic policies through the real server: a weighted split observed over 10,000 requests,
 * sticky assignment, header routes, a shadow mirror that never changes the primary answer, bad
 * policies refused with every problem named, and promotion of the candidate without a load.
 * The add models answer y = x + k, so the answer tells which version served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chiSquareGoodnessOfFit } from '../../src/stats/index.js';
import { addModel, slowModel } from '../support/models.js';
import { runCli } from '../unit/cli/cli-harness.js';
import { addRequest, startTestServer, type TestServer, ADMIN_ENV } from '../support/server.js';

let s: TestServer;
before(async () => {
  s = await startTestServer();
  await s.push('split', addModel(1)); // v1: y = x + 1
  await s.push('split', addModel(2)); // v2: y = x + 2
  await s.push('split', slowModel(8, 1)); // v3: another signature ([batch, 8]): a shadow that fails every copy
});
after(async () => {
  await s.stop();
});

/** Sends `total` requests from `clients` concurrent callers; returns each answer's served version (from y) and variant header. */
async function send(endpoint: string, total: number, clients: number, headers: (i: number) => Record<string, string> = () => ({})): Promise<{ version: number; variant: string | null; i: number }[]> {
  let next = 0;
  const out: { version: number; variant: string | null; i: number }[] = [];
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const r = await s.call('POST', `/v2/models/${endpoint}/infer`, addRequest([[0, 0, 0, 0]]), headers(i));
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const y = (r.json.outputs as { name: string; data: number[] }[])[0]?.data[0];
      out.push({ version: Number(y), variant: r.headers.get('x-slipway-variant'), i });
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  return out;
}

describe('traffic policy', () => {
  test('a 20 % candidate gets 20 % of 10,000 requests within statistical tolerance, and the figures count them', async () => {
    await s.deploy('weighted', 'split', 1);
    const put = await s.call('PUT', '/api/v1/endpoints/weighted/traffic', { candidate: { version: 2, weight: 20 } });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    assert.deepEqual(put.json.traffic, { stable: 1, candidate: { version: 2, weight: 20 } });
    const answers = await send('weighted', 10_000, 16);
    const candidate = answers.filter((a) => a.version === 2).length;
    const stable = answers.filter((a) => a.version === 1).length;
    assert.equal(candidate + stable, 10_000);
    for (const a of answers) assert.equal(a.variant, a.version === 2 ? 'candidate' : 'stable');
    const fit = chiSquareGoodnessOfFit([candidate, stable], [20, 80]);
    assert.ok(fit.pValue > 0.001, `observed ${candidate} / ${stable} (X² ${fit.statistic.toFixed(2)}, p ${fit.pValue})`);

    const view = await s.call('GET', '/api/v1/endpoints/weighted/traffic');
    const figures = view.json.figures as { variants: { variant: string; version: number; requests: number; errors: { n: number; successes: number } }[] };
    const byVariant = Object.fromEntries(figures.variants.map((v) => [v.variant, v]));
    assert.equal(byVariant.candidate?.requests, candidate);
    assert.equal(byVariant.stable?.requests, stable);
    assert.equal(byVariant.candidate?.errors.successes, 0, 'no failures counted');
    const endpoint = await s.call('GET', '/api/v1/endpoints/weighted');
    const versions = (endpoint.json.endpoint as { deployment: { versions: { version: number; role: string; variant?: string }[] } }).deployment.versions;
    assert.deepEqual(
      versions.map((v) => [v.version, v.role, v.variant]),
      [
        [1, 'stable', undefined],
        [2, 'candidate', 'candidate'],
      ],
    );
  });

  test('a sticky header keeps each user on one version, and a header route forces the candidate even at weight 0', async () => {
    await s.deploy('sticky', 'split', 1);
    const put = await s.call('PUT', '/api/v1/endpoints/sticky/traffic', {
      candidate: { version: 2, weight: 50 },
      stickiness: { header: 'X-User-Id' },
    });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const answers = await send('sticky', 600, 8, (i) => ({ 'x-user-id': `user-${i % 60}` }));
    const seen = new Map<number, Set<number>>();
    for (const a of answers) {
      const user = a.i % 60;
      seen.set(user, (seen.get(user) ?? new Set()).add(a.version));
    }
    for (const [user, versions] of seen) assert.equal(versions.size, 1, `user-${user} was served by ${[...versions].join(' and ')}`);
    const onCandidate = [...seen.values()].filter((v) => v.has(2)).length;
    assert.ok(onCandidate > 0 && onCandidate < 60, `both versions get users (${onCandidate} of 60 on the candidate)`);

    const routed = await s.call('PUT', '/api/v1/endpoints/sticky/traffic', {
      candidate: { version: 2, weight: 0 },
      headerRoutes: [{ header: 'x-slipway-variant', value: 'canary', variant: 'candidate' }],
    });
    assert.equal(routed.status, 200, JSON.stringify(routed.json));
    const forced = await send('sticky', 50, 4, () => ({ 'x-slipway-variant': 'canary' }));
    assert.ok(forced.every((a) => a.version === 2));
    const plain = await send('sticky', 50, 4);
    assert.ok(plain.every((a) => a.version === 1), 'weight 0: without the header everyone stays on stable');
  });

  test('a shadow gets copies and is compared, and a shadow that fails every copy never changes the answers', async () => {
    await s.deploy('shadowed', 'split', 1);
    const put = await s.call('PUT', '/api/v1/endpoints/shadowed/traffic', { mirror: { version: 2, percent: 100 } });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const answers = await send('shadowed', 100, 4);
    assert.ok(answers.every((a) => a.version === 1 && a.variant === 'stable'), 'the primary answers, always');
    let shadow: { version: number; summary: { comparisons: number; meanAbsDiff: number | null }; mirror: { submitted: number; failed: number } } | undefined;
    for (let i = 0; i < 200; i++) {
      const view = await s.call('GET', '/api/v1/endpoints/shadowed/traffic');
      shadow = (view.json.figures as { shadow?: typeof shadow } | null)?.shadow;
      if (shadow !== undefined && shadow.summary.comparisons + shadow.mirror.failed >= 100) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(shadow !== undefined);
    assert.equal(shadow.version, 2);
    assert.equal(shadow.mirror.submitted, 100);
    assert.equal(shadow.summary.comparisons, 100, JSON.stringify(shadow));
    // v2 answers x + 2 against v1's x + 1 on y, and 4 more on sum (= Σ(x + k)): mean |Δ| over 5 numbers = (4·1 + 4)/5
    assert.ok(Math.abs((shadow.summary.meanAbsDiff ?? NaN) - 1.6) < 1e-6, JSON.stringify(shadow.summary));

    const failing = await s.call('PUT', '/api/v1/endpoints/shadowed/traffic', { mirror: { version: 3, percent: 100 } });
    assert.equal(failing.status, 200, JSON.stringify(failing.json));
    const again = await send('shadowed', 50, 4);
    assert.ok(again.every((a) => a.version === 1));
    let failed = 0;
    for (let i = 0; i < 200 && failed < 50; i++) {
      const view = await s.call('GET', '/api/v1/endpoints/shadowed/traffic');
      failed = (view.json.figures as { shadow?: { mirror: { failed: number } } } | null)?.shadow?.mirror.failed ?? 0;
      if (failed < 50) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(failed, 50, 'every shadow copy failed and was only counted');
  });

  test('a bad policy is refused with every problem named, and the old policy stays', async () => {
    await s.deploy('strict', 'split', 1);
    assert.equal((await s.call('PUT', '/api/v1/endpoints/strict/traffic', { candidate: { version: 2, weight: 10 } })).status, 200);
    const bad = await s.call('PUT', '/api/v1/endpoints/strict/traffic', { candidate: { version: 2, weight: 150 }, mirror: { percent: 20 }, extra: true });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'CORE_INVALID_CONFIG');
    for (const path of ['candidate.weight', 'mirror.version', 'extra']) assert.match(String(bad.json.error), new RegExp(path.replace('.', '\\.')));
    const missing = await s.call('PUT', '/api/v1/endpoints/strict/traffic', { candidate: { version: 99, weight: 10 } });
    assert.equal(missing.status, 404, JSON.stringify(missing.json));
    assert.match(String(missing.json.error), /99/);
    const view = await s.call('GET', '/api/v1/endpoints/strict/traffic');
    assert.deepEqual(view.json.traffic, { stable: 1, candidate: { version: 2, weight: 10 } });
    const cleared = await s.call('DELETE', '/api/v1/endpoints/strict/traffic');
    assert.equal(cleared.status, 200);
    assert.equal(cleared.json.traffic, null);
  });

  test('promoting the candidate switches to the loaded version at once, answering every request meanwhile', async () => {
    await s.deploy('promote', 'split', 1);
    assert.equal((await s.call('PUT', '/api/v1/endpoints/promote/traffic', { candidate: { version: 2, weight: 50 } })).status, 200);
    const load = send('promote', 400, 8);
    const promoted = await s.call('PUT', '/api/v1/endpoints/promote', { model: 'split', version: 2, reason: 'promote the canary' });
    assert.equal(promoted.status, 200, JSON.stringify(promoted.json));
    await s.waitForVersion('promote', 2);
    await load;
    const after = await send('promote', 50, 4);
    assert.ok(after.every((a) => a.version === 2 && a.variant === 'stable'));
    const view = await s.call('GET', '/api/v1/endpoints/promote/traffic');
    assert.equal(view.json.traffic, null, 'the policy named the old stable version: it is gone');
  });

  test('the CLI sets, shows and clears a policy, and refuses bad flags with the server\'s reasons', async () => {
    await s.deploy('cli', 'split', 1);
    const server = ['--server', s.url];
    const set = await runCli(['endpoints', 'traffic', 'cli', '--candidate', '2', '--weight', '25', '--sticky-header', 'x-user-id', ...server], { env: ADMIN_ENV });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /stable v1 · candidate v2 at 25 % · sticky by header x-user-id/);
    await send('cli', 20, 2, (i) => ({ 'x-user-id': `u${i}` }));
    const shown = await runCli(['endpoints', 'traffic', 'cli', ...server], { env: ADMIN_ENV });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /VARIANT\s+VERSION\s+REQUESTS/);
    const json = await runCli(['endpoints', 'traffic', 'cli', '--json', ...server], { env: ADMIN_ENV });
    const figures = (JSON.parse(json.stdout) as { figures: { variants: { requests: number }[] } }).figures;
    assert.equal(figures.variants.reduce((a, v) => a + v.requests, 0), 20);
    const bad = await runCli(['endpoints', 'traffic', 'cli', '--candidate', '2', '--weight', '120', ...server], { env: ADMIN_ENV });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /candidate\.weight: must be a number from 0 to 100/);
    const cleared = await runCli(['endpoints', 'traffic', 'cli', '--clear', ...server], { env: ADMIN_ENV });
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.match(cleared.stdout, /no traffic policy/);
  });
});

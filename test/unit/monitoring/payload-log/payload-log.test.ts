import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createFakeClock } from '../../../../src/core/index.js';
import { openPayloadLog, REDACTED, type ExportCounters, type PayloadEntry } from '../../../../src/monitoring/payload-log/index.js';
import { segmentName, writeAll } from '../../../../src/monitoring/payload-log/segments.js';
import { capture, collect, config, ids, seededRandom, tempDir } from './helpers.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

describe('payload log', () => {
  test('keeps every status with its metadata, and the bodies of 4xx and 5xx', async () => {
    const { dir, cleanup } = await tempDir();
    const log = await openPayloadLog({ dir, config: config({ bodies: { sampleRate: 0 } }), clock: createFakeClock(T0) });
    try {
      for (const status of [200, 400, 404, 500, 503]) assert.equal(log.record(capture({ status, requestId: `status-${status}-0001` })), true);
      await log.flush();
      const entries = await collect(log.entries());
      assert.deepEqual(
        entries.map((e) => e.status),
        [200, 400, 404, 500, 503],
      );
      assert.equal(entries[0]?.request, undefined);
      for (const e of entries.slice(1)) {
        assert.equal(typeof e.request, 'object', `request body of ${e.status}`);
        assert.equal(typeof e.response, 'object', `response body of ${e.status}`);
        assert.equal(e.model, 'fraud-model');
        assert.equal(e.version, 3);
        assert.equal(e.at, T0);
      }
      assert.equal(log.stats().bodiesSampled, 4);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('keeps an invalid JSON request body as text', async () => {
    const { dir, cleanup } = await tempDir();
    const log = await openPayloadLog({ dir, config: config(), clock: createFakeClock(T0) });
    try {
      log.record(capture({ status: 400, model: null, version: null, variant: null, requestBody: '{"inputs": [1, 2', responseBody: '{"error":"request body is not valid JSON","code":"HTTP_INVALID_JSON"}' }));
      await log.flush();
      const [entry] = await collect(log.entries());
      assert.equal(entry?.request, '{"inputs": [1, 2');
      assert.deepEqual(entry?.response, { error: 'request body is not valid JSON', code: 'HTTP_INVALID_JSON' });
      assert.equal(entry?.model, null);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('samples the bodies of successful requests at sampleRate (seeded random)', async () => {
    const { dir, cleanup } = await tempDir();
    const random = seededRandom(42);
    const expected = seededRandom(42);
    const log = await openPayloadLog({ dir, config: config({ bodies: { sampleRate: 0.25 } }), clock: createFakeClock(T0), random });
    try {
      const want: boolean[] = [];
      for (let i = 0; i < 400; i++) {
        log.record(capture());
        want.push(expected() < 0.25);
      }
      await log.flush();
      const entries = await collect(log.entries());
      assert.equal(entries.length, 400);
      assert.deepEqual(
        entries.map((e) => e.request !== undefined),
        want,
      );
      const kept = want.filter(Boolean).length;
      assert.ok(kept > 60 && kept < 140, `kept ${kept} of 400 at 25 %`);
      assert.equal(log.stats().bodiesSampled, kept);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('applies redaction before writing', async () => {
    const { dir, cleanup } = await tempDir();
    const log = await openPayloadLog({
      dir,
      config: config({ bodies: { sampleRate: 1 }, redact: [{ path: 'inputs[name=ssn].data', action: 'mask' }, { path: 'outputs[*].data', action: 'drop', in: 'response' }] }),
      clock: createFakeClock(T0),
    });
    try {
      log.record(
        capture({
          requestBody: JSON.stringify({ inputs: [{ name: 'ssn', datatype: 'BYTES', shape: [1], data: ['123-45-6789'] }] }),
          responseBody: JSON.stringify({ outputs: [{ name: 'y', data: [0.9] }] }),
        }),
      );
      await log.flush();
      const files = await readdir(dir);
      const text = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('');
      assert.ok(!text.includes('123-45-6789'), 'the SSN reached the disk');
      const [entry] = await collect(log.entries());
      assert.deepEqual(entry?.request, { inputs: [{ name: 'ssn', datatype: 'BYTES', shape: [1], data: REDACTED }] });
      assert.deepEqual(entry?.response, { outputs: [{ name: 'y' }] });
      assert.equal(entry?.redacted, 2);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('drops and counts entries when the buffer is full, without blocking', async () => {
    const { dir, cleanup } = await tempDir();
    const log = await openPayloadLog({ dir, config: config({ bufferSize: 10 }), clock: createFakeClock(T0) });
    try {
      const results = Array.from({ length: 15 }, () => log.record(capture()));
      assert.equal(results.filter(Boolean).length, 10);
      assert.equal(log.stats().dropped.buffer_full, 5);
      await log.flush();
      assert.equal((await collect(log.entries())).length, 10);
      assert.equal(log.stats().written, 10);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('keeps an entry without its bodies when the bodies waiting in memory are over their cap', async () => {
    const { dir, cleanup } = await tempDir();
    const log = await openPayloadLog({ dir, config: config({ bodies: { sampleRate: 1, maxBufferedBytes: 300 } }), clock: createFakeClock(T0) });
    try {
      for (let i = 0; i < 4; i++) log.record(capture());
      await log.flush();
      const entries = await collect(log.entries());
      assert.equal(entries.length, 4);
      const withBodies = entries.filter((e) => e.request !== undefined).length;
      assert.ok(withBodies >= 1 && withBodies < 4, `${withBodies} of 4 kept bodies`);
      assert.equal(log.stats().dropped.body_buffer_full, 4 - withBodies);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('rotates segments at each hour and beyond segmentMaxBytes', async () => {
    const { dir, cleanup } = await tempDir();
    const clock = createFakeClock(T0);
    const log = await openPayloadLog({ dir, config: config({ segmentMaxBytes: 4096, bodies: { sampleRate: 0 } }), clock });
    try {
      for (let i = 0; i < 40; i++) log.record(capture());
      await log.flush();
      const afterSize = await readdir(dir);
      assert.ok(afterSize.length >= 2, `segments after 40 entries: ${afterSize.join(', ')}`);
      for (const f of afterSize) assert.ok((await readFile(join(dir, f))).length <= 4096, `${f} is over segmentMaxBytes`);
      await clock.advance(HOUR);
      log.record(capture({ requestId: 'next-hour-entry-1' }));
      await log.flush();
      const afterHour = (await readdir(dir)).sort();
      assert.equal(afterHour.length, afterSize.length + 1);
      assert.match(afterHour[afterHour.length - 1] ?? '', /^payloads-20260101T11Z-\d{6}\.jsonl$/);
      assert.equal((await collect(log.entries())).length, 41);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('writes entries in the order recorded: metadata lines buffered as bytes between entries with bodies, across an hour', async () => {
    const { dir, cleanup } = await tempDir();
    const clock = createFakeClock(T0 + HOUR - 5000);
    const log = await openPayloadLog({ dir, config: config({ segmentMaxBytes: 4096, flushIntervalMs: 60_000, bodies: { sampleRate: 0.3 } }), clock, random: seededRandom(11) });
    try {
      const recorded: string[] = [];
      for (let i = 0; i < 60; i++) {
        // the hour turns halfway, with nothing written in between; some paths are not ASCII
        if (i === 30) await clock.advance(10_000);
        const c = capture({ path: i % 7 === 0 ? `/v2/models/fraud/infer/é${i}` : '/v2/models/fraud/infer' });
        recorded.push(c.requestId);
        assert.equal(log.record(c), true);
      }
      assert.equal(log.stats().buffered, 60);
      await log.flush();
      const entries = await collect(log.entries());
      assert.deepEqual(ids(entries), recorded);
      const withBodies = entries.filter((e) => e.request !== undefined).length;
      assert.ok(withBodies > 5 && withBodies < 55, `${withBodies} of 60 with bodies at a rate of 0.3`);
      assert.equal(entries[7]?.path, '/v2/models/fraud/infer/é7');
      const files = (await readdir(dir)).sort();
      assert.ok(files.some((f) => f.includes('T10Z')) && files.some((f) => f.includes('T11Z')), files.join(', '));
      for (const f of files) assert.ok((await readFile(join(dir, f))).length <= 4096, `${f} is over segmentMaxBytes`);
      assert.equal(log.stats().written, 60);
      assert.equal(log.stats().buffered, 0);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('retention deletes segments whose hour is older than maxAgeHours', async () => {
    const { dir, cleanup } = await tempDir();
    const clock = createFakeClock(T0);
    const log = await openPayloadLog({ dir, config: config({ retention: { maxAgeHours: 2 } }), clock });
    try {
      log.record(capture({ requestId: 'old-entry-000001' }));
      await log.flush();
      await clock.advance(2 * HOUR);
      log.record(capture({ requestId: 'new-entry-000001' }));
      await log.flush();
      await log.applyRetention();
      assert.deepEqual(ids(await collect(log.entries())), ['old-entry-000001', 'new-entry-000001'], 'the 10:00 hour ends at 11:00, only 1 h ago');
      await clock.advance(HOUR);
      await log.applyRetention();
      assert.deepEqual(ids(await collect(log.entries())), ['new-entry-000001']);
      assert.equal(log.stats().segmentsDeleted, 1);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('retention deletes the oldest segments while the total is over maxBytes', async () => {
    const { dir, cleanup } = await tempDir();
    const clock = createFakeClock(T0);
    const log = await openPayloadLog({ dir, config: config({ segmentMaxBytes: 4096, retention: { maxBytes: 8192 }, bodies: { sampleRate: 0 } }), clock });
    try {
      for (let i = 0; i < 100; i++) log.record(capture({ requestId: `size-${String(i).padStart(12, '0')}` }));
      await log.flush();
      await log.applyRetention();
      const stats = log.stats();
      assert.ok(stats.bytesOnDisk <= 8192, `${stats.bytesOnDisk} bytes on disk`);
      assert.ok(stats.segmentsDeleted > 0);
      const left = ids(await collect(log.entries()));
      assert.ok(left.length > 0 && left.length < 100);
      // what is left is the newest, in order
      assert.equal(left[left.length - 1], 'size-000000000099');
      assert.deepEqual(left, [...left].sort());
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('an export skips a torn last line and counts a torn line in the middle', async () => {
    const { dir, cleanup } = await tempDir();
    const clock = createFakeClock(T0);
    const log = await openPayloadLog({ dir, config: config(), clock });
    try {
      log.record(capture({ requestId: 'whole-entry-0001' }));
      await log.flush();
      const [file] = await readdir(dir);
      assert.ok(file !== undefined);
      // a crash in the middle of a write
      await appendFile(join(dir, file), '{"requestId":"torn-entr');
      const counters: ExportCounters = { skippedLines: 0 };
      assert.deepEqual(ids(await collect(log.entries({}, counters))), ['whole-entry-0001']);
      assert.equal(counters.skippedLines, 0);
      // the next line written after the torn one (an older writer's leftover) makes it a middle line
      await appendFile(join(dir, file), `\n${JSON.stringify({ ...(await collect(log.entries()))[0], requestId: 'after-torn-0001' })}\n`);
      assert.deepEqual(ids(await collect(log.entries({}, counters))), ['whole-entry-0001', 'after-torn-0001']);
      assert.equal(counters.skippedLines, 1);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('opening over an existing directory continues it: old entries stay, numbering goes on', async () => {
    const { dir, cleanup } = await tempDir();
    const clock = createFakeClock(T0);
    // a segment a crashed server left, ending in a torn line
    const first = { requestId: 'before-crash-01', at: T0 - 1000, endpoint: 'fraud', model: null, version: null, variant: null, latencyMs: 1, status: 500, method: 'POST', path: '/v2/models/fraud/infer' } satisfies PayloadEntry;
    await writeFile(join(dir, segmentName(T0 - HOUR, 7)), `${JSON.stringify(first)}\n{"requestId":"to`);
    const log = await openPayloadLog({ dir, config: config(), clock });
    try {
      assert.equal(log.stats().segments, 1);
      assert.ok(log.stats().bytesOnDisk > 0);
      log.record(capture({ requestId: 'after-restart-01' }));
      await log.flush();
      assert.deepEqual(ids(await collect(log.entries())), ['before-crash-01', 'after-restart-01']);
      assert.ok((await readdir(dir)).includes(segmentName(T0, 8)));
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('export filters by endpoint, time, status, request id and limit', async () => {
    const { dir, cleanup } = await tempDir();
    const clock = createFakeClock(T0);
    const log = await openPayloadLog({ dir, config: config(), clock });
    try {
      const plan: [string, number, number][] = [
        ['fraud', 200, 0],
        ['fraud', 503, 10],
        ['churn', 404, 20],
        ['fraud', 500, 2 * HOUR],
        ['churn', 200, 2 * HOUR + 10],
      ];
      plan.forEach(([endpoint, status, offset], i) => log.record(capture({ endpoint, status, at: T0 + offset, requestId: `filter-${i}-000000000` })));
      await log.flush();
      const q = async (query: Parameters<typeof log.entries>[0]): Promise<number[]> =>
        (await collect(log.entries(query))).map((e) => Number(e.requestId.split('-')[1]));
      assert.deepEqual(await q({ endpoint: 'fraud' }), [0, 1, 3]);
      assert.deepEqual(await q({ status: [{ class: 5 }] }), [1, 3]);
      assert.deepEqual(await q({ status: [{ code: 404 }, { code: 200 }] }), [0, 2, 4]);
      assert.deepEqual(await q({ since: T0 + 10 }), [1, 2, 3, 4]);
      assert.deepEqual(await q({ until: T0 + 10 }), [0]);
      assert.deepEqual(await q({ since: T0 + HOUR, endpoint: 'churn' }), [4]);
      assert.deepEqual(await q({ requestId: 'filter-2-000000000' }), [2]);
      assert.deepEqual(await q({ limit: 2 }), [0, 1]);
      assert.deepEqual(await q({ endpoint: 'fraud', status: [{ class: 5 }], limit: 1 }), [1]);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('writes on its timer, and after close records are refused and counted', async () => {
    const { dir, cleanup } = await tempDir();
    const clock = createFakeClock(T0);
    const log = await openPayloadLog({ dir, config: config({ flushIntervalMs: 500 }), clock });
    try {
      log.record(capture({ requestId: 'timer-entry-0001' }));
      assert.equal(log.stats().buffered, 1);
      await clock.advance(500);
      await log.flush();
      assert.equal(log.stats().written, 1);
      await log.close();
      assert.equal(log.record(capture()), false);
      assert.equal(log.stats().dropped.closed, 1);
    } finally {
      await log.close();
      await cleanup();
    }
  });

  test('disabled, it records nothing and creates nothing', async () => {
    const { dir, cleanup } = await tempDir();
    const log = await openPayloadLog({ dir: join(dir, 'payloads'), config: config({ enabled: false }) });
    try {
      assert.equal(log.record(capture()), false);
      assert.equal(log.stats().recorded, 0);
      assert.deepEqual(await readdir(dir), []);
      assert.deepEqual(await collect(log.entries()), []);
    } finally {
      await log.close();
      await cleanup();
    }
  });
});

describe('segment writes', () => {
  /** A file handle whose writev takes at most `limit` bytes, as a short write would. */
  const shortHandle = (limit: number) => {
    const written: Buffer[] = [];
    const handle = {
      async writev(parts: Uint8Array[]) {
        const all = Buffer.concat(parts);
        written.push(all.subarray(0, limit));
        return { bytesWritten: Math.min(limit, all.length), buffers: parts };
      },
      async appendFile(data: Uint8Array) {
        written.push(Buffer.from(data));
      },
    };
    return { handle: handle as unknown as FileHandle, text: () => Buffer.concat(written).toString() };
  };

  test('writes all the parts in order, finishing what a short write left', async () => {
    const parts = ['{"a":1}\n', '{"b":22}\n', '{"c":333}\n'].map((t) => Buffer.from(t));
    const size = parts.reduce((n, p) => n + p.length, 0);
    for (const limit of [0, 3, 8, 9, 15, size - 1, size]) {
      const { handle, text } = shortHandle(limit);
      await writeAll(handle, parts, size);
      assert.equal(text(), '{"a":1}\n{"b":22}\n{"c":333}\n', `writev took ${limit} bytes`);
    }
  });
});

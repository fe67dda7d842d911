import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFakeClock } from '../../../../src/core/index.js';
import { checkDrift, createDriftWindow } from '../../../../src/monitoring/drift/index.js';
import { chartData, escapeHtml, renderDriftHtml } from '../../../../src/monitoring/drift/html.js';
import { createSeededRandom } from '../../../../src/stats/index.js';
import { categoricalProfile, makeProfile, normals, numericProfile, pick } from './fixtures.js';

describe('the HTML drift report', () => {
  const random = createSeededRandom(5);
  const colours = ['red', 'green', 'blue'];
  const profile = makeProfile([
    { ...numericProfile('temp <°C>', normals(2000, random)), input: 'x', column: 0 },
    { ...categoricalProfile('colour', Array.from({ length: 2000 }, () => pick(random, colours, [0.5, 0.3, 0.2]))), input: 'x', column: 1 },
  ]);
  const window = createDriftWindow({ profile, clock: createFakeClock(Date.UTC(2026, 10, 1)) });
  const t = normals(800, random, 1);
  for (let i = 0; i < 800; i++) window.add([t[i] ?? 0, pick(random, colours, [0.2, 0.3, 0.5])]);
  const report = checkDrift(profile, window.snapshot());

  test('one page with the verdicts, a table row and an SVG chart per feature, names escaped', () => {
    const html = renderDriftHtml({ endpoint: 'weather', model: 'm', version: 1, current: report, previous: null }, Date.UTC(2026, 10, 2));
    assert.match(html, /^<!doctype html>/);
    assert.equal(html.match(/<svg /g)?.length, 2, 'a chart per feature');
    assert.ok(html.includes('temp &lt;°C&gt;'), 'the feature name is escaped');
    assert.ok(!html.includes('temp <°C>'));
    assert.match(html, /Open window: <span class="bad">drift<\/span>/);
    assert.ok(!/<script/i.test(html), 'no script');
    assert.ok(html.includes('2026-11-02 00:00:00 UTC'));
  });

  test('numeric charts are shares over the profile\'s bins; categorical ones over the same categories on both sides', () => {
    const [temp, colour] = report.features;
    const numeric = chartData(temp!.reference, temp!.live);
    assert.equal(numeric?.labels.length, 20);
    assert.ok(Math.abs((numeric?.reference ?? []).reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.ok(Math.abs((numeric?.live ?? []).reduce((a, b) => a + b, 0) - 1) < 1e-9);
    const cats = chartData(colour!.reference, colour!.live);
    assert.deepEqual([...(cats?.labels ?? [])].sort(), ['blue', 'green', 'red'], 'the same categories on both sides');
    const blue = cats?.labels.indexOf('blue') ?? -1;
    assert.ok((cats?.live[blue] ?? 0) > (cats?.reference[blue] ?? 1), 'blue grew');
  });

  test('escapeHtml escapes the five characters', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

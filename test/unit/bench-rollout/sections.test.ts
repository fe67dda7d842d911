import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { replaceSection, sectionEnd, sectionStart, writeSection } from '../../../bench/lib/sections.js';

const dir = mkdtempSync(join(tmpdir(), 'slipway-sections-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('replaceSection', () => {
  test('replaces only the text between the markers and keeps everything around them byte for byte', () => {
    const before = `# Benchmarks\n\nserving text\n\n${sectionStart('a')}\nold\n${sectionEnd('a')}\n\ntail text\n`;
    const after = replaceSection(before, 'a', 'new body');
    assert.equal(after, `# Benchmarks\n\nserving text\n\n${sectionStart('a')}\nnew body\n${sectionEnd('a')}\n\ntail text\n`);
  });

  test('appends the marked section after the existing text when the file has none', () => {
    assert.equal(replaceSection('# Title\n\nsome text\n\n\n', 'b', 'body'), `# Title\n\nsome text\n\n${sectionStart('b')}\nbody\n${sectionEnd('b')}\n`);
  });

  test('leaves another section alone when writing its own', () => {
    const two = replaceSection(replaceSection('', 'one', 'first'), 'two', 'second');
    const again = replaceSection(two, 'two', 'second, rewritten');
    assert.ok(again.includes(`${sectionStart('one')}\nfirst\n${sectionEnd('one')}`));
    assert.ok(again.includes(`${sectionStart('two')}\nsecond, rewritten\n${sectionEnd('two')}`));
  });

  test('is idempotent: writing the same markdown twice gives the same text', () => {
    const once = replaceSection('intro\n', 'x', 'body\n');
    assert.equal(replaceSection(once, 'x', 'body\n'), once);
  });

  test('refuses broken markers instead of guessing', () => {
    assert.throws(() => replaceSection(`${sectionStart('a')}\nno end\n`, 'a', 'x'), /1 opening and 0 closing/);
    assert.throws(() => replaceSection(`${sectionEnd('a')}\n${sectionStart('a')}\n`, 'a', 'x'), /closes before it opens/);
    assert.throws(() => replaceSection(`${sectionStart('a')}${sectionEnd('a')}${sectionStart('a')}${sectionEnd('a')}`, 'a', 'x'), /2 opening and 2 closing/);
  });

  test('refuses ids that are not lower-case words with dashes and markdown that contains its own markers', () => {
    assert.throws(() => replaceSection('', 'Bad Id', 'x'), /section id/);
    assert.throws(() => replaceSection('', 'a', `text ${sectionEnd('a')}`), /must not contain its own markers/);
  });
});

describe('writeSection', () => {
  test('creates a missing file (and its folder) holding only the marked section', () => {
    const file = join(dir, 'new', 'bench.md');
    writeSection(file, 'rollout-simulator', '## Rollout\n\nfigures');
    assert.equal(readFileSync(file, 'utf8'), `${sectionStart('rollout-simulator')}\n## Rollout\n\nfigures\n${sectionEnd('rollout-simulator')}\n`);
  });

  test('rewrites its section of an existing file without clobbering the rest and leaves no temporary file', () => {
    const file = join(dir, 'existing.md');
    writeFileSync(file, '# Benchmarks\n\nserving figures\n');
    writeSection(file, 's', 'one');
    writeSection(file, 's', 'two');
    assert.equal(readFileSync(file, 'utf8'), `# Benchmarks\n\nserving figures\n\n${sectionStart('s')}\ntwo\n${sectionEnd('s')}\n`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });

  test('changes nothing when the markers are broken', () => {
    const file = join(dir, 'broken.md');
    const text = `keep me\n${sectionStart('s')}\n`;
    writeFileSync(file, text);
    assert.throws(() => writeSection(file, 's', 'x'));
    assert.equal(readFileSync(file, 'utf8'), text);
    assert.ok(existsSync(file));
  });
});

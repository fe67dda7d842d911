/**
 * Marked sections in a generated Markdown file, so several benchmarks can share docs/benchmarks.md:
 * each rewrites only the text between its own markers and leaves the rest of the file as it was.
 *
 *   <!-- section:rollout-simulator -->
 *   …generated…
 *   <!-- /section:rollout-simulator -->
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Section ids: lower-case letters, digits and dashes, so a marker can never be mistaken for text. */
const SECTION_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The opening marker of section `id`. */
export function sectionStart(id: string): string {
  return `<!-- section:${id} -->`;
}

/** The closing marker of section `id`. */
export function sectionEnd(id: string): string {
  return `<!-- /section:${id} -->`;
}

function occurrences(text: string, needle: string): number[] {
  const at: number[] = [];
  // Bounded: each step moves past the previous match.
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) at.push(i);
  return at;
}

/**
 * The text of `content` with section `id` set to `markdown`: the text between the markers is
 * replaced, or the marked section is appended at the end when the file has none. Throws (changing
 * nothing) when the markers are broken — one without the other, repeated, or in the wrong order —
 * because guessing there could delete someone else's text.
 */
export function replaceSection(content: string, id: string, markdown: string): string {
  if (!SECTION_ID.test(id)) throw new Error(`section id must be lower-case letters, digits and dashes, got ${JSON.stringify(id)}`);
  const start = sectionStart(id);
  const end = sectionEnd(id);
  if (markdown.includes(start) || markdown.includes(end)) throw new Error(`the markdown of section ${id} must not contain its own markers`);
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const starts = occurrences(content, start);
  const ends = occurrences(content, end);
  if (starts.length === 0 && ends.length === 0) {
    const before = content.trimEnd();
    return before === '' ? `${block}\n` : `${before}\n\n${block}\n`;
  }
  if (starts.length !== 1 || ends.length !== 1) {
    throw new Error(`section ${id} has ${starts.length} opening and ${ends.length} closing markers; expected one of each (fix the file by hand)`);
  }
  const s = starts[0] as number;
  const e = ends[0] as number;
  if (e < s) throw new Error(`section ${id} closes before it opens (fix the file by hand)`);
  return content.slice(0, s) + block + content.slice(e + end.length);
}

/**
 * Writes `markdown` as section `id` of `file`: replaces the text between `<!-- section:ID -->` and
 * `<!-- /section:ID -->`, appends the marked section at the end when it is absent, and creates the
 * file (and its folder) when it is missing. The rest of the file is kept byte for byte. The new
 * content is written to a temporary file and renamed over the old one, so a crash never leaves half
 * a file.
 */
export function writeSection(file: string, id: string, markdown: string): void {
  const content = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const next = replaceSection(content, id, markdown);
  mkdirSync(dirname(file), { recursive: true });
  const temporary = join(dirname(file), `.${id}.${process.pid}.tmp`);
  writeFileSync(temporary, next);
  renameSync(temporary, file);
}

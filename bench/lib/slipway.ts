/**
 * What the benchmarks that run Slipway as a server share: compiling src/ for them, one-row request
 * bodies, and how busy the machine was before a run.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, sleep } from './harness.js';

/** Where the benchmark compiles src/ (gitignored), so the server runs compiled code as in production. */
export const BUILD_DIR = join(root, 'bench', 'out', 'dist');

/** Compiles src/ into {@link BUILD_DIR} (tsc emits even if a file elsewhere has type errors) and copies the generated codec. */
export async function buildSlipway(log: (message: string) => void): Promise<string> {
  const child = spawn(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', BUILD_DIR], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) log(`warning: tsc reported problems (exit ${code}); using what it emitted:\n${out.slice(0, 2000)}`);
  mkdirSync(join(BUILD_DIR, 'onnx', 'generated'), { recursive: true });
  copyFileSync(join(root, 'src', 'onnx', 'generated', 'onnx.js'), join(BUILD_DIR, 'onnx', 'generated', 'onnx.js'));
  const entry = join(BUILD_DIR, 'cli', 'main.js');
  if (!existsSync(entry)) throw new Error(`compiling src/ did not produce ${entry}`);
  return entry;
}

/** Writes a one-row request body for `requestPath` (its first input's first row) into `file`; returns the file. */
export function oneRowBody(requestPath: string, file: string): string {
  const parsed = JSON.parse(readFileSync(requestPath, 'utf8')) as { inputs: { name: string; shape: number[]; datatype: string; data: number[] }[] };
  const first = parsed.inputs[0];
  if (first === undefined) throw new Error(`${requestPath} has no input`);
  const rowSize = first.shape.slice(1).reduce((a, b) => a * b, 1);
  writeFileSync(file, JSON.stringify({ inputs: [{ ...first, shape: [1, ...first.shape.slice(1)], data: first.data.slice(0, rowSize) }] }));
  return file;
}

/** Share of all cores busy over `ms` (from /proc/stat), to show whether something else was using the machine. */
export async function cpuBusy(ms: number): Promise<number> {
  const read = (): { busy: number; total: number } => {
    try {
      const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
      const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
      const total = fields.reduce((a, b) => a + b, 0);
      return { busy: total - idle, total };
    } catch {
      return { busy: NaN, total: NaN };
    }
  };
  const a = read();
  await sleep(ms);
  const b = read();
  return (b.busy - a.busy) / (b.total - a.total);
}

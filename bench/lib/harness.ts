/**
 * Process plumbing for the benchmark: start a server in its own process and read its address,
 * run the load generator (autocannon's CLI) in another process, read a process's RSS, and medians.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The admin key every Slipway server the benchmarks start is given on its first start
 * (SLIPWAY_BOOTSTRAP_ADMIN_KEY: 24–512 letters, digits, `.`, `_`, `-`). Authentication stays on,
 * so requests are measured as users send them: with `Authorization: Bearer <key>`.
 */
export const BENCH_ADMIN_KEY = 'slipway-bench-admin-key-0123456789';

/** Request headers carrying {@link BENCH_ADMIN_KEY}, plus `extra` (which may override them). */
export function benchAuthHeaders(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { authorization: `Bearer ${BENCH_ADMIN_KEY}`, ...extra };
}

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The smallest and largest of `values`, the run-to-run spread. */
export function spread(values: readonly number[]): { min: number; max: number } {
  const s = values.filter((v) => Number.isFinite(v));
  return { min: Math.min(...s), max: Math.max(...s) };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A server running in a child process. */
export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Lines the process wrote to stderr (kept for error messages and the GC handshake). */
  readonly stderr: string[];
  stop(): Promise<void>;
}

/**
 * Starts `node <nodeArgs>` with cwd = repository root and resolves once its stdout shows an
 * http://127.0.0.1:<port> address; rejects if it exits first or takes longer than `timeoutMs`.
 * The child gets SLIPWAY_BOOTSTRAP_ADMIN_KEY = {@link BENCH_ADMIN_KEY} (a Slipway server takes it as
 * its admin key on its first start; other servers ignore it); `env` may override it.
 */
export async function startServerProcess(nodeArgs: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLIPWAY_BOOTSTRAP_ADMIN_KEY: BENCH_ADMIN_KEY, ...env } });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(...chunk.toString().split('\n').filter((l) => l !== ''));
    if (stderr.length > 1000) stderr.splice(0, stderr.length - 1000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms: ${buffer} ${stderr.join('\n')}`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const m = /https?:\/\/127\.0\.0\.1:\d+/.exec(buffer);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${buffer} ${stderr.join('\n')}`));
    });
  });
  child.stdout?.resume();
  return {
    url,
    child,
    stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** One load-generator run's figures. */
export interface LoadResult {
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Connection errors, timeouts and non-2xx answers. */
  readonly errors: number;
}

interface AutocannonJson {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

/**
 * Runs autocannon's CLI in its own process against `url` (POST `bodyFile` when given) and parses its JSON.
 * Every request carries `headers`, by default {@link benchAuthHeaders}: the bench key, as users send
 * it to Slipway (the baseline and ceiling servers ignore it, and get the same bytes).
 */
export async function runLoad(url: string, connections: number, seconds: number, bodyFile?: string, headers: Readonly<Record<string, string>> = benchAuthHeaders()): Promise<LoadResult> {
  const args = [join(root, 'node_modules', 'autocannon', 'autocannon.js'), '--json', '-c', String(connections), '-d', String(seconds), '-t', '30'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`);
  if (bodyFile !== undefined) args.push('-m', 'POST', '-H', 'content-type=application/json', '-i', bodyFile);
  args.push(url);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (code !== 0 || line === undefined) throw new Error(`autocannon exited with ${code}: ${err.slice(-2000)}`);
  const r = JSON.parse(line) as AutocannonJson;
  return { reqPerSec: r.requests.total / r.duration, p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

/** The resident set size of process `pid`, KiB, from /proc (Linux); NaN where /proc is absent. */
export function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Asks a server started through bench/slipway-main.mjs with --expose-gc to collect garbage; resolves when it says it did. */
export async function forceGc(server: ServerProcess): Promise<{ gc: boolean; heapUsedMiB: number; externalMiB: number }> {
  const before = server.stderr.length;
  server.child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    const line = server.stderr.slice(before).find((l) => l.startsWith('bench:gc-done'));
    if (line !== undefined) {
      const [, kind, json] = /^bench:gc-done (\S+) (.*)$/.exec(line) ?? [];
      const usage = JSON.parse(json ?? '{}') as { heapUsed?: number; external?: number };
      return { gc: kind === 'gc', heapUsedMiB: (usage.heapUsed ?? NaN) / 2 ** 20, externalMiB: (usage.external ?? NaN) / 2 ** 20 };
    }
    await sleep(20);
  }
  return { gc: false, heapUsedMiB: NaN, externalMiB: NaN };
}

/**
 * Runs the simulator's cases over their seeds, in this process or split across child processes (one
 * per core). Each child takes a contiguous slice of run indices for every case, and the slices are
 * joined in order, so the results are the same whatever the number of processes.
 */
import { fork } from 'node:child_process';
import { compileSlipwayGate } from './gates.js';
import { byId, CASES, FIXED_GATE, GATE_VARIANTS, LOOK_EVERY, SCENARIOS, SHAPE, WEIGHTS, type Case } from './scenarios.js';
import { simulateRun, type RunPlan, type RunResult } from './simulation.js';

/** What a child process is asked to do: run indices [from, to) of each case. */
export interface ShardTask {
  readonly caseIds: readonly string[];
  readonly from: number;
  readonly to: number;
}

/** What a child process answers: per case, the runs of its slice in seed order. */
export type ShardResult = Record<string, RunResult[]>;

function planFor(c: Case): RunPlan {
  const scenario = byId(SCENARIOS, c.scenario);
  const variant = byId(GATE_VARIANTS, c.variant);
  return {
    shape: SHAPE,
    fault: scenario.fault,
    lookEvery: LOOK_EVERY,
    slipway: c.fixedOnly ? null : compileSlipwayGate({ checks: variant.checks, weights: WEIGHTS }),
    fixed: FIXED_GATE,
  };
}

/** Runs a slice of every named case in this process. */
export function runShard(task: ShardTask): ShardResult {
  const out: ShardResult = {};
  for (const id of task.caseIds) {
    const c = byId(CASES, id);
    const plan = planFor(c);
    const runs: RunResult[] = [];
    for (let i = task.from; i < task.to; i++) runs.push(simulateRun(plan, c.seedBase + i));
    out[id] = runs;
  }
  return out;
}

function runChild(task: ShardTask): Promise<ShardResult> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./shard.ts', import.meta.url), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: ShardResult | null = null;
    child.on('message', (message) => {
      result = message as ShardResult;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && result !== null) resolve(result);
      else reject(new Error(`simulator shard [${task.from}, ${task.to}) exited with code ${String(code)}${result === null ? ' before answering' : ''}`));
    });
    child.send(task);
  });
}

/**
 * Runs `runs` seeds of each case, split across `processes` child processes (1: in this process).
 * Returns the runs of each case in seed order.
 */
export async function runCases(caseIds: readonly string[], runs: number, processes: number): Promise<ShardResult> {
  const shards = Math.max(1, Math.min(processes, runs));
  if (shards === 1) return runShard({ caseIds, from: 0, to: runs });
  const bounds = Array.from({ length: shards + 1 }, (_, i) => Math.round((i * runs) / shards));
  const parts = await Promise.all(Array.from({ length: shards }, (_, i) => runChild({ caseIds, from: bounds[i] as number, to: bounds[i + 1] as number })));
  const out: ShardResult = {};
  for (const id of caseIds) out[id] = parts.flatMap((p) => p[id] ?? []);
  return out;
}

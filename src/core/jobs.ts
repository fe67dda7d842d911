/**
 * Long-running work the API starts and the caller watches (a validation, a capacity plan, an
 * optimisation): each job has an id, a status, a progress and, once done, a result or an error.
 * Jobs live in memory — a server that stops while one runs loses it — and the newest finished ones
 * are remembered (their results are the caller's to store). Running jobs are aborted on close.
 */
import { newId } from './ids.js';
import { toPlatformError, type PlatformError } from './errors.js';
import type { Clock } from './clock.js';

export type JobStatus = 'running' | 'succeeded' | 'failed';

export interface JobProgress {
  readonly stage: string;
  readonly done: number;
  readonly total: number;
}

/** What a watcher sees of a job, without its result. */
export interface JobView {
  readonly id: string;
  readonly status: JobStatus;
  readonly progress: JobProgress;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface Job<R, M = undefined> {
  readonly id: string;
  /** What the job is about (the version it validates, …), as its starter gave it. */
  readonly meta: M;
  status: JobStatus;
  progress: JobProgress;
  readonly startedAt: string;
  finishedAt: string | null;
  error: PlatformError | null;
  result: R | undefined;
  readonly done: Promise<R>;
  readonly abort: AbortController;
}

export interface JobTable<R, M = undefined> {
  /** Starts `run` as a job at once; `run` reports progress through its second argument. */
  start(meta: M, run: (signal: AbortSignal, progress: (p: JobProgress) => void, id: string) => Promise<R>): Job<R, M>;
  get(id: string): Job<R, M> | undefined;
  running(): Job<R, M>[];
  /** Aborts running jobs with `reason` and waits for them to end. */
  close(reason: unknown): Promise<void>;
}

export function jobView(j: Job<unknown, unknown>): JobView {
  return {
    id: j.id,
    status: j.status,
    progress: j.progress,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
    error: j.error === null ? null : { code: j.error.code, message: j.error.message },
  };
}

export function createJobTable<R, M = undefined>(clock: Clock, remember = 100): JobTable<R, M> {
  const jobs = new Map<string, Job<R, M>>();
  const now = (): string => new Date(clock.now()).toISOString();
  const forget = (): void => {
    const finished = [...jobs.values()].filter((j) => j.status !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - remember))) jobs.delete(j.id);
  };
  return {
    start(meta, run) {
      const id = newId(clock.now());
      const abort = new AbortController();
      let resolveDone!: (r: R) => void;
      let rejectDone!: (e: unknown) => void;
      const done = new Promise<R>((resolve, reject) => {
        resolveDone = resolve;
        rejectDone = reject;
      });
      done.catch(() => undefined);
      const job: Job<R, M> = { id, meta, status: 'running', progress: { stage: 'starting', done: 0, total: 1 }, startedAt: now(), finishedAt: null, error: null, result: undefined, done, abort };
      jobs.set(id, job);
      void (async () => {
        try {
          const result = await run(abort.signal, (p) => {
            job.progress = p;
          }, id);
          job.result = result;
          job.status = 'succeeded';
          job.finishedAt = now();
          resolveDone(result);
        } catch (error) {
          job.error = toPlatformError(error);
          job.status = 'failed';
          job.finishedAt = now();
          rejectDone(job.error);
        } finally {
          forget();
        }
      })();
      return job;
    },
    get: (id) => jobs.get(id),
    running: () => [...jobs.values()].filter((j) => j.status === 'running'),
    async close(reason) {
      const pending = [...jobs.values()].filter((j) => j.status === 'running');
      for (const j of pending) j.abort.abort(reason);
      await Promise.all(pending.map((j) => j.done.catch(() => undefined)));
    },
  };
}

/**
 * Starting a worker thread from a module next to the caller, in both ways Slipway runs: compiled
 * (`dist/`, the module is a `.js` file) and under tsx (tests and `npm run` scripts, a `.ts` file).
 * Node 20 does not apply `--import tsx` from a Worker's execArgv to the worker's own modules, so
 * under tsx the worker starts from a one-line bootstrap that loads the `.ts` module through tsx's
 * API, and without the inherited `--import tsx`.
 */
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker module `name` (without extension, e.g. `./replica-worker`) that sits beside
 * the module whose `import.meta.url` is `here`, with `workerData`.
 */
export function startModuleWorker(here: string, name: string, workerData: unknown): Worker {
  if (here.endsWith('.ts')) {
    const entry = new URL(`${name}.ts`, here).href;
    const api = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)}));`;
    // the worker would also run an inherited `--import tsx` (registering a second set of loader
    // hooks, on a second hooks thread, to no effect): one registration is enough
    return new Worker(bootstrap, { eval: true, workerData, execArgv: withoutTsxImport(process.execArgv) });
  }
  return new Worker(new URL(`${name}.js`, here), { workerData });
}

/** `execArgv` without `--import tsx` / `--import=tsx` (what `node --import tsx` and `npm run` scripts pass). */
export function withoutTsxImport(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    if (arg === '--import' && execArgv[i + 1] === 'tsx') i++;
    else if (arg !== '--import=tsx') kept.push(arg);
  }
  return kept;
}

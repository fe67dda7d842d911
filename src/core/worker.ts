/**
 * Starting a worker thread from a module next to the caller, in both ways Slipway runs: compiled
 * (`dist/`, the module is a `.js` file) and under tsx (tests and `npm run` scripts, a `.ts` file).
 * Node 20 does not apply `--import tsx` from a Worker's execArgv, so under tsx the worker starts
 * from a one-line bootstrap that loads the `.ts` module through tsx's API.
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
    return new Worker(bootstrap, { eval: true, workerData });
  }
  return new Worker(new URL(`${name}.js`, here), { workerData });
}

import { Worker } from 'node:worker_threads';
const entry = 'file:///work/main/src/runtime/onnxruntime/session.ts';
const t = performance.now();
const w = new Worker(`import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)})).then(() => require('node:worker_threads').parentPort.postMessage('ok'), (e) => console.log('E', e))`, { eval: true, ...(process.env.NOARGV ? { execArgv: [] } : {}) });
w.on('message', (m) => { console.log(m, performance.now() - t); w.terminate(); });
w.on('error', (e) => console.log('err', e));
w.on('exit', () => console.log('exit', performance.now() - t));

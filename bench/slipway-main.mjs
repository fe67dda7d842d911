// The benchmark's way to run `slipway serve` from a fresh compile of src/ (bench/out/dist; dist/ may
// be older than src/). Usage: node [--expose-gc] bench/slipway-main.mjs <compiled cli/main.js> serve …
// Only for the benchmark: when node runs with --expose-gc, SIGUSR2 forces a full garbage collection
// and prints `bench:gc-done` with process.memoryUsage() on stderr, so memory can be read after GC without adding anything to
// the product.
import { pathToFileURL } from 'node:url';

const entry = process.argv[2];
if (entry === undefined) throw new Error('usage: slipway-main.mjs <compiled cli/main.js> serve …');

process.on('SIGUSR2', () => {
  const gc = globalThis.gc;
  if (typeof gc === 'function') {
    gc();
    gc();
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  process.stderr.write(`bench:gc-done ${typeof gc === 'function' ? 'gc' : 'no-gc'} ${JSON.stringify({ rss, heapUsed, external, arrayBuffers })}\n`);
});

const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(3));

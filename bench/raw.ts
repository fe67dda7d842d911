/**
 * Raw in-process throughput: one onnxruntime-node session in this process calling `run` back to back.
 * Usage: node --import tsx bench/raw.ts <model.onnx> <request.json> <batch> <intraOpThreads> <seconds> <startAtEpochMs>
 * Loads and warms up, waits until startAtEpochMs (so several of these processes measure the same
 * window), runs for `seconds`, and prints one JSON line: { rows, runs, seconds, p50Ms, p99Ms }.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [modelPath, requestPath, batchArg, threadsArg, secondsArg, startArg] = process.argv.slice(2);
if (modelPath === undefined || requestPath === undefined) throw new Error('usage: raw.ts <model> <request.json> <batch> <threads> <seconds> <startAt>');
const batch = Number(batchArg ?? 1);
const seconds = Number(secondsArg ?? 2);
const startAt = Number(startArg ?? Date.now());

const request = JSON.parse(readFileSync(requestPath, 'utf8')) as { inputs: { name: string; shape: number[]; data: number[] }[] };
const first = request.inputs[0];
if (first === undefined) throw new Error(`${requestPath} has no input`);
const rowShape = first.shape.slice(1);
const rowSize = rowShape.reduce((a, b) => a * b, 1);
const data = new Float32Array(batch * rowSize);
for (let i = 0; i < data.length; i++) data[i] = first.data[i % (first.data.length)] ?? 0;

const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: Number(threadsArg ?? 1), interOpNumThreads: 1 });
const feeds = { [first.name]: new ort.Tensor('float32', data, [batch, ...rowShape]) };
const warmEnd = performance.now() + 300;
for (let i = 0; i < 10_000 && performance.now() < warmEnd; i++) await session.run(feeds);
const wait = startAt - Date.now();
if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));

const latencies: number[] = [];
const started = performance.now();
const end = started + seconds * 1000;
// bounded: at most 10 million runs, far beyond any window used here
for (let i = 0; i < 10_000_000 && performance.now() < end; i++) {
  const t = performance.now();
  await session.run(feeds);
  latencies.push(performance.now() - t);
}
const elapsed = (performance.now() - started) / 1000;
await session.release();
latencies.sort((a, b) => a - b);
const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(p * latencies.length) - 1))] ?? NaN;
process.stdout.write(`${JSON.stringify({ rows: latencies.length * batch, runs: latencies.length, seconds: elapsed, p50Ms: q(0.5), p99Ms: q(0.99) })}\n`);

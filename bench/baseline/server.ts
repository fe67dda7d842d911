/**
 * The "what a user would write instead" peer: Fastify, one onnxruntime-node InferenceSession with
 * default options, `await session.run` per request, Open Inference Protocol JSON in and out, and
 * nothing else (no validation, no batching, no worker threads).
 * Usage: node --import tsx bench/baseline/server.ts <model.onnx>; prints `listening <url>`.
 */
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';

interface InferBody {
  inputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
}

const modelPath = process.argv[2];
if (modelPath === undefined) throw new Error('usage: baseline/server.ts <model.onnx>');
const session = await ort.InferenceSession.create(modelPath);

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
app.post<{ Params: { name: string }; Body: InferBody }>('/v2/models/:name/infer', async (req) => {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of req.body.inputs) feeds[input.name] = new ort.Tensor('float32', Float32Array.from(input.data), input.shape);
  const results = await session.run(feeds);
  return {
    model_name: req.params.name,
    outputs: Object.entries(results).map(([name, tensor]) => ({
      name,
      shape: tensor.dims,
      datatype: tensor.type === 'int64' ? 'INT64' : 'FP32',
      data: Array.from(tensor.data as ArrayLike<number | bigint>, Number),
    })),
  };
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${url}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});

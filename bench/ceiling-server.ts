/**
 * The HTTP ceiling: a bare Fastify server that accepts the same POST as an inference request
 * (Fastify parses its JSON body) and answers a fixed, pre-serialised JSON body. No validation, no
 * model. Usage: node --import tsx bench/ceiling-server.ts; prints `listening <url>`.
 */
import Fastify from 'fastify';

const body = JSON.stringify({
  model_name: 'ceiling',
  model_version: '1',
  outputs: [
    { name: 'label', shape: [1], datatype: 'INT64', data: [1] },
    { name: 'probabilities', shape: [1, 2], datatype: 'FP32', data: [0.25, 0.75] },
  ],
});

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
app.post('/v2/models/:name/infer', async (_req, reply) => reply.header('content-type', 'application/json').send(body));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${url}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});

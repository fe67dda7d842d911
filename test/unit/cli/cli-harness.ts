/**
 * Runs `main([...])` in-process with captured stdout and stderr, against the control-API test
 * server plus a fake Open Inference Protocol data plane (y = x + 1 and the row sums of y) that
 * records the requests it gets, so `predict` can be checked end to end without onnxruntime.
 */
import type { FastifyInstance } from 'fastify';
import type { InferenceRequestBody } from '../../../src/control/index.js';
import { main, type CliIo } from '../../../src/cli/main.js';
import type { Registry } from '../../../src/registry/index.js';
import { startControlHarness, type ControlHarness, type HarnessOptions } from '../control/harness.js';

export interface CapturedOutput {
  readonly isTTY: boolean;
  text: string;
  write(chunk: string): boolean;
}

export function capture(isTTY = false): CapturedOutput {
  const out: CapturedOutput = {
    isTTY,
    text: '',
    write(chunk) {
      out.text += chunk;
      return true;
    },
  };
  return out;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI with `argv`; no server address unless the caller gives one. */
export async function runCli(argv: readonly string[], io: Partial<CliIo> & { ttyStderr?: boolean } = {}): Promise<RunResult> {
  const stdout = capture();
  const stderr = capture(io.ttyStderr ?? false);
  const { ttyStderr: _tty, ...rest } = io;
  const code = await main(argv, { env: {}, stdout, stderr, ...rest });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export interface CliHarness extends ControlHarness {
  /** Requests the fake data plane received, newest last. */
  readonly inferRequests: { path: string; body: InferenceRequestBody }[];
  /** Runs the CLI against this server. */
  run(argv: readonly string[], io?: Partial<CliIo> & { ttyStderr?: boolean }): Promise<RunResult>;
}

function fakeDataPlane(inferRequests: CliHarness['inferRequests']) {
  return (app: FastifyInstance, registry: Registry): void => {
    const meta = (t: { name: string; datatype: string; shape: readonly number[] }) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape] });
    const metadata = async (req: { params: { name: string } }) => {
      const endpoint = await registry.getEndpoint(req.params.name);
      const version = await registry.getVersion(endpoint.model, endpoint.version);
      return {
        name: endpoint.name,
        versions: [String(endpoint.version)],
        platform: 'onnx_onnxv1',
        inputs: version.signature.inputs.map(meta),
        outputs: version.signature.outputs.map(meta),
      };
    };
    const infer = async (req: { params: { name: string }; url: string; body: unknown }) => {
      const endpoint = await registry.getEndpoint(req.params.name);
      const body = req.body as InferenceRequestBody;
      inferRequests.push({ path: req.url, body });
      const x = body.inputs[0];
      const rows = x?.shape[0] ?? 0;
      const cols = x?.shape[1] ?? 1;
      const y = (x?.data ?? []).map((v) => Number(v) + 1);
      const sums = Array.from({ length: rows }, (_, r) => y.slice(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0));
      return {
        model_name: endpoint.name,
        model_version: String(endpoint.version),
        parameters: { request_id: 'req-0001' },
        outputs: [
          { name: 'y', datatype: 'FP32', shape: [rows, cols], data: y },
          { name: 'sum', datatype: 'FP32', shape: [rows, 1], data: sums },
        ],
      };
    };
    const read = { config: { permission: 'models:read' as const } };
    const call = { config: { permission: 'inference:call' as const } };
    app.get<{ Params: { name: string } }>('/v2/models/:name', read, metadata);
    app.get<{ Params: { name: string } }>('/v2/models/:name/versions/:version', read, metadata);
    app.post<{ Params: { name: string } }>('/v2/models/:name/infer', call, infer);
    app.post<{ Params: { name: string } }>('/v2/models/:name/versions/:version/infer', call, infer);
  };
}

export async function startCliHarness(options: HarnessOptions = {}): Promise<CliHarness> {
  const inferRequests: CliHarness['inferRequests'] = [];
  const h = await startControlHarness({ ...options, extraRoutes: fakeDataPlane(inferRequests) });
  return Object.assign(h, {
    inferRequests,
    run: (argv: readonly string[], io: Partial<CliIo> & { ttyStderr?: boolean } = {}) =>
      runCli(argv, { cwd: h.dir, env: { SLIPWAY_SERVER: h.url }, ...io }),
  });
}

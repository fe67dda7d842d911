/** `slipway inspect FILE.onnx`: reads a model locally with the ONNX toolkit; no server needed. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { toPlatformError } from '../../core/index.js';
import { ControlErrors } from '../../control/index.js';
import { commandContext } from '../context.js';
import type { CliIo } from '../io.js';
import { formatBytes, formatShape } from '../output.js';

/** Dims as `[batch, 4]`: numbers fixed, names symbolic, `?` unknown; `(rank not declared)` when the model declares none. */
function dimsText(dims: readonly (number | string | null)[] | null | undefined): string {
  if (dims === null || dims === undefined) return '(rank not declared)';
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

export function registerInspectCommand(program: Command, io: CliIo): void {
  program
    .command('inspect')
    .description('describe a local ONNX file: inputs, outputs, opsets, size, and whether Slipway can serve it')
    .argument('<file>', 'the .onnx file')
    .action(async (file: string, _options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const path = ctx.path(file);
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw ControlErrors.CONTROL_CLIENT_FILE_NOT_FOUND(`cannot inspect ${file}: no such file`, { details: { path } });
        throw ControlErrors.CONTROL_CLIENT_FILE_UNREADABLE(`cannot read ${file}: ${(error as Error).message}`, { details: { path } });
      }
      // loaded on demand: the protobuf codec is only needed here
      const { inspectModel, toSignature } = await import('../../onnx/index.js');
      const inspection = inspectModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
      let signature: ReturnType<typeof toSignature> | null = null;
      let refusal: { code: string; message: string } | null = null;
      try {
        signature = toSignature(inspection);
      } catch (error) {
        const platform = toPlatformError(error);
        refusal = { code: platform.code, message: platform.message };
      }
      ctx.out.result({ file, inspection, signature, refusal }, () => {
        const opsets = inspection.opsets.map((o) => `${o.domain === '' ? 'ai.onnx' : o.domain} ${o.version}`).join(', ');
        ctx.out.fields([
          ['File', file],
          ['Size', formatBytes(inspection.sizeBytes)],
          ['IR version', String(inspection.irVersion)],
          ['Producer', inspection.producerName === '' ? undefined : `${inspection.producerName} ${inspection.producerVersion}`.trim()],
          ['Graph', inspection.graphName === '' ? undefined : inspection.graphName],
          ['Opsets', opsets === '' ? '(none)' : opsets],
          ['Nodes', `${inspection.nodeCount} (${inspection.opTypes.slice(0, 8).map((o) => `${o.opType}×${o.count}`).join(', ')}${inspection.opTypes.length > 8 ? ', …' : ''})`],
          ['Initializers', `${inspection.initializers.count} (${formatBytes(inspection.initializers.bytes)})`],
          ['Serving', refusal === null ? 'servable over the Open Inference Protocol' : `refused — ${refusal.message}`],
        ]);
        ctx.out.line();
        const rows = (list: typeof inspection.inputs, served: readonly { name: string; datatype: string; shape: readonly number[]; dimNames?: readonly (string | null)[] }[] | undefined): string[][] =>
          list.map((v) => {
            const spec = served?.find((s) => s.name === v.name);
            const dims = 'dims' in v.type ? dimsText(v.type.dims) : '';
            return [v.name, v.type.text, spec === undefined ? '-' : `${spec.datatype} ${formatShape(spec)}`, dims];
          });
        ctx.out.table(['INPUT', 'ONNX TYPE', 'SERVED AS', 'DIMS'], rows(inspection.inputs, signature?.inputs), 'no inputs');
        ctx.out.line();
        ctx.out.table(['OUTPUT', 'ONNX TYPE', 'SERVED AS', 'DIMS'], rows(inspection.outputs, signature?.outputs), 'no outputs');
        for (const warning of inspection.warnings) ctx.out.note(`warning: ${warning}`);
      });
    });
}

/** `slipway predict ENDPOINT --data JSON|@file.json|file.csv`. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ControlErrors } from '../../control/index.js';
import { commandContext, type CommandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { dataFromJson, predictionTable, requestFromRows, rowsFromCsv, type PredictData } from '../predict-data.js';
import { versionArg } from './models.js';

interface PredictOptions {
  data: string;
  version?: number;
  target?: string;
}

function readLocal(ctx: CommandContext, file: string): string {
  const path = ctx.path(file);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw ControlErrors.CONTROL_CLIENT_FILE_NOT_FOUND(`cannot read ${file}: no such file`, { details: { path } });
    throw ControlErrors.CONTROL_CLIENT_FILE_UNREADABLE(`cannot read ${file}: ${(error as Error).message}`, { details: { path } });
  }
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw CliErrors.CLI_INVALID_DATA(`${where} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Reads --data: inline JSON, `@file` (CSV by extension, else JSON), or a path ending in .csv or .json. */
function readData(ctx: CommandContext, value: string, target: string | undefined): PredictData {
  const file = value.startsWith('@') ? value.slice(1) : /\.(csv|json)$/i.test(value) ? value : undefined;
  if (file !== undefined) {
    const text = readLocal(ctx, file);
    if (/\.csv$/i.test(file)) return { kind: 'rows', data: rowsFromCsv(text, target) };
    return dataFromJson(parseJson(text, file), target);
  }
  if (!/^\s*[[{]/.test(value)) {
    throw CliErrors.CLI_USAGE(`--data must be inline JSON (a request body or a list of rows), a .json or .csv file, or @file; got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return dataFromJson(parseJson(value, '--data'), target);
}

export function registerPredictCommand(program: Command, io: CliIo): void {
  program
    .command('predict')
    .description('call an endpoint (POST /v2/models/ENDPOINT/infer) and print its outputs')
    .argument('<endpoint>', 'endpoint name')
    .requiredOption('--data <data>', 'a request body or rows as JSON, @file.json, or file.csv (a header row, one example per row)')
    .option('--version <n>', 'call this deployed version instead of letting the endpoint route', versionArg)
    .option('--target <column>', 'a column of the rows to leave out of the input (the label), shown beside the outputs')
    .action(async (endpoint: string, options: PredictOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const data = readData(ctx, options.data, options.target);
      const client = ctx.client();
      let request;
      let target: readonly unknown[] | undefined;
      if (data.kind === 'request') request = data.request;
      else {
        const metadata = await client.modelMetadata(endpoint, options.version);
        request = requestFromRows(endpoint, data.data, metadata.inputs);
        target = data.data.target;
      }
      const response = await client.infer(endpoint, request, options.version);
      ctx.out.result(response, () => {
        const table = predictionTable(response, target);
        const requestId = response.parameters?.request_id;
        ctx.out.line(`${response.model_name} version ${response.model_version ?? '?'}${requestId === undefined ? '' : ` · request ${String(requestId)}`}`);
        if (table.headers.length > 1) ctx.out.table(table.headers, table.rows, 'No rows.');
        for (const line of table.others) ctx.out.line(line);
      });
    });
}

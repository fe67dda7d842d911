/** `slipway predict ENDPOINT --data JSON|@file.json|file.csv [--target COL [--feedback]]`. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ControlErrors } from '../../control/index.js';
import { commandContext, type CommandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { createMonitoringClient } from '../../monitoring/client.js';
import type { FeedbackItem } from '../../monitoring/types.js';
import { dataFromJson, predictionTable, requestFromRows, rowsFromCsv, type PredictData, type Rows } from '../predict-data.js';
import { versionArg } from './models.js';

interface PredictOptions {
  data: string;
  version?: number;
  target?: string;
  feedback?: boolean;
  concurrency?: number;
}

/** Feedback items per POST /api/v1/feedback (under the server's default limit of 1,000). */
const FEEDBACK_BATCH = 500;

/**
 * `--feedback`: every row its own request (as live traffic is), then the target of each row sent
 * as the label of its request id — what a labelling pipeline does once the truth is known. Prints a
 * summary rather than every row.
 */
async function predictWithFeedback(ctx: CommandContext, endpoint: string, data: Rows, options: PredictOptions): Promise<void> {
  const target = data.target;
  if (target === undefined) throw CliErrors.CLI_USAGE('--feedback sends the --target column as labels: name it with --target COLUMN');
  const client = ctx.client();
  const metadata = await client.modelMetadata(endpoint, options.version);
  const started = Date.now();
  const labels: FeedbackItem[] = [];
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < data.rows.length; i = next++) {
      const one: Rows = { columns: data.columns, rows: [data.rows[i] as readonly unknown[]], target: undefined };
      try {
        const response = await client.infer(endpoint, requestFromRows(endpoint, one, metadata.inputs), options.version);
        const requestId = response.parameters?.request_id;
        const label = target[i];
        if (typeof requestId === 'string' && (typeof label === 'string' || typeof label === 'number')) labels.push({ requestId, label: typeof label === 'string' && label.trim() !== '' && Number.isFinite(Number(label)) ? Number(label) : label });
      } catch (error) {
        if (failures.length < 5) failures.push(`row ${i + 1}: ${(error as Error).message}`);
        else failures.push('');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, data.rows.length) }, worker));
  const monitoring = createMonitoringClient(ctx.clientOptions);
  let accepted = 0;
  let unknown = 0;
  for (let i = 0; i < labels.length; i += FEEDBACK_BATCH) {
    // a prediction the server could not record (its buffer was full) must not cost the batch its other labels
    const receipt = await monitoring.sendFeedback(labels.slice(i, i + FEEDBACK_BATCH), { skipUnknown: true });
    accepted += receipt.accepted;
    unknown += receipt.unknownRequestIds.length;
  }
  const summary = { endpoint, rows: data.rows.length, answered: data.rows.length - failures.length, failed: failures.length, labelsAccepted: accepted, labelsUnknown: unknown, seconds: (Date.now() - started) / 1000 };
  ctx.out.result(summary, () => {
    const lost = unknown === 0 ? '' : ` (${unknown} for predictions the server has no record of)`;
    ctx.out.line(`${summary.rows} rows sent one per request to ${endpoint}: ${summary.answered} answered, ${summary.failed} failed; ${summary.labelsAccepted} labels sent as feedback${lost} (${summary.seconds.toFixed(1)} s)`);
    for (const f of failures.filter((x) => x !== '')) ctx.out.line(`  ${f}`);
  });
  if (failures.length > 0) throw CliErrors.CLI_INVALID_DATA(`${failures.length} of ${data.rows.length} rows failed; the first: ${failures[0] ?? ''}`);
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
    .option('--feedback', 'send every row as its own request, then its --target value as that request\'s label (POST /api/v1/feedback); prints a summary')
    .option('--concurrency <n>', 'requests in flight with --feedback (default 8)', versionArg)
    .action(async (endpoint: string, options: PredictOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const data = readData(ctx, options.data, options.target);
      if (options.feedback === true) {
        if (data.kind !== 'rows') throw CliErrors.CLI_USAGE('--feedback needs rows (a CSV file or a JSON list of rows), not a request body');
        await predictWithFeedback(ctx, endpoint, data.data, options);
        return;
      }
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

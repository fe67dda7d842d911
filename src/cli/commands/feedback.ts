/** `slipway feedback REQUEST_ID [--label L] [--value V] [--event E]` and `slipway predictions show REQUEST_ID`. */
import { InvalidArgumentError, type Command } from 'commander';
import type { FeedbackItem, PredictionResponse, PredictionView } from '../../monitoring/index.js';
import { createMonitoringClient } from '../../monitoring/client.js';
import { commandContext, type CommandContext } from '../context.js';
import { CliErrors } from '../errors.js';
import type { CliIo } from '../io.js';
import { formatTime } from '../output.js';

interface FeedbackOptions {
  label?: string;
  value?: number;
  event?: string;
}

/** Commander parser for --value: a finite number. */
export function finiteNumberArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a finite number (12.5, -3, 1e3)');
  return n;
}

/**
 * A label as typed: a number written in its shortest form (`1`, `0.5`, `-3`) is sent as a number,
 * anything else as text. Slipway compares labels with predictions as text, so `1` and `"1"` join
 * the same class either way; this only decides how the label is shown back.
 */
export function labelFromText(text: string): string | number {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) && String(n) === text ? n : text;
}

/** The feedback item the options describe; CLI_USAGE when they describe nothing. */
export function feedbackItem(requestId: string, options: FeedbackOptions): FeedbackItem {
  if (options.label === undefined && options.value === undefined && options.event === undefined) {
    throw CliErrors.CLI_USAGE('give at least one of --label, --value or --event');
  }
  return {
    requestId,
    ...(options.label === undefined ? {} : { label: labelFromText(options.label) }),
    ...(options.value === undefined ? {} : { value: options.value }),
    ...(options.event === undefined ? {} : { event: options.event }),
  };
}

function describeItem(item: FeedbackItem): string {
  const parts: string[] = [];
  if (item.label !== undefined) parts.push(`label ${String(item.label)}`);
  if (item.event !== undefined) parts.push(`event ${item.event}`);
  if (item.value !== undefined) parts.push(`value ${item.value}`);
  return parts.join(', ');
}

/** `3 (argmax of y)`, `cat (label y)`, `0.93 (value of score)`, or `-` for none. */
function formatPredicted(p: PredictionView['outputs']['predicted']): string {
  if (p === null) return '-';
  const how = p.kind === 'scores' ? 'argmax of' : p.kind === 'label' ? 'label' : 'value of';
  return `${String(p.value)} (${how} ${p.output})`;
}

function formatValues(values: readonly (string | number | null)[] | undefined, truncated: boolean | undefined): string {
  if (values === undefined) return '-';
  const shown = values.map((v) => (v === null ? 'null' : String(v))).join(', ');
  return truncated === true ? `${shown}, …` : shown;
}

function printPrediction(ctx: CommandContext, found: PredictionResponse): void {
  const r = found.prediction;
  const label = found.feedback.label;
  ctx.out.fields([
    ['Request', r.requestId],
    ['At', formatTime(r.at)],
    ['Endpoint', r.endpoint],
    ['Version', r.version === null ? '- (refused before a version was chosen)' : `${r.model ?? '?'}:${r.version}`],
    ['Variant', r.variant],
    ['Status', String(r.status)],
    ['Latency', `${Number(r.latencyMs.toFixed(3))} ms`],
    ['Predicted', formatPredicted(r.outputs.predicted)],
    ['Label', label === null ? '-' : `${String(label.value)} (at ${formatTime(label.at)})`],
  ]);
  if (r.outputs.tensors.length > 0) {
    ctx.out.line();
    ctx.out.table(
      ['OUTPUT', 'KIND', 'DATATYPE', 'SHAPE', 'VALUES'],
      r.outputs.tensors.map((t) => [t.name, t.kind, t.datatype, `[${t.shape.join(', ')}]`, formatValues(t.values, t.truncated)]),
      '',
    );
  }
  if (found.feedback.outcomes.length > 0) {
    ctx.out.line();
    ctx.out.table(
      ['EVENT', 'VALUE', 'AT'],
      found.feedback.outcomes.map((o) => [o.event ?? '(value)', o.value === null ? '-' : String(o.value), formatTime(o.at)]),
      '',
    );
  }
  if (found.shadow !== null) {
    const s = found.shadow;
    ctx.out.line();
    ctx.out.line(`Shadow ${s.model ?? '?'}:${s.version ?? '?'}: status ${s.status}, ${Number(s.latencyMs.toFixed(3))} ms, predicted ${formatPredicted(s.outputs.predicted)}`);
  }
}

export function registerFeedbackCommands(program: Command, io: CliIo): void {
  program
    .command('feedback')
    .description('send a later fact about a prediction (its true label, an event, a value), joined by its request id (POST /api/v1/feedback)')
    .argument('<request-id>', "the prediction's request id: its x-request-id header or parameters.request_id")
    .option('--label <label>', 'the true answer: a class name or index, or the true value')
    .option('--value <number>', 'a number: the event\'s value (a purchase\'s revenue), or without --event the prediction\'s own', finiteNumberArg)
    .option('--event <name>', 'something that happened after the prediction (conversion, click)')
    .action(async (requestId: string, options: FeedbackOptions, command: Command) => {
      const ctx = commandContext(io, command);
      const item = feedbackItem(requestId, options);
      const result = await createMonitoringClient(ctx.clientOptions).sendFeedback(item);
      ctx.out.result(result, () => ctx.out.line(`Feedback recorded for ${requestId}: ${describeItem(item)}`));
    });

  const predictions = program.command('predictions').description('look up recorded predictions and their feedback');

  predictions
    .command('show')
    .description('show the record of one prediction: endpoint, version, variant, outputs, its feedback and its shadow (GET /api/v1/predictions/ID)')
    .argument('<request-id>', "the prediction's request id")
    .action(async (requestId: string, _options: object, command: Command) => {
      const ctx = commandContext(io, command);
      const found = await createMonitoringClient(ctx.clientOptions).getPrediction(requestId);
      ctx.out.result(found, () => printPrediction(ctx, found));
    });
}

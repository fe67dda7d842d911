/** The CSV reader behind `slipway predict --data file.csv`: the shared tabular reader (src/serving/tabular.ts) with the CLI's error. */
import { parseCsvText } from '../serving/tabular.js';
import { CliErrors } from './errors.js';

/** Splits CSV text into rows of cells: quoted fields, `""` escapes, LF or CRLF; blank lines are skipped. */
export function parseCsv(text: string): string[][] {
  return parseCsvText(text, (message) => CliErrors.CLI_INVALID_DATA(message));
}

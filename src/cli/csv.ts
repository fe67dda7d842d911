/** A small RFC 4180 CSV reader for `slipway predict --data file.csv`: quoted fields, `""` escapes, LF or CRLF. */
import { CliErrors } from './errors.js';

/** Splits CSV text into rows of cells; blank lines are skipped. */
export function parseCsv(text: string): string[][] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let quoteLine = 0;
  const endRow = (): void => {
    row.push(cell);
    cell = '';
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell === '') {
      quoted = true;
      quoteLine = line;
    } else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      line++;
      endRow();
    } else {
      cell += ch;
    }
  }
  if (quoted) throw CliErrors.CLI_INVALID_DATA(`CSV: the quoted field opened on line ${quoteLine} is never closed`);
  if (cell !== '' || row.length > 0) endRow();
  return rows;
}

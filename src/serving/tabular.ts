/**
 * Tabular data for a model's inputs, shared by `slipway predict --data FILE.csv` (src/cli) and
 * reference profiles (src/monitoring/profiles): an RFC 4180 CSV reader that takes its text in
 * pieces (so a large file is read in chunks, never whole), and the conversion of one cell to a value
 * of an input's datatype. Errors are built by the caller's `fail`, so each edge keeps its own codes.
 *
 * Imported by path (`serving/tabular.js`), not through serving's index: it needs nothing but core,
 * and the monitoring domain imports it without pulling in the data plane.
 */

/** Builds the error thrown for a malformed file or cell; the message names what was expected. */
export type TabularFail = (message: string) => Error;

/** A cell converted for a tensor of the input's datatype. */
export type TabularCell = number | boolean | string;

export interface CsvReaderOptions {
  readonly fail: TabularFail;
  /**
   * Longest field accepted, in characters: a file with an unclosed quote would otherwise gather the
   * rest of the file into one field. Default: no limit (the caller holds the whole text anyway).
   */
  readonly maxFieldChars?: number;
}

/** A CSV reader fed in pieces: quoted fields, `""` escapes, LF, CRLF or CR line ends, a leading BOM dropped, blank lines skipped. */
export interface CsvReader {
  /** Reads the next piece of text; returns the rows it completed (a row may span pieces). */
  push(text: string): string[][];
  /** Ends the text: returns the last row if it had no line end; fails on an unclosed quote. */
  end(): string[][];
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let k = text.indexOf('\n', from); k >= 0 && k < to; k = text.indexOf('\n', k + 1)) n++;
  return n;
}

/** Creates a reader; see {@link CsvReader}. */
export function createCsvReader(options: CsvReaderOptions): CsvReader {
  const maxField = options.maxFieldChars ?? Infinity;
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  // inside a quoted field the last piece ended on a quote: the next character decides (escape or close)
  let quoteAtEnd = false;
  // the last piece ended on CR: a LF opening the next one belongs to the same line end
  let crAtEnd = false;
  let started = false;
  let line = 1;
  let quoteLine = 0;

  const checkField = (): void => {
    if (cell.length > maxField) throw options.fail(`CSV: the field on line ${quoted ? quoteLine : line} is longer than ${maxField} characters${quoted ? ' (is a quote left open?)' : ''}`);
  };
  const endRow = (out: string[][]): void => {
    row.push(cell);
    cell = '';
    if (!(row.length === 1 && row[0] === '')) out.push(row);
    row = [];
  };

  return {
    push(piece) {
      const out: string[][] = [];
      let src = piece;
      if (!started && src.length > 0) {
        started = true;
        if (src.charCodeAt(0) === 0xfeff) src = src.slice(1);
      }
      const n = src.length;
      let i = 0;
      if (crAtEnd && n > 0) {
        crAtEnd = false;
        if (src.charCodeAt(0) === LF) i = 1;
      }
      if (quoteAtEnd && n > 0) {
        quoteAtEnd = false;
        if (src.charCodeAt(0) === QUOTE) {
          cell += '"';
          i += 1;
        } else quoted = false;
      }
      while (i < n) {
        if (quoted) {
          const q = src.indexOf('"', i);
          const stop = q < 0 ? n : q;
          line += countNewlines(src, i, stop);
          cell += src.slice(i, stop);
          checkField();
          if (q < 0) break;
          if (q + 1 >= n) {
            quoteAtEnd = true;
            i = n;
          } else if (src.charCodeAt(q + 1) === QUOTE) {
            cell += '"';
            i = q + 2;
          } else {
            quoted = false;
            i = q + 1;
          }
          continue;
        }
        // a quote opens a quoted field only at the start of a cell; elsewhere it is a character
        if (src.charCodeAt(i) === QUOTE && cell === '') {
          quoted = true;
          quoteLine = line;
          i++;
          continue;
        }
        let j = i;
        for (; j < n; j++) {
          const c = src.charCodeAt(j);
          if (c === COMMA || c === LF || c === CR) break;
        }
        if (j > i) {
          cell += src.slice(i, j);
          checkField();
          i = j;
        }
        if (i >= n) break;
        const c = src.charCodeAt(i);
        if (c === COMMA) {
          row.push(cell);
          cell = '';
          i++;
          continue;
        }
        line++;
        endRow(out);
        if (c === CR) {
          if (i + 1 >= n) crAtEnd = true;
          else if (src.charCodeAt(i + 1) === LF) i++;
        }
        i++;
      }
      return out;
    },
    end() {
      if (quoteAtEnd) {
        quoteAtEnd = false;
        quoted = false;
      }
      if (quoted) throw options.fail(`CSV: the quoted field opened on line ${quoteLine} is never closed`);
      const out: string[][] = [];
      if (cell !== '' || row.length > 0) endRow(out);
      return out;
    },
  };
}

/** Splits whole CSV text into rows of cells (see {@link CsvReader}). */
export function parseCsvText(text: string, fail: TabularFail): string[][] {
  const reader = createCsvReader({ fail });
  const rows = reader.push(text);
  for (const r of reader.end()) rows.push(r);
  return rows;
}

const INTEGER_TYPES: ReadonlySet<string> = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

/**
 * Converts one cell (text from a CSV file, or a JSON value) to a value of `datatype`, as `slipway
 * predict` sends it: BYTES as text, BOOL from true/false/1/0, numbers otherwise (whole numbers for
 * integer types). `where` names the cell (`row 3, column age`) in the error.
 */
export function tensorCell(raw: unknown, datatype: string, where: () => string, fail: TabularFail): TabularCell {
  if (datatype === 'BYTES') return typeof raw === 'string' ? raw : JSON.stringify(raw);
  const text = typeof raw === 'string' ? raw.trim() : raw;
  if (datatype === 'BOOL') {
    if (text === true || text === 'true' || text === 1 || text === '1') return true;
    if (text === false || text === 'false' || text === 0 || text === '0') return false;
    throw fail(`${where()}: ${JSON.stringify(raw)} is not a boolean (true, false, 1 or 0)`);
  }
  const n = typeof text === 'number' ? text : typeof text === 'string' && text !== '' ? Number(text) : NaN;
  if (!Number.isFinite(n)) throw fail(`${where()}: ${JSON.stringify(raw)} is not a number`);
  if (INTEGER_TYPES.has(datatype) && !Number.isInteger(n)) throw fail(`${where()}: ${n} is not a whole number (input datatype ${datatype})`);
  return n;
}

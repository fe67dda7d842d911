/**
 * Reading and writing the simple CSV files the examples use: one header row, comma separated,
 * no quoting. Errors name the file, the line and the column so a broken dataset is easy to fix.
 */
import { readFile } from 'node:fs/promises';
import { ExamplesErrors } from './errors.js';
import { createMatrix, type Matrix } from './matrix.js';

/** A parsed CSV file: its header and its rows of cell text, each as long as the header. */
export interface CsvTable {
  /** Where the text came from (a path), used in error messages. */
  readonly source: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/**
 * Parses CSV text with a header row. Accepts `\n` or `\r\n` line endings and a trailing newline;
 * rejects quoted cells (the example datasets have none), empty or duplicate header names, and rows
 * whose cell count differs from the header's.
 */
export function parseCsv(text: string, source: string): CsvTable {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  // A file ends with one newline; drop the empty strings that leaves, but no blank line inside.
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const headerLine = lines[0];
  if (headerLine === undefined) throw ExamplesErrors.EXAMPLES_CSV_INVALID(`${source}: the file is empty; expected a header row`);
  const header = splitLine(headerLine, source, 1);
  const seen = new Set<string>();
  header.forEach((name, c) => {
    if (name.trim() === '') throw ExamplesErrors.EXAMPLES_CSV_INVALID(`${source}: line 1: header cell ${c + 1} is empty; every column needs a name`);
    if (seen.has(name)) throw ExamplesErrors.EXAMPLES_CSV_INVALID(`${source}: line 1: column "${name}" appears twice in the header`);
    seen.add(name);
  });
  const rows: string[][] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = splitLine(lines[i] ?? '', source, i + 1);
    if (cells.length !== header.length) {
      throw ExamplesErrors.EXAMPLES_CSV_INVALID(
        `${source}: line ${i + 1}: ${cells.length} cells, expected ${header.length} (one per header column)`,
        { details: { source, line: i + 1 } },
      );
    }
    rows.push(cells);
  }
  return { source, header, rows };
}

function splitLine(line: string, source: string, lineNo: number): string[] {
  if (line.includes('"')) {
    throw ExamplesErrors.EXAMPLES_CSV_INVALID(`${source}: line ${lineNo}: quoted cells are not supported; expected plain comma-separated values`);
  }
  return line.split(',');
}

/** Reads and parses a CSV file; a missing file is EXAMPLES_DATA_NOT_FOUND. */
export async function readCsvFile(path: string): Promise<CsvTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw ExamplesErrors.EXAMPLES_DATA_NOT_FOUND(`dataset file ${path} does not exist`, { cause: error });
    }
    throw error;
  }
  return parseCsv(text, path);
}

/** The position of a named column; an unknown name is an error listing the columns there are. */
export function columnIndex(table: CsvTable, name: string): number {
  const index = table.header.indexOf(name);
  if (index < 0) {
    throw ExamplesErrors.EXAMPLES_CSV_INVALID(`${table.source}: no column "${name}"; the columns are ${table.header.map((h) => `"${h}"`).join(', ')}`);
  }
  return index;
}

/** Parses one cell as a finite number, or throws naming the file, line and column. */
export function parseNumber(cell: string, table: CsvTable, row: number, column: string): number {
  const value = cell.trim() === '' ? Number.NaN : Number(cell);
  if (!Number.isFinite(value)) {
    throw ExamplesErrors.EXAMPLES_CSV_INVALID(`${table.source}: line ${row + 2}, column "${column}": expected a number, got "${cell}"`, {
      details: { source: table.source, line: row + 2, column },
    });
  }
  return value;
}

/** Parses the named columns of every row into a matrix (rows × columns.length), in column order. */
export function numericColumns(table: CsvTable, columns: readonly string[]): Matrix {
  const indices = columns.map((c) => columnIndex(table, c));
  const m = createMatrix(table.rows.length, columns.length);
  table.rows.forEach((cells, r) => {
    indices.forEach((ci, c) => {
      m.data[r * columns.length + c] = parseNumber(cells[ci] ?? '', table, r, columns[c] ?? '');
    });
  });
  return m;
}

/** Parses one named column into a vector. */
export function numericColumn(table: CsvTable, column: string): Float64Array {
  return numericColumns(table, [column]).data;
}

/** Formats a header and rows of cells as CSV text with `\n` line endings and a final newline. */
export function formatCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  for (const cell of [...header, ...rows.flat()]) {
    if (/[",\r\n]/.test(cell)) throw ExamplesErrors.EXAMPLES_CSV_INVALID(`csv: cell "${cell}" would need quoting, which this writer does not do`);
  }
  return [header, ...rows].map((r) => r.join(',')).join('\n') + '\n';
}

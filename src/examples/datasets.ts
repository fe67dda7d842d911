/**
 * The datasets the example models train on, with their attribution. The files live in
 * examples/data/ (copied into the repository with their licences); nothing reads them from
 * anywhere else at run time.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCsv, type CsvTable } from './csv.js';
import { ExamplesErrors } from './errors.js';

/** Where a dataset comes from and under which licence. */
export interface DatasetInfo {
  readonly file: string;
  readonly title: string;
  readonly citation: string;
  readonly doi: string;
  readonly license: string;
}

/** A dataset file read from disk: its parsed table and the SHA-256 of its bytes (lineage). */
export interface LoadedDataset {
  readonly info: DatasetInfo;
  readonly table: CsvTable;
  readonly sha256: string;
}

export const BREAST_CANCER_DATASET: DatasetInfo = {
  file: 'breast_cancer.csv',
  title: 'Breast Cancer Wisconsin (Diagnostic)',
  citation: 'W.H. Wolberg, W.N. Street, O.L. Mangasarian, Breast Cancer Wisconsin (Diagnostic), UCI Machine Learning Repository (1995)',
  doi: '10.24432/C5DW2B',
  license: 'CC BY 4.0',
};

export const DIGITS_DATASET: DatasetInfo = {
  file: 'digits.csv',
  title: 'Optical Recognition of Handwritten Digits',
  citation: 'E. Alpaydin, C. Kaynak, Optical Recognition of Handwritten Digits, UCI Machine Learning Repository (1998)',
  doi: '10.24432/C50P49',
  license: 'CC BY 4.0',
};

export const BIKE_SHARING_DATASET: DatasetInfo = {
  file: 'bike_sharing_hourly.csv',
  title: 'Bike Sharing (hourly)',
  citation: 'H. Fanaee-T, Bike Sharing, UCI Machine Learning Repository (2013); H. Fanaee-T and J. Gama, Event labeling combining ensemble detectors and background knowledge, Progress in Artificial Intelligence (2013), doi:10.1007/s13748-013-0040-3',
  doi: '10.24432/C5W894',
  license: 'CC BY 4.0',
};

/** Reads a dataset from `dataDir`; a missing file is EXAMPLES_DATA_NOT_FOUND. */
export async function loadDataset(dataDir: string, info: DatasetInfo): Promise<LoadedDataset> {
  const path = join(dataDir, info.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw ExamplesErrors.EXAMPLES_DATA_NOT_FOUND(`dataset file ${path} does not exist (expected ${info.title})`, { cause: error });
    }
    throw error;
  }
  return { info, table: parseCsv(bytes.toString('utf8'), path), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** One line of attribution: title, citation, DOI and licence. */
export function attribution(info: DatasetInfo): string {
  return `${info.title}. ${info.citation}. doi:${info.doi}. Licence: ${info.license}.`;
}

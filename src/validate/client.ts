/**
 * The typed client of the pre-deployment routes (validation, datasets, capacity plans, optimisation), on the same options as the control client and failing
 * the same way (the server's `{error, code}` bodies as PlatformErrors). Datasets are streamed from disk.
 */
import { createHttpCaller, fileBody, fileSize, type ControlClientOptions } from '../control/index.js';
import type { PlanSummary } from '../optimize/plan/ports.js';
import type { PlanJob, StartPlanInput } from '../optimize/plan/service.js';
import type { Optimization, OptimizeRequest } from '../optimize/service.js';
import type { DatasetRecord } from './ports.js';
import type { StartValidationInput, ValidationJob } from './service.js';
import type { ValidationReport, ValidationSummary } from './types.js';

export type StartValidationBody = Omit<StartValidationInput, 'model' | 'version' | 'by'>;

export interface ValidationClient {
  /** PUT /api/v1/datasets with the CSV file as the body. */
  uploadDataset(filePath: string, name: string): Promise<{ dataset: DatasetRecord }>;
  listDatasets(): Promise<{ datasets: DatasetRecord[] }>;
  start(model: string, version: number, body: StartValidationBody): Promise<{ validation: ValidationJob }>;
  job(id: string): Promise<{ validation: ValidationJob }>;
  report(id: string): Promise<{ report: ValidationReport }>;
  /** The report as one HTML page. */
  reportHtml(id: string): Promise<string>;
  latest(model: string, version: number): Promise<{ report: ValidationReport }>;
  list(model: string, version: number): Promise<{ validations: ValidationSummary[] }>;
  /** POST /api/v1/models/{model}/versions/{version}/plans: starts a capacity plan (docs/plan.md). */
  startPlan(model: string, version: number, body: Omit<StartPlanInput, 'model' | 'version' | 'target'> & StartPlanInput['target']): Promise<{ plan: PlanJob }>;
  plan(id: string): Promise<{ plan: PlanJob }>;
  /** GET /api/v1/models/{model}/versions/{version}/plans: the version's plans, newest first. */
  listPlans(model: string, version: number): Promise<{ plans: PlanSummary[] }>;
  /** POST /api/v1/models/{model}/versions/{version}/optimize (docs/optimize.md). */
  optimize(model: string, version: number, body: Omit<OptimizeRequest, 'model' | 'version' | 'by'>): Promise<{ optimization: Optimization }>;
  optimization(id: string): Promise<{ optimization: Optimization }>;
}

export function createValidationClient(options: ControlClientOptions): ValidationClient {
  const { send, decode, call } = createHttpCaller(options);
  const seg = (x: string | number): string => encodeURIComponent(String(x));
  const versionPath = (model: string, version: number): string => `/api/v1/models/${seg(model)}/versions/${seg(version)}/validations`;
  return {
    async uploadDataset(filePath, name) {
      const size = await fileSize(filePath);
      const path = `/api/v1/datasets?name=${encodeURIComponent(name)}`;
      const file = fileBody(filePath, size);
      try {
        const response = await send('PUT', path, { body: file.body, duplex: true, headers: { 'content-type': 'text/csv', 'content-length': String(size) } });
        return await decode<{ dataset: DatasetRecord }>('PUT', path, response);
      } finally {
        file.close();
      }
    },
    listDatasets: () => call('GET', '/api/v1/datasets'),
    start: (model, version, body) => call('POST', versionPath(model, version), body),
    job: (id) => call('GET', `/api/v1/validations/${seg(id)}`),
    report: (id) => call('GET', `/api/v1/validations/${seg(id)}/report`),
    async reportHtml(id) {
      const path = `/api/v1/validations/${seg(id)}/report?format=html`;
      const response = await send('GET', path);
      if (!response.ok) await decode('GET', path, response);
      return response.text();
    },
    latest: (model, version) => call('GET', `${versionPath(model, version)}/latest`),
    list: (model, version) => call('GET', versionPath(model, version)),
    startPlan: (model, version, body) => call('POST', `/api/v1/models/${seg(model)}/versions/${seg(version)}/plans`, body),
    plan: (id) => call('GET', `/api/v1/plans/${seg(id)}`),
    listPlans: (model, version) => call('GET', `/api/v1/models/${seg(model)}/versions/${seg(version)}/plans`),
    optimize: (model, version, body) => call('POST', `/api/v1/models/${seg(model)}/versions/${seg(version)}/optimize`, body),
    optimization: (id) => call('GET', `/api/v1/optimizations/${seg(id)}`),
  };
}

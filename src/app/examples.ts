/**
 * Deploys the example models at start (`npm start`): builds them if missing, registers each as a
 * version, points its `production` alias at it, and creates an endpoint named after the model that
 * follows that alias. Idempotent: identical bytes map to the existing version.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toPlatformError, type Logger } from '../core/index.js';
import { buildExamples, EXAMPLE_NAMES, missingExamples } from '../examples/index.js';
import type { Registry } from '../registry/index.js';

export interface DeployExamplesOptions {
  readonly registry: Registry;
  /** The repository's examples/ folder (data/ in, models/ out). */
  readonly examplesDir: string;
  readonly logger: Logger;
}

const ACTOR = { by: 'slipway', reason: 'example model deployed by `slipway serve --examples`' };

/** Builds the example models if any is missing; returns the folder holding them. */
export async function ensureExampleModels(examplesDir: string, logger: Logger): Promise<string> {
  const modelsDir = join(examplesDir, 'models');
  const missing = await missingExamples(modelsDir);
  if (missing.length > 0) {
    logger.info({ missing }, 'training the example models (one time, a few seconds)');
    await buildExamples({ outDir: modelsDir, dataDir: join(examplesDir, 'data'), only: missing });
  }
  return modelsDir;
}

export async function deployExamples(options: DeployExamplesOptions): Promise<string[]> {
  const { registry, logger } = options;
  const modelsDir = await ensureExampleModels(options.examplesDir, logger);
  const deployed: string[] = [];
  for (const name of EXAMPLE_NAMES) {
    const dir = join(modelsDir, name);
    try {
      const metrics = readMetrics(join(dir, 'metrics.json'));
      const { version } = await registry.pushVersion(
        {
          model: name,
          artifactPath: join(dir, 'model.onnx'),
          description: `example ${name} model trained by npm run examples`,
          modelDescription: `Example model trained on the ${name} dataset (see examples/data/README.md)`,
          tags: { example: 'true' },
          metrics,
        },
        ACTOR,
      );
      const aliases = await registry.listAliases(name);
      if (!aliases.some((a) => a.alias === 'production')) await registry.setAlias(name, 'production', version.version, ACTOR);
      const endpoints = await registry.listEndpoints();
      if (!endpoints.some((e) => e.name === name)) {
        await registry.createEndpoint(name, { kind: 'alias', model: name, alias: 'production' }, { ...ACTOR, description: `example endpoint for ${name}` });
      }
      deployed.push(name);
    } catch (error) {
      logger.error({ example: name, err: toPlatformError(error).message }, 'could not deploy example');
    }
  }
  return deployed;
}

/** Numeric held-out figures from metrics.json, as lineage metrics. */
function readMetrics(path: string): Record<string, number> {
  if (!existsSync(path)) return {};
  const out: Record<string, number> = {};
  const walk = (obj: unknown, prefix: string): void => {
    if (typeof obj !== 'object' || obj === null) return;
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      const key = prefix === '' ? k : `${prefix}.${k}`;
      if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
      else if (typeof v === 'object' && v !== null && !Array.isArray(v)) walk(v, key);
    }
  };
  walk(JSON.parse(readFileSync(path, 'utf8')) as unknown, '');
  return out;
}

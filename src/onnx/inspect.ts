/**
 * Inspection: what a model declares and contains — IR and producer, opsets and the domains its
 * nodes really use, node and operator counts (subgraphs included), initializers and their size,
 * metadata, and its inputs and outputs with their types — as plain data for the registry, the CLI
 * and the validation gates.
 */
import { onnx } from './generated/onnx.js';
import { longToNumber } from './int64.js';
import { readModel } from './model-io.js';
import { tensorByteSize } from './tensor-data.js';
import { summarizeType, type TypeSummary } from './type-summary.js';
import { findUnknownFields, type UnknownField } from './unknown-fields.js';
import { walkModel } from './walk.js';

/** An operator set the model imports. `domain` is '' for the default ONNX domain (also written `ai.onnx`). */
export interface OpsetSummary {
  readonly domain: string;
  readonly version: number;
}

/** How often one operator appears. */
export interface OpTypeCount {
  readonly domain: string;
  readonly opType: string;
  readonly count: number;
  /** True when the operator is a model-local function. */
  readonly isFunction: boolean;
}

/** A graph input or output. */
export interface ValueSummary {
  readonly name: string;
  readonly type: TypeSummary;
  readonly docString: string;
}

/** A graph output, with the operator of the main-graph node that produces it (null for a pass-through input or initializer). */
export interface OutputSummary extends ValueSummary {
  readonly producer: { readonly domain: string; readonly opType: string } | null;
}

/** Count and data bytes of a group of initializers. */
export interface InitializerTally {
  readonly count: number;
  readonly bytes: number;
}

/** A model-local function. */
export interface FunctionSummary {
  readonly domain: string;
  readonly name: string;
  readonly overload: string;
  readonly nodeCount: number;
}

/** Everything {@link inspectModel} reports about a model. */
export interface ModelInspection {
  readonly irVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly domain: string;
  readonly modelVersion: number;
  readonly docString: string;
  readonly graphName: string;
  /** Imported operator sets, in file order. */
  readonly opsets: readonly OpsetSummary[];
  /** Domains of the nodes in the main graph, its subgraphs and model-local functions, sorted ('' first). */
  readonly domainsUsed: readonly string[];
  /** Nodes in the main graph and its subgraphs (If/Loop/Scan bodies at any depth). */
  readonly nodeCount: number;
  /** Operator histogram over the same nodes, most frequent first. */
  readonly opTypes: readonly OpTypeCount[];
  readonly functions: readonly FunctionSummary[];
  /** Initializers of the main graph and its subgraphs: dense, sparse (values plus indices) and both. */
  readonly initializers: InitializerTally & { readonly dense: InitializerTally; readonly sparse: InitializerTally };
  readonly metadata: Readonly<Record<string, string>>;
  /** Size of the encoded model in bytes. */
  readonly sizeBytes: number;
  /** Graph inputs that callers feed: inputs also listed as initializers (older IRs did that) are left out. */
  readonly inputs: readonly ValueSummary[];
  readonly outputs: readonly OutputSummary[];
  /** Fields the schema does not know (kept on rewrite; see docs/onnx.md). */
  readonly unknownFields: readonly UnknownField[];
  /** Things that look wrong but do not stop inspection (e.g. a node domain without an opset import). */
  readonly warnings: readonly string[];
}

/** The default ONNX domain is written '' or 'ai.onnx'; both become ''. */
export function normalizeDomain(domain: string | null | undefined): string {
  return domain === null || domain === undefined || domain === 'ai.onnx' ? '' : domain;
}

/**
 * Inspects a model given as `.onnx` bytes (read with {@link readModel}, so its errors apply) or as
 * a ModelProto already in memory.
 */
export function inspectModel(input: Uint8Array | onnx.ModelProto): ModelInspection {
  const model = input instanceof Uint8Array ? readModel(input) : input;
  const sizeBytes = input instanceof Uint8Array ? input.length : onnx.ModelProto.encode(model).len;
  const graph = model.graph ?? undefined;
  const warnings: string[] = [];

  const opsets = (model.opsetImport ?? []).map((o) => ({
    domain: normalizeDomain(o.domain),
    version: longToNumber(o.version, `the opset version of domain '${normalizeDomain(o.domain)}'`),
  }));

  const functionKeys = new Set((model.functions ?? []).map((f) => `${normalizeDomain(f.domain)}\u0000${f.name ?? ''}`));
  const ops = new Map<string, { domain: string; opType: string; count: number }>();
  const domains = new Set<string>();
  let nodeCount = 0;
  const dense = { count: 0, bytes: 0 };
  const sparse = { count: 0, bytes: 0 };
  walkModel(model, {
    graph(g, ctx) {
      if (ctx.scope !== 'main') return;
      for (const t of g.initializer ?? []) {
        dense.count++;
        dense.bytes += tensorByteSize(t);
      }
      for (const s of g.sparseInitializer ?? []) {
        sparse.count++;
        sparse.bytes += (s.values ? tensorByteSize(s.values) : 0) + (s.indices ? tensorByteSize(s.indices) : 0);
      }
    },
    node(n, ctx) {
      if (ctx.scope === 'training') return;
      const domain = normalizeDomain(n.domain);
      domains.add(domain);
      if (ctx.scope !== 'main') return;
      nodeCount++;
      const opType = n.opType ?? '';
      const key = `${domain}\u0000${opType}`;
      const entry = ops.get(key);
      if (entry) entry.count++;
      else ops.set(key, { domain, opType, count: 1 });
    },
  });
  const opTypes: OpTypeCount[] = [...ops.entries()]
    .map(([key, o]) => ({ ...o, isFunction: functionKeys.has(key) }))
    .sort((a, b) => b.count - a.count || a.domain.localeCompare(b.domain) || a.opType.localeCompare(b.opType));

  const imported = new Set(opsets.map((o) => o.domain));
  const domainsUsed = [...domains].sort((a, b) => a.localeCompare(b));
  for (const d of domainsUsed) {
    if (!imported.has(d)) warnings.push(`nodes use domain '${d === '' ? 'ai.onnx' : d}', which the model does not import (opset_import)`);
  }

  const initializerNames = new Set<string>();
  for (const t of graph?.initializer ?? []) initializerNames.add(t.name ?? '');
  for (const s of graph?.sparseInitializer ?? []) initializerNames.add(s.values?.name ?? '');

  const producers = new Map<string, { domain: string; opType: string }>();
  for (const n of graph?.node ?? []) {
    for (const out of n.output ?? []) producers.set(out, { domain: normalizeDomain(n.domain), opType: n.opType ?? '' });
  }

  const inputs: ValueSummary[] = (graph?.input ?? [])
    .filter((v) => !initializerNames.has(v.name ?? ''))
    .map((v) => valueSummary(v, 'input'));
  const outputs: OutputSummary[] = (graph?.output ?? []).map((v) => ({
    ...valueSummary(v, 'output'),
    producer: producers.get(v.name ?? '') ?? null,
  }));
  for (const v of [...inputs, ...outputs]) {
    if (v.type.kind === 'undefined') warnings.push(`'${v.name}' declares no type`);
  }

  const unknownFields = findUnknownFields(model);
  if (unknownFields.length > 0) {
    warnings.push(`${unknownFields.length} protobuf field(s) unknown to Slipway's ONNX schema (kept as they are when the model is rewritten)`);
  }

  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) metadata[p.key ?? ''] = p.value ?? '';

  return {
    irVersion: longToNumber(model.irVersion, 'ir_version'),
    producerName: model.producerName ?? '',
    producerVersion: model.producerVersion ?? '',
    domain: model.domain ?? '',
    modelVersion: longToNumber(model.modelVersion, 'model_version'),
    docString: model.docString ?? '',
    graphName: graph?.name ?? '',
    opsets,
    domainsUsed,
    nodeCount,
    opTypes,
    functions: (model.functions ?? []).map((f) => ({
      domain: normalizeDomain(f.domain),
      name: f.name ?? '',
      overload: f.overload ?? '',
      nodeCount: f.node?.length ?? 0,
    })),
    initializers: { count: dense.count + sparse.count, bytes: dense.bytes + sparse.bytes, dense, sparse },
    metadata,
    sizeBytes,
    inputs,
    outputs,
    unknownFields,
    warnings,
  };
}

function valueSummary(v: onnx.IValueInfoProto, role: 'input' | 'output'): ValueSummary {
  const name = v.name ?? '';
  return { name, type: summarizeType(v.type, `${role} '${name}'`), docString: v.docString ?? '' };
}

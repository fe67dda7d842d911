/**
 * The feature names a model declares in its ONNX metadata (`feature_names`: a JSON list of strings,
 * as Slipway's example models and many exporters write it), read with the ONNX toolkit's
 * metadata reader (src/onnx/metadata-props.ts), which never loads the model.
 */
export { readOnnxMetadata, readOnnxMetadataFromBytes } from '../../onnx/metadata-props.js';

/**
 * The model's `feature_names`, when its metadata holds a JSON list of distinct non-empty strings;
 * undefined otherwise (then columns are matched to inputs by position).
 */
export function featureNamesFrom(metadata: Readonly<Record<string, string>>): string[] | undefined {
  const raw = metadata.feature_names;
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return undefined;
  const names = parsed as unknown[];
  if (!names.every((n): n is string => typeof n === 'string' && n !== '')) return undefined;
  return new Set(names).size === names.length ? names : undefined;
}

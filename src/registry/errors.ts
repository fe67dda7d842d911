/**
 * The registry's error table, and message builders shared by the registry service and every
 * RegistryStore adapter so that the same refusal reads the same whichever store is wired.
 */
import { defineErrors, NAME_RULE, type PlatformError } from '../core/index.js';

export const RegistryErrors = defineErrors({
  REGISTRY_VALIDATION_REQUIRED: {
    kind: 'conflict',
    help: 'This alias only moves to a version whose latest validation report passed its gates (validation.requiredForAliases, docs/validation.md); validate the version with a gate policy first (`slipway validate MODEL:VERSION --data FILE.csv --target COLUMN --gates gates.yaml`), or move another alias.',
  },
  REGISTRY_INVALID_NAME: {
    kind: 'invalid',
    help: `A model, alias or endpoint name is not ${NAME_RULE}; rename it (e.g. "fraud-detector").`,
  },
  REGISTRY_INVALID_TAGS: {
    kind: 'invalid',
    help: 'Tags must be at most 64 string pairs, keys of 1–128 letters, digits or "._/-" and values of at most 1024 characters; fix the tag named in the message.',
  },
  REGISTRY_INVALID_FIELD: {
    kind: 'invalid',
    help: 'A field of the request has the wrong type or is out of range (a version that is not a positive integer, a description that is too long, a time that is not ISO-8601, …); the message names the field and what was expected.',
  },
  REGISTRY_ARTIFACT_UNREADABLE: {
    kind: 'invalid',
    help: 'The artifact file given for a new version could not be read; check that the upload completed and the path exists.',
  },
  REGISTRY_SIGNATURE_MISMATCH: {
    kind: 'invalid',
    help: 'The artifact signature does not belong to this version: its digest is of other bytes, it names another model, or a trusted key made it and it does not verify (altered after signing); the message names the field. Sign the exact file pushed, with `slipway models sign FILE --name MODEL`.',
  },
  REGISTRY_ARTIFACT_MISSING: {
    kind: 'internal',
    help: "A registered version's artifact is missing from the data directory's blob store; restore blobs/ from a backup.",
  },
  REGISTRY_MODEL_NOT_FOUND: {
    kind: 'not_found',
    help: 'No model has this name; list models with `slipway models list`, or push a first version to create it.',
  },
  REGISTRY_MODEL_EXISTS: {
    kind: 'conflict',
    help: 'A model with this name already exists; push a new version to it instead of creating it again.',
  },
  REGISTRY_VERSION_NOT_FOUND: {
    kind: 'not_found',
    help: 'The model has no version with this number; list versions with `slipway models show MODEL`.',
  },
  REGISTRY_PARENT_NOT_FOUND: {
    kind: 'invalid',
    help: 'The parent version named in the lineage of a new version does not exist for that model; push the parent first or fix the number.',
  },
  REGISTRY_ALIAS_NOT_FOUND: {
    kind: 'not_found',
    help: 'The model has no alias with this name (now, or ever for history queries); set it with `slipway alias set MODEL ALIAS VERSION`.',
  },
  REGISTRY_ALIAS_IN_USE: {
    kind: 'conflict',
    help: 'The alias cannot be deleted because endpoints follow it; point those endpoints at a version or another alias first.',
  },
  REGISTRY_ENDPOINT_NOT_FOUND: {
    kind: 'not_found',
    help: 'No endpoint has this name; list endpoints with `slipway endpoints list`, or create it with `slipway deploy`.',
  },
  REGISTRY_ENDPOINT_EXISTS: {
    kind: 'conflict',
    help: 'An endpoint with this name already exists; update it to point it elsewhere, or pick another name.',
  },
});

/** Message builders for refusals that both the service and the store adapters raise. */
export const registryRefusals = {
  modelNotFound(model: string): PlatformError {
    return RegistryErrors.REGISTRY_MODEL_NOT_FOUND(`model "${model}" does not exist`, { details: { model } });
  },
  modelExists(model: string): PlatformError {
    return RegistryErrors.REGISTRY_MODEL_EXISTS(`model "${model}" already exists`, { details: { model } });
  },
  versionNotFound(model: string, version: number, latestVersion: number): PlatformError {
    const latest = latestVersion === 0 ? 'it has no versions yet' : `its latest version is ${latestVersion}`;
    return RegistryErrors.REGISTRY_VERSION_NOT_FOUND(`model "${model}" has no version ${version} (${latest})`, {
      details: { model, version, latestVersion },
    });
  },
  parentNotFound(model: string, parentVersion: number): PlatformError {
    return RegistryErrors.REGISTRY_PARENT_NOT_FOUND(
      `parentVersion: model "${model}" has no version ${parentVersion} to derive from`,
      { details: { field: 'parentVersion', model, parentVersion } },
    );
  },
  aliasNotFound(model: string, alias: string): PlatformError {
    return RegistryErrors.REGISTRY_ALIAS_NOT_FOUND(`model "${model}" has no alias "${alias}"`, { details: { model, alias } });
  },
  aliasInUse(model: string, alias: string, endpoints: readonly string[]): PlatformError {
    const names = endpoints.map((e) => `"${e}"`).join(', ');
    return RegistryErrors.REGISTRY_ALIAS_IN_USE(
      `alias "${alias}" of model "${model}" cannot be deleted: endpoint${endpoints.length === 1 ? '' : 's'} ${names} follow${endpoints.length === 1 ? 's' : ''} it; point ${endpoints.length === 1 ? 'it' : 'them'} elsewhere first`,
      { details: { model, alias, endpoints: [...endpoints] } },
    );
  },
  endpointNotFound(name: string): PlatformError {
    return RegistryErrors.REGISTRY_ENDPOINT_NOT_FOUND(`endpoint "${name}" does not exist`, { details: { endpoint: name } });
  },
  endpointExists(name: string): PlatformError {
    return RegistryErrors.REGISTRY_ENDPOINT_EXISTS(`endpoint "${name}" already exists; update it instead`, {
      details: { endpoint: name },
    });
  },
} as const;

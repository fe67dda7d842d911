/**
 * The registry service: validates what callers send, stages and inspects artifacts, and turns each
 * request into one store transaction. Endpoint change listeners run after the transaction commits.
 */
import { silentLogger, toPlatformError, type Clock, type Logger } from '../core/index.js';
import { registryRefusals, RegistryErrors } from './errors.js';
import type { ArtifactInspector, BlobStore, RegistryStore, SignatureVerifier, StagedBlob } from './ports.js';
import type { EndpointChange, PushVersionInput, PushVersionResult, Registry } from './service.js';
import type { EndpointEvent, Model, ModelVersion, VersionSignature } from './types.js';
import {
  checkActor,
  checkDataDigest,
  checkMetrics,
  checkName,
  checkTags,
  checkTarget,
  checkText,
  checkTime,
  checkVersionNumber,
  LIMITS,
} from './validate.js';

export interface RegistryOptions {
  readonly store: RegistryStore;
  readonly blobs: BlobStore;
  readonly inspector: ArtifactInspector;
  readonly clock: Clock;
  /** Where a throwing endpoint-change listener is reported. Default: silent. */
  readonly logger?: Logger;
  /**
   * Checks artifact signatures against the trusted keys when a version is pushed or signed; one
   * that a trusted key made and that does not verify is refused. Without it, signatures are kept
   * after their digest and model are checked, unverified.
   */
  readonly signatures?: SignatureVerifier;
  /**
   * Asked before an alias moves to a version; throws to refuse the move (the validation service's
   * `validation.requiredForAliases` rule). Without it, every move is allowed.
   */
  readonly aliasGuard?: (model: string, alias: string, version: number) => Promise<void>;
}

/**
 * The reason recorded on a follower endpoint's event when its alias moves:
 * `alias production moved 2 → 3: <reason>` (without `: <reason>` when none was given).
 */
export function followerMoveReason(alias: string, from: number, to: number, reason: string): string {
  const base = `alias ${alias} moved ${from} → ${to}`;
  return reason === '' ? base : `${base}: ${reason}`;
}

/** Creates the registry service over a store, a blob store and an artifact inspector. */
export function createRegistry(options: RegistryOptions): Registry {
  const { store, blobs, inspector, clock } = options;
  const logger = options.logger ?? silentLogger;
  // wrapped in objects so that subscribing one function twice gives two independent subscriptions
  const listeners = new Set<{ readonly call: (change: EndpointChange) => void }>();

  const now = (): string => new Date(clock.now()).toISOString();

  async function requireModel(name: string): Promise<Model> {
    const model = await store.getModel(name);
    if (model === undefined) throw registryRefusals.modelNotFound(name);
    return model;
  }

  async function requireVersion(model: string, version: number): Promise<ModelVersion> {
    const found = await store.getVersion(model, version);
    if (found !== undefined) return found;
    const owner = await requireModel(model);
    throw registryRefusals.versionNotFound(model, version, owner.latestVersion);
  }

  /** Tells every listener, after the commit; a listener's failure is logged and goes no further. */
  function emit(events: readonly EndpointEvent[]): void {
    for (const event of events) {
      const change: EndpointChange = { endpoint: event.endpoint, event };
      for (const listener of [...listeners]) {
        try {
          // typed as returning void, but an async listener returns a promise whose rejection we must catch
          const result: unknown = listener.call(change);
          if (result instanceof Promise) {
            result.catch((error: unknown) => reportListenerFailure(change, error));
          }
        } catch (error) {
          reportListenerFailure(change, error);
        }
      }
    }
  }

  function reportListenerFailure(change: EndpointChange, error: unknown): void {
    const failure = toPlatformError(error);
    logger.error(
      { endpoint: change.endpoint, seq: change.event.seq, code: failure.code, err: failure.message },
      'an endpoint change listener failed; the change itself is committed',
    );
  }

  /**
   * Checks that a signature is for this model's bytes (`digest`) and, when the verifier knows its
   * key, that it holds. `prefix` names the fields in errors (`signature.` in an upload's metadata).
   */
  function checkSignatureFor(signature: VersionSignature, model: string, digest: string, prefix: string): VersionSignature {
    const mismatch = (field: string, message: string) =>
      RegistryErrors.REGISTRY_SIGNATURE_MISMATCH(`${prefix}${field}: ${message}`, { details: { field: `${prefix}${field}`, model, digest } });
    if (typeof signature !== 'object' || signature === null || typeof signature.digest !== 'string') {
      throw RegistryErrors.REGISTRY_INVALID_FIELD(`${prefix === '' ? 'signature' : prefix.slice(0, -1)}: must be a signature record with a digest`, {
        details: { field: prefix === '' ? 'signature' : prefix.slice(0, -1) },
      });
    }
    if (signature.digest !== digest) {
      throw mismatch('digest', `the signature is for ${signature.digest}, but the artifact of model "${model}" is ${digest}; sign the exact file that is pushed`);
    }
    if (signature.model !== undefined && signature.model !== model) {
      throw mismatch('model', `the signature is bound to model "${signature.model}", not to "${model}"`);
    }
    const check = options.signatures?.check(signature);
    if (check?.status === 'invalid') throw mismatch('signature', check.message);
    return signature;
  }

  async function stageArtifact(path: string): Promise<StagedBlob> {
    try {
      return await blobs.stage(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'EPERM') {
        throw RegistryErrors.REGISTRY_ARTIFACT_UNREADABLE(`artifactPath: cannot read "${path}" (${code})`, {
          details: { field: 'artifactPath', path, reason: code },
          cause: error,
        });
      }
      throw toPlatformError(error);
    }
  }

  const registry: Registry = {
    async pushVersion(input: PushVersionInput, actor) {
      const who = checkActor(actor);
      const model = checkName(input.model, 'model');
      const tags = checkTags(input.tags);
      const description = checkText(input.description, 'description', LIMITS.maxDescriptionLength);
      const modelDescription = checkText(input.modelDescription, 'modelDescription', LIMITS.maxDescriptionLength);
      const metrics = checkMetrics(input.metrics);
      const dataDigest = checkDataDigest(input.dataDigest);
      const parentVersion =
        input.parentVersion === undefined ? undefined : checkVersionNumber(input.parentVersion, 'parentVersion');
      if (typeof input.artifactPath !== 'string' || input.artifactPath === '') {
        throw RegistryErrors.REGISTRY_INVALID_FIELD('artifactPath: must be the path of the uploaded file', {
          details: { field: 'artifactPath' },
        });
      }
      // Checked early for a fast, clear refusal; the store checks again inside its transaction.
      if (parentVersion !== undefined && (await store.getVersion(model, parentVersion)) === undefined) {
        throw registryRefusals.parentNotFound(model, parentVersion);
      }

      // Stage a private copy first: the bytes inspected are exactly the bytes stored.
      const staged = await stageArtifact(input.artifactPath);
      try {
        const artifactSignature = input.artifactSignature === undefined ? undefined : checkSignatureFor(input.artifactSignature, model, staged.digest, 'signature.');
        const existing = await store.findVersionByDigest(model, staged.digest);
        if (existing !== undefined) {
          // the same bytes again: put the blob back if it was lost, since we hold a verified copy
          if (!(await blobs.has(existing.digest))) await staged.commit();
          // a signature sent with them is attached to the version they already are
          const version = artifactSignature === undefined ? existing : await store.setVersionSignature(model, existing.version, artifactSignature);
          return { version, created: false } satisfies PushVersionResult;
        }

        const inspection = await inspector.inspect(staged.path).catch((error: unknown) => {
          throw toPlatformError(error);
        });
        const blob = await staged.commit();
        const at = now();
        const result = await store.insertVersion({
          model,
          digest: blob.digest,
          sizeBytes: blob.sizeBytes,
          signature: inspection.signature,
          onnx: inspection.onnx,
          description,
          tags,
          lineage: {
            ...(parentVersion === undefined ? {} : { parentVersion }),
            ...(dataDigest === undefined ? {} : { dataDigest }),
            ...(metrics === undefined ? {} : { metrics }),
          },
          createdAt: at,
          createdBy: who.by,
          ...(artifactSignature === undefined ? {} : { artifactSignature }),
          createModel: { description: modelDescription, owner: who.by, createdAt: at, createdBy: who.by },
        });
        return { version: result.version, created: result.created };
      } finally {
        await staged.discard();
      }
    },

    async listModels() {
      return store.listModels();
    },

    async getModel(name) {
      return requireModel(checkName(name, 'model'));
    },

    async listVersions(model) {
      await requireModel(checkName(model, 'model'));
      return store.listVersions(model);
    },

    async getVersion(model, version) {
      return requireVersion(checkName(model, 'model'), checkVersionNumber(version, 'version'));
    },

    async artifactPath(model, version) {
      const found = await registry.getVersion(model, version);
      if (!(await blobs.has(found.digest))) {
        throw RegistryErrors.REGISTRY_ARTIFACT_MISSING(
          `the artifact ${found.digest} of ${found.model}:${found.version} is missing from the blob store`,
          { details: { model: found.model, version: found.version, digest: found.digest } },
        );
      }
      return blobs.path(found.digest);
    },

    async verifyArtifact(model, version) {
      const found = await registry.getVersion(model, version);
      return blobs.verify(found.digest);
    },

    async attachSignature(model, version, signature, actor) {
      checkActor(actor);
      const found = await registry.getVersion(model, version);
      return store.setVersionSignature(found.model, found.version, checkSignatureFor(signature, found.model, found.digest, ''));
    },

    async setAlias(model, alias, version, actor) {
      const who = checkActor(actor);
      checkName(model, 'model');
      checkName(alias, 'alias');
      checkVersionNumber(version, 'version');
      await requireVersion(model, version);
      await options.aliasGuard?.(model, alias, version);
      const result = await store.setAlias({
        model,
        alias,
        version,
        at: now(),
        by: who.by,
        reason: who.reason,
        followerReason: (from, to) => followerMoveReason(alias, from, to, who.reason),
      });
      emit(result.endpointEvents);
      return result.alias;
    },

    async deleteAlias(model, alias, actor) {
      const who = checkActor(actor);
      checkName(model, 'model');
      checkName(alias, 'alias');
      await requireModel(model);
      await store.deleteAlias({ model, alias, at: now(), by: who.by, reason: who.reason });
    },

    async getAlias(model, alias) {
      checkName(model, 'model');
      checkName(alias, 'alias');
      const found = await store.getAlias(model, alias);
      if (found !== undefined) return found;
      await requireModel(model);
      throw registryRefusals.aliasNotFound(model, alias);
    },

    async listAliases(model) {
      await requireModel(checkName(model, 'model'));
      return store.listAliases(model);
    },

    async aliasHistory(model, alias) {
      checkName(model, 'model');
      checkName(alias, 'alias');
      await requireModel(model);
      const history = await store.aliasHistory(model, alias);
      if (history.length === 0) throw registryRefusals.aliasNotFound(model, alias);
      return history;
    },

    async aliasAt(model, alias, at) {
      checkName(model, 'model');
      checkName(alias, 'alias');
      const when = checkTime(at, 'at');
      await registry.aliasHistory(model, alias);
      return store.aliasAt(model, alias, when);
    },

    async createEndpoint(name, target, actor) {
      const who = checkActor(actor);
      checkName(name, 'endpoint');
      const checkedTarget = checkTarget(target);
      const description = checkText(actor.description, 'description', LIMITS.maxDescriptionLength);
      const result = await store.createEndpoint({
        name,
        description,
        target: checkedTarget,
        at: now(),
        by: who.by,
        reason: who.reason,
      });
      if (result.event !== null) emit([result.event]);
      return result.endpoint;
    },

    async updateEndpoint(name, target, actor) {
      const who = checkActor(actor);
      checkName(name, 'endpoint');
      const checkedTarget = checkTarget(target);
      const result = await store.updateEndpoint({ name, target: checkedTarget, at: now(), by: who.by, reason: who.reason });
      if (result.event !== null) emit([result.event]);
      return result.endpoint;
    },

    async deleteEndpoint(name, actor) {
      const who = checkActor(actor);
      checkName(name, 'endpoint');
      const event = await store.deleteEndpoint({ name, at: now(), by: who.by, reason: who.reason });
      emit([event]);
    },

    async getEndpoint(name) {
      checkName(name, 'endpoint');
      const found = await store.getEndpoint(name);
      if (found === undefined) throw registryRefusals.endpointNotFound(name);
      return found;
    },

    async listEndpoints() {
      return store.listEndpoints();
    },

    async endpointHistory(name) {
      checkName(name, 'endpoint');
      const history = await store.endpointHistory(name);
      if (history.length === 0) throw registryRefusals.endpointNotFound(name);
      return history;
    },

    onEndpointChange(listener) {
      const entry = { call: listener };
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
  };
  return registry;
}

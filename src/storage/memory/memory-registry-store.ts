/**
 * An in-memory RegistryStore for unit tests and throw-away runs. Each method checks every
 * precondition before it changes anything and runs without awaiting, so it is atomic and
 * serialised on the single JavaScript thread.
 */
import {
  registryRefusals,
  type Alias,
  type AliasEvent,
  type CreateEndpointInput,
  type DeleteAliasInput,
  type DeleteEndpointInput,
  type Endpoint,
  type EndpointEvent,
  type EndpointTarget,
  type EndpointWriteResult,
  type InsertVersionResult,
  type Model,
  type ModelVersion,
  type NewModel,
  type NewVersion,
  type RegistryStore,
  type SetAliasInput,
  type SetAliasResult,
  type UpdateEndpointInput,
} from '../../registry/index.js';

/** The memory adapter of the RegistryStore port. */
export type MemoryRegistryStore = RegistryStore;

type ModelRecord = Omit<Model, 'latestVersion'>;
type EndpointState = NonNullable<EndpointEvent['to']>;

/** A deep copy that keeps only what JSON keeps, frozen: what a durable store would give back. */
function snapshot<T>(value: T): T {
  return deepFreeze(JSON.parse(JSON.stringify(value)) as T);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function aliasKey(model: string, alias: string): string {
  return `${model}\u0000${alias}`;
}

function sameTarget(a: EndpointTarget, b: EndpointTarget): boolean {
  if (a.kind === 'version' && b.kind === 'version') return a.model === b.model && a.version === b.version;
  if (a.kind === 'alias' && b.kind === 'alias') return a.model === b.model && a.alias === b.alias;
  return false;
}

function byName<T extends { readonly name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Creates an empty in-memory registry store. */
export function createMemoryRegistryStore(): MemoryRegistryStore {
  const models = new Map<string, ModelRecord>();
  const versions = new Map<string, ModelVersion[]>();
  const aliases = new Map<string, Alias>();
  const aliasEvents: AliasEvent[] = [];
  const endpoints = new Map<string, Endpoint>();
  const endpointEvents: EndpointEvent[] = [];
  let aliasSeq = 0;
  let endpointSeq = 0;

  function modelView(record: ModelRecord): Model {
    return snapshot({ ...record, latestVersion: versions.get(record.name)?.length ?? 0 });
  }

  function findVersion(model: string, version: number): ModelVersion | undefined {
    return versions.get(model)?.[version - 1];
  }

  function requireVersion(model: string, version: number): ModelVersion {
    const found = findVersion(model, version);
    if (found !== undefined) return found;
    if (!models.has(model)) throw registryRefusals.modelNotFound(model);
    throw registryRefusals.versionNotFound(model, version, versions.get(model)?.length ?? 0);
  }

  /** The version a target points at now; throws if the version or alias does not exist. */
  function resolve(target: EndpointTarget): EndpointState {
    if (target.kind === 'version') {
      requireVersion(target.model, target.version);
      return snapshot({ target: { kind: 'version', model: target.model, version: target.version }, model: target.model, version: target.version });
    }
    if (!models.has(target.model)) throw registryRefusals.modelNotFound(target.model);
    const alias = aliases.get(aliasKey(target.model, target.alias));
    if (alias === undefined) throw registryRefusals.aliasNotFound(target.model, target.alias);
    return snapshot({ target: { kind: 'alias', model: target.model, alias: target.alias }, model: target.model, version: alias.version });
  }

  function appendEndpointEvent(event: Omit<EndpointEvent, 'seq'>): EndpointEvent {
    const stored = snapshot({ seq: ++endpointSeq, ...event });
    endpointEvents.push(stored);
    return stored;
  }

  function following(model: string, alias: string): Endpoint[] {
    return [...endpoints.values()]
      .filter((e) => e.target.kind === 'alias' && e.target.model === model && e.target.alias === alias)
      .sort(byName);
  }

  // The port is asynchronous; this adapter is not. Methods stay `async` so that a refusal becomes
  // a rejection, as with every other adapter.
  return {
    async createModel(model: NewModel) {
      if (models.has(model.name)) throw registryRefusals.modelExists(model.name);
      const record = snapshot(model);
      models.set(model.name, record);
      versions.set(model.name, []);
      return modelView(record);
    },

    async getModel(name) {
      const record = models.get(name);
      return record === undefined ? undefined : modelView(record);
    },

    async listModels() {
      return [...models.values()].sort(byName).map(modelView);
    },

    async insertVersion(input: NewVersion): Promise<InsertVersionResult> {
      const { createModel, ...fields } = input;
      const existingModel = models.get(input.model);
      if (existingModel === undefined && createModel === undefined) throw registryRefusals.modelNotFound(input.model);
      const list = versions.get(input.model) ?? [];
      const same = list.find((v) => v.digest === input.digest);
      if (same !== undefined) return { version: same, created: false };
      const parent = input.lineage.parentVersion;
      if (parent !== undefined && list[parent - 1] === undefined) throw registryRefusals.parentNotFound(input.model, parent);

      // every check passed: from here on nothing can fail halfway
      if (existingModel === undefined && createModel !== undefined) {
        models.set(input.model, snapshot({ name: input.model, ...createModel }));
        versions.set(input.model, list);
      }
      const version = snapshot({ ...fields, version: list.length + 1 });
      list.push(version);
      return { version, created: true };
    },

    async getVersion(model, version) {
      return findVersion(model, version);
    },

    async listVersions(model) {
      return [...(versions.get(model) ?? [])];
    },

    async findVersionByDigest(model, digest) {
      return versions.get(model)?.find((v) => v.digest === digest);
    },

    async setVersionSignature(model, version, signature) {
      const found = requireVersion(model, version);
      const list = versions.get(model) ?? [];
      const updated: ModelVersion = snapshot({ ...found, artifactSignature: signature });
      list[version - 1] = updated;
      return updated;
    },

    async setAlias(input: SetAliasInput): Promise<SetAliasResult> {
      requireVersion(input.model, input.version);
      const key = aliasKey(input.model, input.alias);
      const current = aliases.get(key);
      if (current?.version === input.version) return { alias: current, event: null, endpointEvents: [] };
      const followers = current === undefined ? [] : following(input.model, input.alias);
      const followerReasons = followers.map(() =>
        current === undefined ? '' : input.followerReason(current.version, input.version),
      );

      const alias = snapshot({
        model: input.model,
        alias: input.alias,
        version: input.version,
        updatedAt: input.at,
        updatedBy: input.by,
      });
      aliases.set(key, alias);
      const event = snapshot({
        seq: ++aliasSeq,
        model: input.model,
        alias: input.alias,
        from: current?.version ?? null,
        to: input.version,
        at: input.at,
        by: input.by,
        reason: input.reason,
      });
      aliasEvents.push(event);
      const moved = followers.map((endpoint, i) => {
        const from: EndpointState = { target: endpoint.target, model: endpoint.model, version: endpoint.version };
        endpoints.set(endpoint.name, snapshot({ ...endpoint, version: input.version, updatedAt: input.at }));
        return appendEndpointEvent({
          endpoint: endpoint.name,
          from,
          to: { ...from, version: input.version },
          at: input.at,
          by: input.by,
          reason: followerReasons[i] ?? '',
        });
      });
      return { alias, event, endpointEvents: moved };
    },

    async deleteAlias(input: DeleteAliasInput) {
      if (!models.has(input.model)) throw registryRefusals.modelNotFound(input.model);
      const key = aliasKey(input.model, input.alias);
      const current = aliases.get(key);
      if (current === undefined) throw registryRefusals.aliasNotFound(input.model, input.alias);
      const followers = following(input.model, input.alias);
      if (followers.length > 0) {
        throw registryRefusals.aliasInUse(
          input.model,
          input.alias,
          followers.map((e) => e.name),
        );
      }
      aliases.delete(key);
      const event = snapshot({
        seq: ++aliasSeq,
        model: input.model,
        alias: input.alias,
        from: current.version,
        to: null,
        at: input.at,
        by: input.by,
        reason: input.reason,
      });
      aliasEvents.push(event);
      return event;
    },

    async getAlias(model, alias) {
      return aliases.get(aliasKey(model, alias));
    },

    async listAliases(model) {
      return [...aliases.values()]
        .filter((a) => a.model === model)
        .sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0));
    },

    async aliasHistory(model, alias) {
      return aliasEvents.filter((e) => e.model === model && e.alias === alias);
    },

    async aliasAt(model, alias, at) {
      let value: number | null = null;
      for (const e of aliasEvents) {
        if (e.model === model && e.alias === alias && e.at <= at) value = e.to;
      }
      return value;
    },

    async createEndpoint(input: CreateEndpointInput): Promise<EndpointWriteResult> {
      if (endpoints.has(input.name)) throw registryRefusals.endpointExists(input.name);
      const to = resolve(input.target);
      const endpoint = snapshot({
        name: input.name,
        description: input.description,
        target: to.target,
        model: to.model,
        version: to.version,
        createdAt: input.at,
        updatedAt: input.at,
      });
      endpoints.set(input.name, endpoint);
      const event = appendEndpointEvent({ endpoint: input.name, from: null, to, at: input.at, by: input.by, reason: input.reason });
      return { endpoint, event };
    },

    async updateEndpoint(input: UpdateEndpointInput): Promise<EndpointWriteResult> {
      const current = endpoints.get(input.name);
      if (current === undefined) throw registryRefusals.endpointNotFound(input.name);
      const to = resolve(input.target);
      if (sameTarget(current.target, to.target) && current.version === to.version) return { endpoint: current, event: null };
      const endpoint = snapshot({ ...current, target: to.target, model: to.model, version: to.version, updatedAt: input.at });
      endpoints.set(input.name, endpoint);
      const event = appendEndpointEvent({
        endpoint: input.name,
        from: { target: current.target, model: current.model, version: current.version },
        to,
        at: input.at,
        by: input.by,
        reason: input.reason,
      });
      return { endpoint, event };
    },

    async deleteEndpoint(input: DeleteEndpointInput) {
      const current = endpoints.get(input.name);
      if (current === undefined) throw registryRefusals.endpointNotFound(input.name);
      endpoints.delete(input.name);
      return appendEndpointEvent({
        endpoint: input.name,
        from: { target: current.target, model: current.model, version: current.version },
        to: null,
        at: input.at,
        by: input.by,
        reason: input.reason,
      });
    },

    async getEndpoint(name) {
      return endpoints.get(name);
    },

    async listEndpoints() {
      return [...endpoints.values()].sort(byName);
    },

    async endpointHistory(name) {
      return endpointEvents.filter((e) => e.endpoint === name);
    },

    async listEndpointsFollowing(model, alias) {
      return following(model, alias);
    },
  };
}

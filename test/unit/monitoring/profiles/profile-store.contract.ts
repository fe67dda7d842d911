/**
 * The ProfileStore contract suite (see src/monitoring/profiles/ports.ts). Every adapter runs it
 * through `profileStoreContract(name, factory)` in its own test file.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { ProfileStore, ReferenceProfile } from '../../../../src/monitoring/profiles/index.js';

export interface StoreUnderTest {
  readonly store: ProfileStore;
  /** Releases the store (closes databases, removes temp files). */
  cleanup(): Promise<void> | void;
}

export type StoreFactory = () => Promise<StoreUnderTest> | StoreUnderTest;

/** A small but complete profile: a numeric and a categorical feature, and predictions. */
export function sampleProfile(model = 'fraud', version = 1, rows = 3): ReferenceProfile {
  return {
    format: 1,
    model,
    version,
    rows,
    source: 'train.csv',
    createdAt: 1_772_355_600_000,
    createdBy: 'anonymous',
    features: [
      {
        kind: 'numeric',
        name: 'amount',
        input: 'x',
        column: 0,
        count: 3,
        missing: 0,
        min: 1,
        max: 3.5,
        mean: 2.1666666666666665,
        std: 1.2583057392117916,
        quantiles: [1.02, 1.1, 1.5, 2, 2.75, 3.35, 3.47],
        histogram: { edges: [1, 1.5, 2.75, 3.5], counts: [1, 1, 1] },
        sample: [1, 2, 3.5],
      },
      { kind: 'categorical', name: 'country', input: 'x', column: 1, count: 2, missing: 1, frequencies: { de: 1, fr: 1 } },
    ],
    predictions: { kind: 'categorical', name: 'label', input: 'label', column: null, count: 3, missing: 0, frequencies: { 0: 2, 1: 1 } },
  };
}

export function profileStoreContract(name: string, factory: StoreFactory): void {
  void describe(`ProfileStore contract: ${name}`, () => {
    let under: StoreUnderTest;
    let store: ProfileStore;
    beforeEach(async () => {
      under = await factory();
      store = under.store;
    });
    afterEach(async () => {
      await under.cleanup();
    });

    void test('returns undefined for a version without a profile', async () => {
      assert.equal(await store.get('fraud', 1), undefined);
    });

    void test('gives back exactly the profile it was given, per model and version', async () => {
      await store.put(sampleProfile('fraud', 1));
      await store.put(sampleProfile('fraud', 2, 7));
      await store.put(sampleProfile('churn', 1, 9));
      assert.deepEqual(await store.get('fraud', 1), sampleProfile('fraud', 1));
      assert.equal((await store.get('fraud', 2))?.rows, 7);
      assert.equal((await store.get('churn', 1))?.rows, 9);
      assert.equal(await store.get('churn', 2), undefined);
    });

    void test('replaces a version’s profile on a second put', async () => {
      await store.put(sampleProfile('fraud', 1, 3));
      await store.put({ ...sampleProfile('fraud', 1, 5), source: 'newer.csv' });
      const got = await store.get('fraud', 1);
      assert.equal(got?.rows, 5);
      assert.equal(got?.source, 'newer.csv');
    });

    void test('deletes one version’s profile and says whether there was one', async () => {
      await store.put(sampleProfile('fraud', 1));
      await store.put(sampleProfile('fraud', 2));
      assert.equal(await store.delete('fraud', 1), true);
      assert.equal(await store.delete('fraud', 1), false);
      assert.equal(await store.get('fraud', 1), undefined);
      assert.ok((await store.get('fraud', 2)) !== undefined, 'the other version keeps its profile');
    });

    void test('never aliases: changing what was put or what came back leaves the stored profile alone', async () => {
      const mine = structuredClone(sampleProfile()) as { -readonly [K in keyof ReferenceProfile]: ReferenceProfile[K] };
      await store.put(mine);
      mine.rows = 1000;
      const first = (await store.get('fraud', 1)) as { rows: number };
      first.rows = 2000;
      assert.equal((await store.get('fraud', 1))?.rows, 3);
    });
  });
}

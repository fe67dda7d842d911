import { createMemoryRolloutStore } from '../../../../src/storage/index.js';
import { rolloutStoreContract } from './rollout-store.contract.js';

rolloutStoreContract('memory', () => ({ store: createMemoryRolloutStore(), cleanup: () => undefined }));

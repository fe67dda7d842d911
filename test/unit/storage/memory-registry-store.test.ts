import { createMemoryRegistryStore } from '../../../src/storage/index.js';
import { registryStoreContract } from './registry-store.contract.js';

registryStoreContract('memory', () => ({ store: createMemoryRegistryStore(), cleanup: () => undefined }));

import { createMemoryProfileStore } from '../../../../src/storage/index.js';
import { profileStoreContract } from './profile-store.contract.js';

profileStoreContract('memory', () => ({ store: createMemoryProfileStore(), cleanup: () => undefined }));

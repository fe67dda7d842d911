import { createMemoryMonitoringStore } from '../../../src/storage/index.js';
import { monitoringStoreContract } from './monitoring-store.contract.js';

monitoringStoreContract('memory', () => ({ store: createMemoryMonitoringStore(), cleanup: () => undefined }));

export { StorageErrors } from './errors.js';
export { openDataDir, DATA_DIR_LAYOUT, type DataDir, type DataDirLock, type OpenDataDirOptions } from './data-dir.js';
export { createMemoryRegistryStore, type MemoryRegistryStore } from './memory/memory-registry-store.js';
export { createFileBlobStore, type FileBlobStore, type FileBlobStoreOptions } from './fs/file-blob-store.js';
export {
  openSqliteDatabase,
  writeTransaction,
  checkDatabaseIntegrity,
  DEFAULT_BUSY_TIMEOUT_MS,
  type SqliteDatabase,
  type SqliteDatabaseOptions,
} from './sqlite/database.js';
export { migrate, schemaVersion, type Migration, type MigrationOutcome, type MigrateOptions } from './sqlite/migrate.js';
export { registryMigrations, REGISTRY_COMPONENT } from './sqlite/registry-migrations.js';
export { createSqliteEndpointSettingsStore, endpointSettingsMigrations, ENDPOINT_SETTINGS_COMPONENT } from './sqlite/endpoint-settings-store.js';
export { createSqliteEndpointStrategyStore, endpointStrategyMigrations, ENDPOINT_STRATEGIES_COMPONENT } from './sqlite/endpoint-strategy-store.js';
export {
  createSqliteRegistryStore,
  type SqliteRegistryStore,
  type SqliteRegistryStoreOptions,
} from './sqlite/sqlite-registry-store.js';
export { createMemoryMonitoringStore, type MemoryMonitoringStore } from './memory/memory-monitoring-store.js';
export { monitoringMigrations, MONITORING_COMPONENT } from './sqlite/monitoring-migrations.js';
export {
  createSqliteMonitoringStore,
  type SqliteMonitoringStore,
  type SqliteMonitoringStoreOptions,
} from './sqlite/monitoring-store.js';
export { createMemoryRolloutStore, type MemoryRolloutStore } from './memory/memory-rollout-store.js';
export { rolloutMigrations, ROLLOUTS_COMPONENT } from './sqlite/rollout-migrations.js';
export { createSqliteRolloutStore, type SqliteRolloutStore, type SqliteRolloutStoreOptions } from './sqlite/rollout-store.js';
export { createMemoryProfileStore, type MemoryProfileStore } from './memory/memory-profile-store.js';
export { createSqliteProfileStore, profileMigrations, PROFILES_COMPONENT } from './sqlite/profile-store.js';
export { createMemoryDriftResultStore } from './memory/memory-drift-result-store.js';
export { createSqliteAlertStore, alertMigrations, ALERTS_COMPONENT } from './sqlite/alert-store.js';
export { createSqliteDriftResultStore, driftResultMigrations, DRIFT_RESULTS_COMPONENT } from './sqlite/drift-result-store.js';
export { startStoreThread, type StoreThread, type StoreThreadOptions, type StoreThreadRole } from './sqlite/store-thread.js';
export { createSqliteKeyStore, keyMigrations, KEYS_COMPONENT } from './sqlite/key-store.js';
export { createMemoryKeyStore } from './memory/memory-key-store.js';
export { createSqliteValidationStore, validationMigrations, VALIDATION_COMPONENT } from './sqlite/validation-store.js';
export { createMemoryValidationStore } from './memory/memory-validation-store.js';
export { createSqlitePlanStore, planMigrations, PLANS_COMPONENT } from './sqlite/plan-store.js';
export { createMemoryPlanStore } from './memory/memory-plan-store.js';

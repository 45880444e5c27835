export { type ApiKey, apiKeys, keyDigest } from './api-keys.js';
export {
  type Config,
  ConfigError,
  configFromProcessEnv,
  FALLBACK_MODEL_DIR,
  loadConfig,
  type ModelsSource,
  SHIPPED_MODEL_DIRS,
} from './load.js';
export { isLoopbackHost } from './loopback.js';
export { SQLITE_MAX_RECEIVE_COUNT } from './schema.js';

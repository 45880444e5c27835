export { type ApiKey, ApiKeysSchema, apiKeys, keyDigest, parseApiKey, TENANT_NAME } from './api-keys.js';
export {
  type Config,
  ConfigError,
  configFromProcessEnv,
  FALLBACK_MODEL_DIR,
  type LoadConfigOptions,
  loadConfig,
  type ModelsSource,
  SHIPPED_MODEL_DIRS,
} from './load.js';
export { isLoopbackHost } from './loopback.js';
export { ENV_NAMES, type Env, EnvSchema, LOG_LEVELS, type LogLevel } from './schema.js';

export { loadConfig, configFromProcessEnv, ConfigError, SHIPPED_MODEL_DIRS, FALLBACK_MODEL_DIR, type Config, type LoadConfigOptions, type ModelsSource } from './load.js';
export { EnvSchema, ENV_NAMES, LOG_LEVELS, type Env, type LogLevel } from './schema.js';
export { isLoopbackHost } from './loopback.js';
export { apiKeys, parseApiKey, keyDigest, ApiKeysSchema, TENANT_NAME, type ApiKey } from './api-keys.js';

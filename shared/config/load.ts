/**
 * loadConfig: the process's configuration from an environment, validated once at start.
 * Pure apart from the optional file-existence probe for the default model package.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ApiKey } from './api-keys.js';
import { ENV_NAMES, EnvSchema, type LogLevel } from './schema.js';

export interface Config {
  port: number;
  host: string;
  /** Absolute. */
  dataDir: string;
  /** Absolute. */
  modelDir: string;
  store: 'file' | 's3';
  queue: 'sqlite' | 'sqs';
  s3Bucket?: string;
  s3Endpoint?: string;
  sqsQueueUrl?: string;
  sqsDlqUrl?: string;
  sqsEndpoint?: string;
  awsRegion?: string;
  /** Tenants and key digests (API_KEYS). Empty: no authentication (and the Node server binds loopback only). */
  apiKeys: ApiKey[];
  /** Requests per tenant per sliding minute on /v1; undefined: no limit. */
  rateLimitPerMinute?: number;
  /** HMAC key of local file URLs; undefined: the edge keeps a random one in DATA_DIR. */
  urlSigningSecret?: string;
  logLevel: LogLevel;
  executionProvider: 'cpu' | 'cuda';
  workerMaxBatch: number | 'auto';
  workerConcurrency: number;
  visibilityTimeoutSeconds: number;
  presignExpiresSeconds: number;
  /** POST /v1/images/generations waits this long for its images, then answers 504 with the generation ids. */
  openAiWaitSeconds: number;
  /** Things worth a warning at start (e.g. the fallback model package); the caller logs them. */
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Resolves relative paths (default process.cwd()). */
  cwd?: string;
  /** Probe for the default model package (tests inject one). */
  exists?: (path: string) => boolean;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_MODEL_DIR = resolve(REPO_ROOT, 'packages/shapes64');
export const FALLBACK_MODEL_DIR = resolve(REPO_ROOT, 'packages/tiny');

type EnvInput = Record<string, string | undefined>;

export function loadConfig(env: EnvInput, options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const exists = options.exists ?? ((p: string) => existsSync(p));
  // Only our variables, empty ones dropped: the rest of the environment is none of our business.
  const ours = Object.fromEntries(ENV_NAMES.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
  const parsed = EnvSchema.safeParse(ours);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => describeIssue(issue, ours)));
  const e = parsed.data;

  const problems: string[] = [];
  if (e.STORE === 's3' && !e.S3_BUCKET) problems.push('S3_BUCKET: required when STORE=s3');
  if (e.QUEUE === 'sqs' && !e.SQS_QUEUE_URL) problems.push('SQS_QUEUE_URL: required when QUEUE=sqs');
  if ((e.STORE === 's3' || e.QUEUE === 'sqs') && !e.AWS_REGION) {
    problems.push('AWS_REGION: required when STORE=s3 or QUEUE=sqs');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const warnings: string[] = [];
  let modelDir: string;
  if (e.MODEL_DIR) modelDir = absolute(e.MODEL_DIR, cwd);
  else if (exists(resolve(DEFAULT_MODEL_DIR, 'manifest.json'))) modelDir = DEFAULT_MODEL_DIR;
  else {
    modelDir = FALLBACK_MODEL_DIR;
    warnings.push(`MODEL_DIR unset and ${DEFAULT_MODEL_DIR} has no model package: using the random-weight fixture ${FALLBACK_MODEL_DIR}`);
  }

  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: absolute(e.DATA_DIR, cwd),
    modelDir,
    store: e.STORE,
    queue: e.QUEUE,
    ...optional('s3Bucket', e.S3_BUCKET),
    ...optional('s3Endpoint', e.S3_ENDPOINT),
    ...optional('sqsQueueUrl', e.SQS_QUEUE_URL),
    ...optional('sqsDlqUrl', e.SQS_DLQ_URL),
    ...optional('sqsEndpoint', e.SQS_ENDPOINT),
    ...optional('awsRegion', e.AWS_REGION),
    apiKeys: e.API_KEYS ?? [],
    ...(e.RATE_LIMIT_PER_MINUTE !== undefined ? { rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE } : {}),
    ...optional('urlSigningSecret', e.URL_SIGNING_SECRET),
    logLevel: e.LOG_LEVEL,
    executionProvider: e.EXECUTION_PROVIDER,
    workerMaxBatch: e.WORKER_MAX_BATCH,
    workerConcurrency: e.WORKER_CONCURRENCY,
    visibilityTimeoutSeconds: e.VISIBILITY_TIMEOUT_SECONDS,
    presignExpiresSeconds: e.PRESIGN_EXPIRES_SECONDS,
    openAiWaitSeconds: e.OPENAI_WAIT_SECONDS,
    warnings,
  };
}

/** The configuration of this process, read once (later calls return the same object). */
let cached: Config | undefined;
export function configFromProcessEnv(): Config {
  cached ??= loadConfig(process.env);
  return cached;
}

function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** `NAME: why (got "value")`; secrets are never echoed. */
function describeIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>): string {
  const name = String(issue.path[0] ?? '(environment)');
  const value = env[name];
  const shown = value === undefined || name === 'API_KEYS' || name === 'URL_SIGNING_SECRET' ? '' : ` (got ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value)})`;
  return `${name}: ${issue.message}${shown}`;
}

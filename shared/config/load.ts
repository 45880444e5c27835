/**
 * loadConfig: the process's configuration from an environment, validated once at start.
 * Pure apart from the optional file-existence probe for the default model package.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import type { WebhookSettings } from '../webhooks/deliver.js';
import { isUsableSecret } from '../webhooks/secrets.js';
import type { ApiKey } from './api-keys.js';
import { ENV_NAMES, type Env, EnvSchema, type LogLevel } from './schema.js';

export interface Config {
  port: number;
  host: string;
  /** Absolute. */
  dataDir: string;
  /** Absolute model package folders, the default model first (MODELS, MODEL_DIR or the shipped packages). */
  modelDirs: string[];
  /** The variable modelDirs came from, so that a bad package's error can name it; 'default': the shipped packages. */
  modelsFrom: ModelsSource;
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
  /** Receives before the SQLite queue dead-letters a message (SQS takes its redrive policy's). */
  queueMaxReceiveCount: number;
  presignExpiresSeconds: number;
  /** Webhook signing secrets, the SSRF guard's exception and the retry timing. */
  webhooks: WebhookSettings;
  /** POST /v1/images/generations waits this long for its images, then answers 504 with the generation ids. */
  openAiWaitSeconds: number;
  /** Things worth a warning at start (e.g. the fallback model package); the caller logs them. */
  warnings: string[];
}

export type ModelsSource = 'MODELS' | 'MODEL_DIR' | 'default';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Resolves relative paths (default process.cwd()). */
  cwd?: string;
  /** Probe for model packages' manifest.json (tests inject one). */
  exists?: (path: string) => boolean;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The shipped model packages, served when neither MODELS nor MODEL_DIR is set; the first is the default model. */
export const SHIPPED_MODEL_DIRS = ['packages/shapes64', 'packages/emoji64'].map((dir) => resolve(REPO_ROOT, dir));
/** Served, with a warning, when no shipped package is there (a fresh clone before any export). */
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
  const byTenant: Record<string, string> = {};
  for (const entry of e.WEBHOOK_SECRETS ?? []) {
    const at = entry.indexOf(':');
    const tenant = entry.slice(0, at);
    const secret = entry.slice(at + 1);
    if (byTenant[tenant] !== undefined) problems.push(`WEBHOOK_SECRETS: tenant ${tenant} is listed twice`);
    if (!isUsableSecret(secret)) problems.push(`WEBHOOK_SECRETS: the secret of tenant ${tenant} is not valid base64 after whsec_`);
    byTenant[tenant] = secret;
  }
  if (e.WEBHOOK_SECRET && !isUsableSecret(e.WEBHOOK_SECRET)) problems.push('WEBHOOK_SECRET: not valid base64 after whsec_');
  if (problems.length > 0) throw new ConfigError(problems);

  const warnings: string[] = [];
  const models = modelDirsOf(e, cwd, exists, warnings);

  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: absolute(e.DATA_DIR, cwd),
    modelDirs: models.dirs,
    modelsFrom: models.from,
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
    queueMaxReceiveCount: e.QUEUE_MAX_RECEIVE_COUNT,
    presignExpiresSeconds: e.PRESIGN_EXPIRES_SECONDS,
    webhooks: {
      secrets: { byTenant, ...(e.WEBHOOK_SECRET ? { fallback: e.WEBHOOK_SECRET } : {}) },
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE === '1',
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    },
    openAiWaitSeconds: e.OPENAI_WAIT_SECONDS,
    warnings,
  };
}

/**
 * The model package folders. Named ones (MODELS, or MODEL_DIR for one) must each hold a
 * manifest.json, or the process stops naming the variable; of the shipped default, a package
 * not there yet is skipped with a warning, and the test fixture serves when none is.
 */
function modelDirsOf(e: Env, cwd: string, exists: (path: string) => boolean, warnings: string[]): { dirs: string[]; from: ModelsSource } {
  const hasManifest = (dir: string) => exists(resolve(dir, 'manifest.json'));
  if (e.MODELS && e.MODEL_DIR)
    throw new ConfigError(['MODEL_DIR: set MODELS or MODEL_DIR, not both (MODEL_DIR is the one-package form of MODELS)']);
  const named = e.MODELS ?? (e.MODEL_DIR ? [e.MODEL_DIR] : undefined);
  if (named) {
    const from = e.MODELS ? 'MODELS' : 'MODEL_DIR';
    const dirs = named.map((dir) => resolve(cwd, dir));
    const problems = dirs.flatMap((dir, i) => [
      ...(dirs.indexOf(dir) !== i ? [`${from}: ${named[i]} is listed twice`] : []),
      ...(hasManifest(dir) ? [] : [`${from}: no model package at ${dir} (manifest.json missing)`]),
    ]);
    if (problems.length > 0) throw new ConfigError(problems);
    return { dirs, from };
  }
  const dirs: string[] = [];
  for (const dir of SHIPPED_MODEL_DIRS) {
    if (hasManifest(dir)) dirs.push(dir);
    else warnings.push(`MODELS unset: the shipped package ${dir} is not there (manifest.json missing); serving without it`);
  }
  if (dirs.length > 0) return { dirs, from: 'default' };
  warnings.push(`MODELS unset and no shipped model package is there: using the random-weight fixture ${FALLBACK_MODEL_DIR}`);
  return { dirs: [FALLBACK_MODEL_DIR], from: 'default' };
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

const SECRET_NAMES = new Set(['API_KEYS', 'URL_SIGNING_SECRET', 'WEBHOOK_SECRETS', 'WEBHOOK_SECRET']);

/** `NAME: why (got "value")`; secrets are never echoed. */
function describeIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>): string {
  const name = String(issue.path[0] ?? '(environment)');
  const value = env[name];
  const shown =
    value === undefined || SECRET_NAMES.has(name) ? '' : ` (got ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value)})`;
  return `${name}: ${issue.message}${shown}`;
}

/**
 * The environment variables every process reads, as one zod schema keyed by their names,
 * so that an error names the variable. Empty strings count as unset (a `FOO=` line in a
 * shell or compose file means "no value", not "the empty value").
 */
import { z } from 'zod';
import { ApiKeysSchema } from './api-keys.js';

/** Receives before the embedded (SQLite) queue dead-letters a message, unless QUEUE_MAX_RECEIVE_COUNT says otherwise. */
export const SQLITE_MAX_RECEIVE_COUNT = 3;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

export const EnvSchema = z.object({
  PORT: int(0, 65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./.data'),
  /** Model package folders, comma-separated; the first is the default model. */
  MODELS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((d) => d.trim())
        .filter((d) => d.length > 0),
    )
    .pipe(z.array(z.string()).min(1, 'expected one or more comma-separated package folders'))
    .optional(),
  /** One model package folder: a synonym of MODELS with one entry. */
  MODEL_DIR: z.string().min(1).optional(),
  STORE: z.enum(['file', 's3']).default('file'),
  QUEUE: z.enum(['sqlite', 'sqs']).default('sqlite'),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name')
    .optional(),
  S3_ENDPOINT: httpUrl.optional(),
  SQS_QUEUE_URL: httpUrl.optional(),
  SQS_DLQ_URL: httpUrl.optional(),
  SQS_ENDPOINT: httpUrl.optional(),
  AWS_REGION: z
    .string()
    .regex(/^[a-z0-9-]{2,32}$/, 'not an AWS region name')
    .optional(),
  API_KEYS: ApiKeysSchema.optional(),
  /** Requests a tenant may make to /v1 in a sliding minute; unset: no limit. */
  RATE_LIMIT_PER_MINUTE: int(1, 1_000_000).optional(),
  /** HMAC key of the local store's file URLs; unset: a random key kept in DATA_DIR. */
  URL_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').max(1024).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  EXECUTION_PROVIDER: z.enum(['cpu', 'cuda']).default('cpu'),
  WORKER_MAX_BATCH: z
    .union([z.literal('auto'), int(1, 1024)], { error: "expected 'auto' or a whole number from 1 to 1024" })
    .default('auto'),
  WORKER_CONCURRENCY: int(1, 64).default(1),
  VISIBILITY_TIMEOUT_SECONDS: int(1, 43_200).default(60),
  /** Receives before the embedded (SQLite) queue dead-letters a message; SQS: its redrive policy's. */
  QUEUE_MAX_RECEIVE_COUNT: int(1, 1000).default(SQLITE_MAX_RECEIVE_COUNT),
  PRESIGN_EXPIRES_SECONDS: int(1, 604_800).default(3600),
  /** `tenant:whsec_...`, comma-separated: each tenant's webhook signing secret. */
  WEBHOOK_SECRETS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k.length > 0),
    )
    .pipe(z.array(z.string().regex(/^[^:\s]+:whsec_[A-Za-z0-9+/]{16,}={0,2}$/, 'each entry must be tenant:whsec_<base64>')))
    .optional(),
  /** The signing secret of every tenant without one of its own. */
  WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/, 'must be whsec_<base64>')
    .optional(),
  /** 1: webhooks may reach private, loopback and link-local addresses, over plain http too. */
  WEBHOOK_ALLOW_PRIVATE: z.enum(['0', '1'], { error: 'expected 0 or 1' }).default('0'),
  /** Wait before a failed delivery's first retry; each next wait is 4x longer. */
  WEBHOOK_RETRY_BASE_MS: int(10, 3_600_000).default(10_000),
  WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(10_000),
  /** How long POST /v1/images/generations holds the request for its images before 504 (keep under a gateway's own timeout). */
  OPENAI_WAIT_SECONDS: int(1, 900).default(60),
});
export type Env = z.infer<typeof EnvSchema>;
export const ENV_NAMES = Object.keys(EnvSchema.shape) as (keyof Env)[];
export { LOG_LEVELS };
export type LogLevel = (typeof LOG_LEVELS)[number];

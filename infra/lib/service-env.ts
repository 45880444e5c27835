/**
 * The environment of the edge function and of the worker task, built once from the part
 * both read. Its keys are the services' config schemas' keys (shared/config/schema.ts,
 * and the worker's own gpu-worker/worker-env.ts): a variable neither schema reads, or one
 * renamed there, fails the typecheck here instead of being ignored at run time. The
 * imports are types only: synthesis loads no service code.
 */

import type { WorkerEnvSchema } from '../../gpu-worker/worker-env.js';
import type { EnvSchema } from '../../shared/config/schema.js';
import type { InfraConfig } from './config.js';

/** Read by the runtime, not by a service schema. */
type RuntimeVar = 'NODE_ENV' | 'NODE_OPTIONS';
type SharedVar = keyof typeof EnvSchema.shape;
type WorkerVar = keyof typeof WorkerEnvSchema.shape;

export type EdgeEnvironment = Partial<Record<SharedVar | RuntimeVar, string>>;
export type WorkerEnvironment = Partial<Record<SharedVar | WorkerVar | RuntimeVar, string>>;

/** Where the AWS adapters find their resources (tokens until deploy). */
export interface ServiceResources {
  readonly bucketName: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** Model package folders as the process sees them, the default model first. */
  readonly modelDirs: readonly string[];
}

/** Both services' adapters on AWS: S3 and SQS, and the model packages. */
function adapters(resources: ServiceResources) {
  return {
    STORE: 's3',
    QUEUE: 'sqs',
    S3_BUCKET: resources.bucketName,
    SQS_QUEUE_URL: resources.queueUrl,
    SQS_DLQ_URL: resources.deadLetterQueueUrl,
    MODELS: resources.modelDirs.join(','),
  } satisfies EdgeEnvironment;
}

/** Job settings of the shared configuration, set alike for both. */
function jobSettings(config: InfraConfig) {
  return {
    WORKER_MAX_BATCH: String(config.workerMaxBatch),
    VISIBILITY_TIMEOUT_SECONDS: String(config.visibilityTimeoutSeconds),
  } satisfies EdgeEnvironment;
}

// The keys keep the order they had when written out by hand: ECS renders them as a list,
// and a reordered list is a new task definition revision on the next deploy.

export interface EdgeEnvironmentProps extends ServiceResources {
  /** API_KEYS and WEBHOOK_SECRETS: CloudFormation parameter values. */
  readonly apiKeys: string;
  readonly webhookSecrets: string;
  /** How long POST /v1/images/generations may hold a request. */
  readonly openAiWaitSeconds: number;
}

export function edgeEnvironment(config: InfraConfig, props: EdgeEnvironmentProps): Record<string, string> {
  return {
    NODE_ENV: 'production',
    NODE_OPTIONS: '--enable-source-maps',
    ...adapters(props),
    EXECUTION_PROVIDER: 'cpu',
    ...jobSettings(config),
    API_KEYS: props.apiKeys,
    WEBHOOK_SECRETS: props.webhookSecrets,
    // 0 in the deploy context means no per-tenant limit: the service's "unset".
    ...(config.rateLimitPerMinute > 0 ? { RATE_LIMIT_PER_MINUTE: String(config.rateLimitPerMinute) } : {}),
    LOG_LEVEL: config.logLevel,
    OPENAI_WAIT_SECONDS: String(props.openAiWaitSeconds),
  } satisfies EdgeEnvironment;
}

export interface WorkerEnvironmentProps extends ServiceResources {
  readonly region: string;
  readonly healthPort: number;
}

/** WEBHOOK_SECRETS is not here: the task gets it from Secrets Manager (`secrets`). */
export function workerEnvironment(config: InfraConfig, props: WorkerEnvironmentProps): Record<string, string> {
  return {
    NODE_ENV: 'production',
    AWS_REGION: props.region,
    ...adapters(props),
    EXECUTION_PROVIDER: 'cuda',
    ...jobSettings(config),
    WORKER_HEALTH_PORT: String(props.healthPort),
    LOG_LEVEL: config.logLevel,
  } satisfies WorkerEnvironment;
}

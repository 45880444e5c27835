/**
 * The services' environments as the stack sets them, read back through the services' own
 * config schemas: every variable is one a schema reads, and every value one it accepts.
 */
import { describe, expect, it } from 'vitest';
import { WorkerEnvSchema } from '../../gpu-worker/worker-env.js';
import { EnvSchema } from '../../shared/config/schema.js';
import { DEFAULTS } from '../lib/config.js';
import { edgeEnvironment, workerEnvironment } from '../lib/service-env.js';

const RUNTIME_VARS = ['NODE_ENV', 'NODE_OPTIONS'];
const resources = {
  bucketName: 'unified-data-bucket',
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs',
  deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-dlq',
  modelDirs: ['/var/task/packages/shapes64', '/var/task/packages/emoji64'],
};
const edge = edgeEnvironment(DEFAULTS, {
  ...resources,
  apiKeys: '',
  webhookSecrets: 'acme:whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=',
  openAiWaitSeconds: 25,
});
const worker = workerEnvironment(DEFAULTS, { ...resources, region: 'eu-west-1', healthPort: 9091 });

describe('service environments', () => {
  it('name only variables the config schemas read', () => {
    const known = new Set([...Object.keys(EnvSchema.shape), ...RUNTIME_VARS]);
    expect(Object.keys(edge).filter((k) => !known.has(k))).toEqual([]);
    const workerKnown = new Set([...known, ...Object.keys(WorkerEnvSchema.shape)]);
    expect(Object.keys(worker).filter((k) => !workerKnown.has(k))).toEqual([]);
  });

  it('hold values the schemas accept, the same for both where both read them', () => {
    const e = EnvSchema.parse(edge);
    const w = EnvSchema.parse(worker);
    for (const key of [
      'STORE',
      'QUEUE',
      'S3_BUCKET',
      'SQS_QUEUE_URL',
      'SQS_DLQ_URL',
      'MODELS',
      'WORKER_MAX_BATCH',
      'VISIBILITY_TIMEOUT_SECONDS',
      'LOG_LEVEL',
    ] as const) {
      expect(e[key], key).toEqual(w[key]);
    }
    expect(e).toMatchObject({
      STORE: 's3',
      QUEUE: 'sqs',
      EXECUTION_PROVIDER: 'cpu',
      RATE_LIMIT_PER_MINUTE: DEFAULTS.rateLimitPerMinute,
      OPENAI_WAIT_SECONDS: 25,
    });
    expect(e.MODELS).toEqual(resources.modelDirs);
    expect(w).toMatchObject({ EXECUTION_PROVIDER: 'cuda', AWS_REGION: 'eu-west-1', WORKER_MAX_BATCH: DEFAULTS.workerMaxBatch });
    expect(WorkerEnvSchema.parse(worker).WORKER_HEALTH_PORT).toBe(9091);
  });

  it('leaves RATE_LIMIT_PER_MINUTE unset (no limit) when the deploy context says 0', () => {
    const unlimited = edgeEnvironment(
      { ...DEFAULTS, rateLimitPerMinute: 0 },
      { ...resources, apiKeys: '', webhookSecrets: '', openAiWaitSeconds: 25 },
    );
    expect(unlimited).not.toHaveProperty('RATE_LIMIT_PER_MINUTE');
    expect(EnvSchema.parse(unlimited).RATE_LIMIT_PER_MINUTE).toBeUndefined();
  });

  it('keeps the worker secret out of the task environment', () => {
    expect(worker).not.toHaveProperty('WEBHOOK_SECRETS');
  });
});

/**
 * The whole deployment: storage, queues, the edge on Lambda, the GPU worker pool.
 */
import { CfnOutput, CfnParameter, SecretValue, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { edgeCode, lambdaModelDir, workerImage, workerModelDir } from './assets.js';
import { type InfraConfig, readConfig } from './config.js';
import { Edge } from './edge.js';
import { JobQueues } from './queue.js';
import { Storage } from './storage.js';
import { WorkerPool } from './worker-pool.js';

/**
 * shared/config/api-keys.ts's rule for API_KEYS, so that a bad value fails the deploy, not the
 * first request: an entry is `tenant:key` when what precedes its first ':' is a tenant name,
 * else a bare key; a key is 8-256 printable ASCII characters without spaces or commas.
 */
const TENANT = '[A-Za-z0-9][A-Za-z0-9_-]{0,63}';
const KEY = '[\\x21-\\x2b\\x2d-\\x7e]{8,256}';
const ENTRY = `(?:${TENANT}:${KEY}|(?!${TENANT}:)${KEY})`;
export const API_KEYS_PATTERN = `^${ENTRY}(?:,${ENTRY})*$`;

export interface UnifiedModelStackProps extends StackProps {
  /** Overrides the context-derived configuration (tests). */
  readonly config?: InfraConfig;
  /** The edge bundle; default: built from edge/lambda.ts by scripts/bundle-edge.ts. */
  readonly edgeCode?: lambda.Code;
  /** The worker image; default: gpu-worker/Dockerfile, built at deploy. */
  readonly workerImage?: ecs.ContainerImage;
}

export class UnifiedModelStack extends Stack {
  readonly storage: Storage;
  readonly queues: JobQueues;
  readonly edge: Edge;
  readonly workers: WorkerPool;

  constructor(scope: Construct, id: string, props: UnifiedModelStackProps = {}) {
    super(scope, id, props);
    const config = props.config ?? readConfig(this.node);

    const apiKeys = new CfnParameter(this, 'ApiKeys', {
      type: 'String',
      noEcho: true,
      allowedPattern: API_KEYS_PATTERN,
      constraintDescription:
        'comma-separated entries, each tenant:key or a bare key; a key is 8-256 printable ASCII characters without spaces or commas',
      description:
        'API_KEYS of the edge: comma-separated tenant:key entries (or bare keys, each its own tenant); clients send the key as a bearer token. Kept out of the template.',
    });

    const webhookSecrets = new CfnParameter(this, 'WebhookSecrets', {
      type: 'String',
      noEcho: true,
      default: '',
      // shared/config/schema.ts: comma-separated tenant:whsec_<base64>; empty: no webhooks.
      allowedPattern: '^([^:,\\s]+:whsec_[A-Za-z0-9+/]{16,}={0,2}(,[^:,\\s]+:whsec_[A-Za-z0-9+/]{16,}={0,2})*)?$',
      constraintDescription: 'empty, or comma-separated tenant:whsec_<base64> entries',
      description:
        "WEBHOOK_SECRETS: each tenant's Standard Webhooks signing secret (tenant:whsec_...), comma-separated; empty turns webhooks off. Kept out of the template.",
    });
    const workerWebhookSecrets = new secretsmanager.Secret(this, 'WebhookSecretsForWorkers', {
      description: 'WEBHOOK_SECRETS of the GPU workers (the WebhookSecrets parameter), read by ECS into the container.',
      // A JSON object, so that the secret is never the empty string CloudFormation refuses.
      secretObjectValue: { WEBHOOK_SECRETS: SecretValue.cfnParameter(webhookSecrets) },
    });
    Validations.of(workerWebhookSecrets).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "Webhook signing secrets are shared with each tenant's receiver, so a rotation is agreed with the tenant: the operator sets a new WebhookSecrets parameter value; an automatic rotation would break every receiver.",
    });

    this.storage = new Storage(this, 'Storage', config);
    this.queues = new JobQueues(this, 'Queues', config);
    this.edge = new Edge(this, 'Edge', {
      config,
      code: props.edgeCode ?? edgeCode(config.models),
      modelDirs: config.models.map(lambdaModelDir),
      bucket: this.storage.bucket,
      queue: this.queues.queue,
      deadLetterQueue: this.queues.deadLetterQueue,
      apiKeys: apiKeys.valueAsString,
      webhookSecrets: webhookSecrets.valueAsString,
    });
    this.workers = new WorkerPool(this, 'Workers', {
      config,
      image: props.workerImage ?? workerImage(config.models),
      modelDirs: config.models.map(workerModelDir),
      bucket: this.storage.bucket,
      logBucket: this.storage.logBucket,
      queue: this.queues.queue,
      deadLetterQueue: this.queues.deadLetterQueue,
      webhookSecrets: workerWebhookSecrets,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.edge.url, description: 'Base URL of the public API' });
    new CfnOutput(this, 'BucketName', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'QueueUrl', { value: this.queues.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.queues.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.queues.alarmTopic.topicArn });
    new CfnOutput(this, 'ClusterName', { value: this.workers.cluster.clusterName });
  }
}

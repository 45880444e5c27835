/**
 * The whole deployment: storage, queues, the edge on Lambda, the GPU worker pool.
 */
import { CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { edgeCode, lambdaModelDir, workerImage, workerModelDir } from './assets.js';
import { readConfig, type InfraConfig } from './config.js';
import { Edge } from './edge.js';
import { JobQueues } from './queue.js';
import { Storage } from './storage.js';
import { WorkerPool } from './worker-pool.js';

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
      // shared/config/schema.ts: comma-separated, each 8-256 printable characters, no spaces.
      allowedPattern: '^[\\x21-\\x2b\\x2d-\\x7e]{8,256}(,[\\x21-\\x2b\\x2d-\\x7e]{8,256})*$',
      constraintDescription: 'comma-separated keys, each 8-256 printable ASCII characters without spaces or commas',
      description: 'API_KEYS of the edge: comma-separated keys clients send as a bearer token. Kept out of the template.',
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
    });
    this.workers = new WorkerPool(this, 'Workers', {
      config,
      image: props.workerImage ?? workerImage(config.models),
      modelDirs: config.models.map(workerModelDir),
      bucket: this.storage.bucket,
      logBucket: this.storage.logBucket,
      queue: this.queues.queue,
      deadLetterQueue: this.queues.deadLetterQueue,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.edge.url, description: 'Base URL of the public API' });
    new CfnOutput(this, 'BucketName', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'QueueUrl', { value: this.queues.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.queues.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.queues.alarmTopic.topicArn });
    new CfnOutput(this, 'ClusterName', { value: this.workers.cluster.clusterName });
  }
}

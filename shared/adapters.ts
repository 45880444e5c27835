/**
 * The one place that turns configuration into the store and queue adapters, for the edge
 * and the worker alike: SQLite + files under DATA_DIR (the embedded default) or SQS + S3.
 * Both halves open the same paths because both come here.
 */
import { join } from 'node:path';
import { type Config, SQLITE_MAX_RECEIVE_COUNT } from './config/index.js';
import { JobRepository } from './jobs/repository.js';
import type { JobQueue } from './ports/queue.js';
import type { ObjectStore } from './ports/store.js';
import { openQueues } from './queue/index.js';
import { JobRecord } from './schemas/job.js';
import { openStore } from './store/index.js';

/** Where the embedded default keeps its state under DATA_DIR. */
export function embeddedPaths(dataDir: string): { queue: string; store: string } {
  return { queue: join(dataDir, 'queue.db'), store: join(dataDir, 'store') };
}

export type AdapterConfig = Pick<
  Config,
  | 'store'
  | 'queue'
  | 'dataDir'
  | 's3Bucket'
  | 's3Endpoint'
  | 'sqsQueueUrl'
  | 'sqsDlqUrl'
  | 'sqsEndpoint'
  | 'awsRegion'
  | 'visibilityTimeoutSeconds'
  | 'presignExpiresSeconds'
> &
  Partial<Pick<Config, 'queueMaxReceiveCount'>>;

export interface Adapters {
  queue: JobQueue;
  /** The dead-letter queue: always with SQLite, with SQS when SQS_DLQ_URL is set (the edge does without). */
  deadLetters?: JobQueue;
  store: ObjectStore;
  jobs: JobRepository<JobRecord>;
  /** The source queue's maxReceiveCount where it is ours to set (SQLite). */
  maxReceiveCount?: number;
  /** Closes the queues and the store. */
  close(): Promise<void>;
}

export function jobRepository(store: ObjectStore): JobRepository<JobRecord> {
  return new JobRepository<JobRecord>(store, { schema: JobRecord });
}

export function openAdapters(config: AdapterConfig): Adapters {
  const aws = (endpoint: string | undefined) => ({
    ...(config.awsRegion ? { region: config.awsRegion } : {}),
    ...(endpoint ? { endpoint } : {}),
  });
  const paths = embeddedPaths(config.dataDir);
  const store = openStore(
    config.store === 's3'
      ? {
          kind: 's3',
          bucket: required(config.s3Bucket, 'S3_BUCKET'),
          ...aws(config.s3Endpoint),
          // A custom endpoint is a local S3-compatible server, which wants path-style URLs.
          ...(config.s3Endpoint ? { forcePathStyle: true } : {}),
          presignExpiresSeconds: config.presignExpiresSeconds,
        }
      : { kind: 'file', root: paths.store },
  );
  if (config.queue === 'sqlite') {
    const maxReceiveCount = config.queueMaxReceiveCount ?? SQLITE_MAX_RECEIVE_COUNT;
    const queues = openQueues({
      kind: 'sqlite',
      path: paths.queue,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      maxReceiveCount,
    });
    return {
      queue: queues.queue,
      deadLetters: queues.deadLetters,
      store,
      jobs: jobRepository(store),
      maxReceiveCount,
      close: async () => {
        await queues.close();
        store.close();
      },
    };
  }
  const queueUrl = required(config.sqsQueueUrl, 'SQS_QUEUE_URL');
  // The dead-letter queue is only read by the worker's drain; without its URL only the queue is opened.
  const queues = openQueues({ kind: 'sqs', queueUrl, deadLetterQueueUrl: config.sqsDlqUrl ?? queueUrl, ...aws(config.sqsEndpoint) });
  return {
    queue: queues.queue,
    ...(config.sqsDlqUrl ? { deadLetters: queues.deadLetters } : {}),
    store,
    jobs: jobRepository(store),
    close: async () => {
      await queues.close();
      store.close();
    },
  };
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new Error(`${name} is required by this configuration`);
  return value;
}

/**
 * The queue, its dead-letter queue and the object store named by the configuration:
 * SQLite + files under DATA_DIR (the embedded default) or SQS + S3.
 */
import { join } from 'node:path';
import type { Config } from '../shared/config/index.js';
import type { JobQueue } from '../shared/ports/queue.js';
import type { ObjectStore } from '../shared/ports/store.js';
import { SqliteQueue } from '../shared/queue/sqlite-queue.js';
import { SqsQueue } from '../shared/queue/sqs-queue.js';
import { FileStore } from '../shared/store/file-store.js';
import { S3Store } from '../shared/store/s3-store.js';

/** Where the embedded default keeps its state (the edge opens the same files). */
export function embeddedPaths(dataDir: string): { queue: string; store: string } {
  return { queue: join(dataDir, 'queue.sqlite'), store: join(dataDir, 'store') };
}

export interface WorkerAdapters {
  queue: JobQueue;
  /** Absent when the configuration names none (SQS without SQS_DLQ_URL). */
  deadLetters?: JobQueue;
  store: ObjectStore;
  /** The source queue's maxReceiveCount where the worker knows it (SQLite). */
  maxReceiveCount?: number;
  close(): Promise<void>;
}

export const SQLITE_MAX_RECEIVE_COUNT = 3;

export function openAdapters(config: Config): WorkerAdapters {
  const store: ObjectStore =
    config.store === 's3'
      ? new S3Store({
          bucket: config.s3Bucket!,
          ...(config.awsRegion ? { region: config.awsRegion } : {}),
          ...(config.s3Endpoint ? { endpoint: config.s3Endpoint, forcePathStyle: true } : {}),
          presignExpiresSeconds: config.presignExpiresSeconds,
        })
      : new FileStore({ root: embeddedPaths(config.dataDir).store });
  const closeStore = async (): Promise<void> => {
    if (store instanceof FileStore || store instanceof S3Store) store.close();
  };
  if (config.queue === 'sqs') {
    const aws = { ...(config.awsRegion ? { region: config.awsRegion } : {}), ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}) };
    const queue = new SqsQueue({ ...aws, queueUrl: config.sqsQueueUrl! });
    const deadLetters = config.sqsDlqUrl ? new SqsQueue({ ...aws, queueUrl: config.sqsDlqUrl }) : undefined;
    return {
      queue,
      ...(deadLetters ? { deadLetters } : {}),
      store,
      close: async () => {
        await Promise.all([queue.close(), deadLetters?.close(), closeStore()]);
      },
    };
  }
  const queue = new SqliteQueue({
    path: embeddedPaths(config.dataDir).queue,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    maxReceiveCount: SQLITE_MAX_RECEIVE_COUNT,
  });
  const deadLetters = queue.deadLetterQueue();
  return {
    queue,
    deadLetters,
    store,
    maxReceiveCount: SQLITE_MAX_RECEIVE_COUNT,
    close: async () => {
      await deadLetters.close();
      await queue.close();
      await closeStore();
    },
  };
}

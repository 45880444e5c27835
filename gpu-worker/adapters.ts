/**
 * The queue, its dead-letter queue and the object store named by the configuration:
 * SQLite + files under DATA_DIR (the embedded default) or SQS + S3. The paths match the
 * edge's (edge/deps.ts), which opens the same files; the worker image does not ship edge/.
 */
import { join } from 'node:path';
import type { Config } from '../shared/config/index.js';
import type { JobQueue } from '../shared/ports/queue.js';
import type { ObjectStore } from '../shared/ports/store.js';
import { openQueues } from '../shared/queue/index.js';
import { openStore } from '../shared/store/index.js';

/** Where the embedded default keeps its state under DATA_DIR. */
export function embeddedPaths(dataDir: string): { queue: string; store: string } {
  return { queue: join(dataDir, 'queue.db'), store: join(dataDir, 'store') };
}

/** SqliteQueue's default, which the edge's queue uses too. */
export const SQLITE_MAX_RECEIVE_COUNT = 3;

export interface WorkerAdapters {
  queue: JobQueue;
  deadLetters: JobQueue;
  store: ObjectStore;
  /** The source queue's maxReceiveCount where the worker knows it (SQLite). */
  maxReceiveCount?: number;
  close(): Promise<void>;
}

export function openAdapters(config: Config): WorkerAdapters {
  const aws = (endpoint: string | undefined) => ({ ...(config.awsRegion ? { region: config.awsRegion } : {}), ...(endpoint ? { endpoint } : {}) });
  const store = openStore(
    config.store === 's3'
      ? { kind: 's3', bucket: config.s3Bucket!, ...aws(config.s3Endpoint), ...(config.s3Endpoint ? { forcePathStyle: true } : {}), presignExpiresSeconds: config.presignExpiresSeconds }
      : { kind: 'file', root: embeddedPaths(config.dataDir).store },
  );
  if (config.queue === 'sqs' && !config.sqsDlqUrl) throw new Error('SQS_DLQ_URL: required by the worker when QUEUE=sqs (it drains the dead letters)');
  const queues = openQueues(
    config.queue === 'sqs'
      ? { kind: 'sqs', queueUrl: config.sqsQueueUrl!, deadLetterQueueUrl: config.sqsDlqUrl!, ...aws(config.sqsEndpoint) }
      : { kind: 'sqlite', path: embeddedPaths(config.dataDir).queue, visibilityTimeoutSeconds: config.visibilityTimeoutSeconds, maxReceiveCount: SQLITE_MAX_RECEIVE_COUNT },
  );
  return {
    queue: queues.queue,
    deadLetters: queues.deadLetters,
    store,
    ...(config.queue === 'sqlite' ? { maxReceiveCount: SQLITE_MAX_RECEIVE_COUNT } : {}),
    close: async () => {
      await queues.close();
      store.close();
    },
  };
}

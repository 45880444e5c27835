import { join } from 'node:path';
import { describe } from 'vitest';
import { SqliteQueue } from '../../shared/queue/sqlite-queue.js';
import { SqsQueue } from '../../shared/queue/sqs-queue.js';
import { FileStore } from '../../shared/store/file-store.js';
import { S3Store } from '../../shared/store/s3-store.js';
import { awsCommon, createSqsQueuePair, resolveAwsEnv } from './aws-env.js';
import { deadLetterContract } from './dead-letters-contract.js';
import { tempDir } from './tmp-dir.js';

deadLetterContract('SQLite queue + file store', async () => {
  const tmp = tempDir('dead-letters');
  const queue = new SqliteQueue({ path: join(tmp.dir, 'q.sqlite'), visibilityTimeoutSeconds: 1, maxReceiveCount: 3, pollIntervalMs: 20 });
  const deadLetters = queue.deadLetterQueue();
  const store = new FileStore({ root: join(tmp.dir, 'store') });
  return {
    queue,
    deadLetters,
    store,
    cleanup: async () => {
      await deadLetters.close();
      await queue.close();
      store.close();
      tmp.remove();
    },
  };
});

const env = await resolveAwsEnv();

describe.skipIf(!env)('AWS-compatible back ends', () => {
  deadLetterContract('SQS (ElasticMQ) + S3 (versitygw)', async () => {
    const pair = await createSqsQueuePair(env!, { visibilityTimeoutSeconds: 1, maxReceiveCount: 3 });
    const common = awsCommon(env!);
    const queue = new SqsQueue({ ...common, endpoint: env!.AWS_ENDPOINT_URL_SQS, queueUrl: pair.queueUrl });
    const deadLetters = new SqsQueue({ ...common, endpoint: env!.AWS_ENDPOINT_URL_SQS, queueUrl: pair.dlqUrl });
    const store = new S3Store({ ...common, endpoint: env!.AWS_ENDPOINT_URL_S3, bucket: env!.S3_BUCKET, forcePathStyle: true });
    return {
      queue,
      deadLetters,
      store,
      cleanup: async () => {
        await queue.close();
        await deadLetters.close();
        store.close();
        await pair.cleanup();
      },
    };
  });
});

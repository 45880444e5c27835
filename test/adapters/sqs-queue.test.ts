import { describe, expect, it } from 'vitest';
import { SqsQueue } from '../../shared/queue/sqs-queue.js';
import { awsCommon, createSqsQueuePair, resolveAwsEnv } from './aws-env.js';
import { queueContract, VISIBILITY_S } from './queue-contract.js';

const env = await resolveAwsEnv();

describe.skipIf(!env)('SqsQueue against ElasticMQ', () => {
  queueContract('SqsQueue', async () => {
    const pair = await createSqsQueuePair(env!, { visibilityTimeoutSeconds: VISIBILITY_S, maxReceiveCount: 3 });
    const common = { ...awsCommon(env!), endpoint: env!.AWS_ENDPOINT_URL_SQS };
    const queue = new SqsQueue({ ...common, queueUrl: pair.queueUrl });
    const deadLetters = new SqsQueue({ ...common, queueUrl: pair.dlqUrl });
    return {
      queue,
      deadLetters,
      cleanup: async () => {
        await queue.close();
        await deadLetters.close();
        await pair.cleanup();
      },
    };
  });

  it('reaches the configured jobs queue and its dead-letter queue', async () => {
    const common = { ...awsCommon(env!), endpoint: env!.AWS_ENDPOINT_URL_SQS };
    for (const queueUrl of [env!.SQS_QUEUE_URL, env!.SQS_DLQ_URL]) {
      const q = new SqsQueue({ ...common, queueUrl });
      const stats = await q.stats();
      expect(stats.visible).toBeGreaterThanOrEqual(0);
      await q.close();
    }
  });
});

describe('SqsQueue config', () => {
  it('rejects a queue URL that is not a URL', () => {
    expect(() => new SqsQueue({ queueUrl: 'jobs', region: 'us-east-1' })).toThrow(/queueUrl/);
  });
});

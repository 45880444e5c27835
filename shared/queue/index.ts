/**
 * Picks the queue back end from configuration: `sqlite` (embedded default) or `sqs`.
 * Returns the job queue and its dead-letter queue, both behind the JobQueue port.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import type { JobQueue } from '../ports/queue.js';
import { awsClientOptions } from '../store/aws-config.js';
import { SqliteQueue, SqliteQueueConfig } from './sqlite-queue.js';
import { SqsQueue, SqsQueueConfig } from './sqs-queue.js';

export const QueueConfig = z.discriminatedUnion('kind', [
  SqliteQueueConfig.extend({ kind: z.literal('sqlite') }),
  SqsQueueConfig.extend({
    kind: z.literal('sqs'),
    /** The queue the redrive policy sends dead letters to. */
    deadLetterQueueUrl: z.url({ protocol: /^https?$/ }),
  }),
]);
export type QueueConfig = z.input<typeof QueueConfig>;

export interface Queues {
  queue: JobQueue;
  deadLetters: JobQueue;
  /** Closes both. */
  close(): Promise<void>;
}

/** Validates `config` (throws a ZodError naming the bad field) and opens the queues. */
export function openQueues(config: QueueConfig): Queues {
  const c = QueueConfig.parse(config);
  if (c.kind === 'sqlite') {
    const { kind: _, ...rest } = c;
    const queue = new SqliteQueue(rest);
    const deadLetters = queue.deadLetterQueue();
    const close = async (): Promise<void> => {
      await deadLetters.close();
      await queue.close();
    };
    return { queue, deadLetters, close };
  }
  const { kind: _, deadLetterQueueUrl, ...rest } = c;
  const client = new SQSClient(awsClientOptions(rest, 'sqs'));
  const queue = new SqsQueue(rest, client);
  const deadLetters = new SqsQueue({ ...rest, queueUrl: deadLetterQueueUrl }, client);
  return { queue, deadLetters, close: async () => client.destroy() };
}

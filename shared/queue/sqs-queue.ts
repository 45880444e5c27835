/**
 * The job queue on Amazon SQS (or an SQS-compatible server such as ElasticMQ).
 * Dead letters are SQS's own redrive policy: configure it on the queue (CDK, or the local
 * server's config); this adapter only reads from and writes to one queue URL.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { type JobQueue, MessageNotInFlightError, type ReceivedMessage, type ReceiveOptions, type SendOptions } from '../ports/queue.js';
import { AwsClientConfig, awsClientOptions } from '../store/aws-config.js';

export const SqsQueueConfig = AwsClientConfig.extend({
  queueUrl: z.url({ protocol: /^https?$/ }),
}).strict();
export type SqsQueueConfig = z.input<typeof SqsQueueConfig>;

/** SQS's own limits on one ReceiveMessage call. */
const MAX_BATCH = 10;
const MAX_WAIT_SECONDS = 20;
const MAX_DELAY_SECONDS = 900;

/**
 * `receive` asks for at most 10 messages and waits at most 20 s (SQS's limits; larger
 * values are clamped). An aborted long poll resolves with no messages.
 */
export class SqsQueue implements JobQueue {
  readonly queueUrl: string;
  private readonly client: SQSClient;
  private readonly ownsClient: boolean;

  /** Pass `client` to share one SQSClient between queues (it is then not destroyed on close). */
  constructor(config: SqsQueueConfig, client?: SQSClient) {
    const c = SqsQueueConfig.parse(config);
    this.queueUrl = c.queueUrl;
    this.client = client ?? new SQSClient(awsClientOptions(c, 'sqs'));
    this.ownsClient = client === undefined;
  }

  async send(body: string, options: SendOptions = {}): Promise<void> {
    const delay = options.delaySeconds === undefined ? undefined : clamp(Math.ceil(options.delaySeconds), 0, MAX_DELAY_SECONDS);
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: body, ...(delay ? { DelaySeconds: delay } : {}) }),
    );
  }

  async receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    if (options.signal?.aborted) return [];
    try {
      const out = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: clamp(options.maxMessages, 1, MAX_BATCH),
          WaitTimeSeconds: clamp(options.waitSeconds, 0, MAX_WAIT_SECONDS),
          VisibilityTimeout: options.visibilityTimeoutSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
        { abortSignal: options.signal },
      );
      return (out.Messages ?? []).map(toReceived);
    } catch (err) {
      // An aborted long poll is a shutdown, not a failure: nothing was received.
      if (options.signal?.aborted) return [];
      throw err;
    }
  }

  async extendVisibility(receiptHandle: string, seconds: number): Promise<void> {
    try {
      await this.changeVisibility(receiptHandle, seconds);
    } catch (err) {
      if (isNotInFlight(err)) throw new MessageNotInFlightError(receiptHandle, (err as Error).message);
      throw err;
    }
  }

  async release(receiptHandle: string): Promise<void> {
    try {
      await this.changeVisibility(receiptHandle, 0);
    } catch (err) {
      // Already visible again or taken by another receiver: nothing of ours to release.
      if (!isNotInFlight(err)) throw err;
    }
  }

  async delete(receiptHandle: string): Promise<void> {
    await this.client.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle }));
  }

  async stats(): Promise<{ visible: number; inFlight: number }> {
    const out = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const a = out.Attributes ?? {};
    return {
      visible: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: clamp(seconds, 0, 43_200),
      }),
    );
  }
}

function toReceived(m: Message): ReceivedMessage {
  if (!m.MessageId || !m.ReceiptHandle || m.Body === undefined) {
    throw new Error('SQS returned a message without MessageId, ReceiptHandle or Body');
  }
  const attrs = m.Attributes ?? {};
  return {
    messageId: m.MessageId,
    receiptHandle: m.ReceiptHandle,
    body: m.Body,
    receiveCount: Number(attrs.ApproximateReceiveCount ?? 1),
    sentAt: Number(attrs.SentTimestamp ?? Date.now()),
  };
}

function isNotInFlight(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'MessageNotInflight' || name === 'ReceiptHandleIsInvalid' || name === 'InvalidParameterValue';
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.floor(n)));
}

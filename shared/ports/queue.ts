/**
 * The job queue port. SQS semantics: at-least-once delivery, a visibility timeout that
 * hides a received message until it is deleted or the timeout lapses, a receive count,
 * and a dead-letter queue that takes a message after `maxReceiveCount` receives.
 * Bodies are small JSON strings that carry ids, never payloads.
 */
export interface ReceivedMessage {
  /** Stable id of the message (the same across redeliveries). */
  readonly messageId: string;
  /** Opaque handle of this delivery; changes at every receive. */
  readonly receiptHandle: string;
  readonly body: string;
  /** 1 on the first delivery. */
  readonly receiveCount: number;
  /** When the message was first sent (ms since epoch). */
  readonly sentAt: number;
}

export interface ReceiveOptions {
  maxMessages: number;
  /** Long-poll wait; 0 returns at once. */
  waitSeconds: number;
  /** Overrides the queue's default visibility timeout for these deliveries. */
  visibilityTimeoutSeconds?: number;
  /** Aborts a long poll early (shutdown). */
  signal?: AbortSignal;
}

export interface JobQueue {
  send(body: string): Promise<void>;
  receive(options: ReceiveOptions): Promise<ReceivedMessage[]>;
  /** Heartbeat: keep the message hidden for `seconds` more from now. */
  extendVisibility(receiptHandle: string, seconds: number): Promise<void>;
  /** Make the message visible again at once (graceful release on shutdown). */
  release(receiptHandle: string): Promise<void>;
  /** Acknowledge: the message is done and never redelivered. */
  delete(receiptHandle: string): Promise<void>;
  /** Approximate counts, for metrics and scaling. */
  stats(): Promise<{ visible: number; inFlight: number }>;
  /**
   * Messages waiting to be received (visible now) that were sent before `sentBeforeMs`: a
   * job's place in line. Optional: SQS cannot say it, and callers fall back to `stats()`.
   */
  waitingSentBefore?(sentBeforeMs: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Thrown by `extendVisibility` when the receipt handle no longer names an in-flight
 * delivery (the timeout lapsed and the message was received again, or it was deleted).
 * A worker that sees it has lost the message and must not assume it still owns the job.
 */
export class MessageNotInFlightError extends Error {
  constructor(receiptHandle: string, detail?: string) {
    super(`message not in flight for receipt handle ${receiptHandle}${detail ? `: ${detail}` : ''}`);
    this.name = 'MessageNotInFlightError';
  }
}

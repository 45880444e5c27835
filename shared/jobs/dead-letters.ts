/**
 * Drains the dead-letter queue: each arrival is a job whose message was received
 * maxReceiveCount times without being deleted (the worker crashed or kept failing), so the
 * job is marked `failed` with code `dead_lettered`, then the message is deleted.
 * A job already in a terminal state is left as it is (it finished but its delete was lost).
 */
import type { JobQueue, ReceivedMessage } from '../ports/queue.js';
import { sleep } from '../queue/sleep.js';
import { InvalidJobMessageError, parseJobMessage } from './message.js';
import type { JobRecordBase } from './record.js';
import { JobNotFoundError, type JobRepository } from './repository.js';
import { isTerminal } from './status.js';

/** The subset of a pino logger this uses. */
export interface DeadLetterLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DeadLetterOptions {
  deadLetters: JobQueue;
  jobs: Pick<JobRepository<JobRecordBase>, 'update'>;
  /**
   * The source queue's maxReceiveCount, quoted in the failure message. Without it the
   * count is taken from the message (its receive count carries over from the source
   * queue, so the first receive here reads maxReceiveCount + 1).
   */
  maxReceiveCount?: number;
  logger?: DeadLetterLogger;
  /**
   * Called with the terminal record before its dead letter is deleted (the worker queues
   * the `completed` webhook event here); a throw leaves the dead letter for another try.
   */
  onTerminal?: (record: JobRecordBase) => Promise<void>;
  /** Long-poll wait of each receive (default 20 s, SQS's maximum). */
  waitSeconds?: number;
  signal?: AbortSignal;
}

export interface DrainResult {
  /** Jobs marked failed. */
  failed: number;
  /** Messages whose job was already terminal or unknown, or whose body was invalid. */
  dropped: number;
  /** Messages left for redelivery because handling them threw. */
  errors: number;
}

export const DEAD_LETTERED = 'dead_lettered';

const silent: DeadLetterLogger = { info() {}, warn() {}, error() {} };

/** One receive (up to 10 messages) and their handling. */
export async function drainDeadLettersOnce(options: DeadLetterOptions): Promise<DrainResult> {
  const result: DrainResult = { failed: 0, dropped: 0, errors: 0 };
  const messages = await options.deadLetters.receive({
    maxMessages: 10,
    waitSeconds: options.waitSeconds ?? 20,
    signal: options.signal,
  });
  for (const message of messages) {
    const outcome = await handle(message, options);
    result[outcome] += 1;
  }
  return result;
}

/** Drains until `signal` aborts; errors are logged and retried after a pause. */
export async function runDeadLetterLoop(options: DeadLetterOptions & { signal: AbortSignal }): Promise<void> {
  const log = options.logger ?? silent;
  while (!options.signal.aborted) {
    try {
      await drainDeadLettersOnce(options);
    } catch (err) {
      log.error({ err }, 'dead-letter receive failed; retrying');
      await sleep(1000, options.signal);
    }
  }
}

async function handle(message: ReceivedMessage, options: DeadLetterOptions): Promise<keyof DrainResult> {
  const log = options.logger ?? silent;
  let jobId: string;
  let requestId: string;
  try {
    ({ jobId, requestId } = parseJobMessage(message.body));
  } catch (err) {
    if (!(err instanceof InvalidJobMessageError)) throw err;
    // A webhook event whose deliveries kept crashing their worker lands here too: its attempts are in the delivery log.
    log.error({ messageId: message.messageId, err: err.message, body: message.body.slice(0, 300) }, 'dropping an invalid dead letter');
    await options.deadLetters.delete(message.receiptHandle);
    return 'dropped';
  }
  const receives = options.maxReceiveCount ?? Math.max(1, message.receiveCount - 1);
  const error = {
    code: DEAD_LETTERED,
    message: `the job's message was received ${receives} times without completing and was moved to the dead-letter queue`,
  };
  try {
    // update() may call the mutation more than once (lost races): the last call counts.
    let marked = false;
    const after = await options.jobs.update(jobId, (current) => {
      marked = !isTerminal(current.status);
      return marked ? { ...current, status: 'failed', error } : null;
    });
    if (isTerminal(after.status)) await options.onTerminal?.(after);
    await options.deadLetters.delete(message.receiptHandle);
    if (marked) {
      log.warn({ jobId, requestId, receives }, 'job failed: dead-lettered');
      return 'failed';
    }
    log.info({ jobId, requestId, status: after.status }, 'dead letter for a finished job; dropped');
    return 'dropped';
  } catch (err) {
    if (err instanceof JobNotFoundError) {
      log.warn({ jobId, requestId }, 'dead letter for an unknown job; dropped');
      await options.deadLetters.delete(message.receiptHandle);
      return 'dropped';
    }
    log.error({ jobId, requestId, err }, 'could not mark a dead-lettered job failed; it will be retried');
    return 'errors';
  }
}

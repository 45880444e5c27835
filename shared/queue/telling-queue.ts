/**
 * A queue that tells after each send: the embedded default's edge wraps its queue so that the
 * workers of `npm start`'s pool hear of a new job at once (gpu-worker/pool.ts `jobsQueued`)
 * instead of at their next look at the SQLite file. The message is committed first: a worker
 * woken by the telling finds it. Everything else passes through unchanged.
 */
import type { JobQueue, ReceivedMessage, ReceiveOptions, SendOptions } from '../ports/queue.js';

export class TellingQueue implements JobQueue {
  readonly waitingSentBefore?: (sentBeforeMs: number) => Promise<number>;

  constructor(
    private readonly inner: JobQueue,
    private readonly sent: () => void,
  ) {
    if (inner.waitingSentBefore) this.waitingSentBefore = (ms) => inner.waitingSentBefore!(ms);
  }

  async send(body: string, options?: SendOptions): Promise<void> {
    await this.inner.send(body, options);
    this.sent();
  }

  receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    return this.inner.receive(options);
  }

  extendVisibility(receiptHandle: string, seconds: number): Promise<void> {
    return this.inner.extendVisibility(receiptHandle, seconds);
  }

  release(receiptHandle: string): Promise<void> {
    return this.inner.release(receiptHandle);
  }

  delete(receiptHandle: string): Promise<void> {
    return this.inner.delete(receiptHandle);
  }

  stats(): Promise<{ visible: number; inFlight: number }> {
    return this.inner.stats();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * The JobQueue contract, run against every back end (SQLite and SQS/ElasticMQ).
 * Each test gets a fresh queue pair with a 1 s visibility timeout and maxReceiveCount 3.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type JobQueue, MessageNotInFlightError, type ReceivedMessage } from '../../shared/ports/queue.js';

export interface QueueHarness {
  queue: JobQueue;
  deadLetters: JobQueue;
  cleanup(): Promise<void>;
}
/** Must make queues with visibilityTimeoutSeconds 1 and maxReceiveCount 3. */
export type QueueFactory = () => Promise<QueueHarness>;

export const VISIBILITY_S = 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Receives until `n` messages arrived or `waitSeconds` passed (SQS may split batches). */
async function receiveN(queue: JobQueue, n: number, waitSeconds = 3): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  const deadline = Date.now() + waitSeconds * 1000;
  while (out.length < n && Date.now() < deadline) {
    out.push(...(await queue.receive({ maxMessages: n - out.length, waitSeconds: 1 })));
  }
  return out;
}

async function receiveOne(queue: JobQueue, waitSeconds = 3): Promise<ReceivedMessage> {
  const [m] = await receiveN(queue, 1, waitSeconds);
  if (!m) throw new Error('expected a message');
  return m;
}

export function queueContract(name: string, factory: QueueFactory): void {
  describe(`JobQueue contract: ${name}`, () => {
    let h: QueueHarness;
    beforeEach(async () => {
      h = await factory();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('sends, receives and deletes', async () => {
      const before = Date.now();
      await h.queue.send('{"jobId":"a","requestId":"r"}');
      const m = await receiveOne(h.queue);
      expect(m.body).toBe('{"jobId":"a","requestId":"r"}');
      expect(m.receiveCount).toBe(1);
      expect(m.sentAt).toBeGreaterThanOrEqual(before - 1000);
      expect(m.sentAt).toBeLessThanOrEqual(Date.now() + 1000);
      await h.queue.delete(m.receiptHandle);
      // Past the visibility timeout a deleted message stays gone.
      await sleep(VISIBILITY_S * 1000 + 300);
      expect(await h.queue.receive({ maxMessages: 10, waitSeconds: 0 })).toEqual([]);
    });

    it('hides a received message, then redelivers it after the timeout with receiveCount + 1', async () => {
      await h.queue.send('x');
      const first = await receiveOne(h.queue);
      expect(await h.queue.receive({ maxMessages: 10, waitSeconds: 0 })).toEqual([]);
      const second = await receiveOne(h.queue, 4);
      expect(second.messageId).toBe(first.messageId);
      expect(second.receiptHandle).not.toBe(first.receiptHandle);
      expect(second.receiveCount).toBe(2);
      expect(second.body).toBe('x');
    });

    it('keeps a message hidden while its visibility is extended', async () => {
      await h.queue.send('x');
      const m = await receiveOne(h.queue);
      await h.queue.extendVisibility(m.receiptHandle, 4);
      await sleep(VISIBILITY_S * 1000 + 700);
      expect(await h.queue.receive({ maxMessages: 10, waitSeconds: 0 })).toEqual([]);
      await h.queue.delete(m.receiptHandle);
    });

    it('makes a released message visible at once', async () => {
      await h.queue.send('x');
      const m = await receiveOne(h.queue);
      await h.queue.release(m.receiptHandle);
      const again = await h.queue.receive({ maxMessages: 1, waitSeconds: 0, visibilityTimeoutSeconds: 5 });
      expect(again).toHaveLength(1);
      expect(again[0]?.receiveCount).toBe(2);
    });

    it('refuses to extend a deleted message with MessageNotInFlightError', async () => {
      await h.queue.send('x');
      const m = await receiveOne(h.queue);
      await h.queue.delete(m.receiptHandle);
      await expect(h.queue.extendVisibility(m.receiptHandle, 5)).rejects.toBeInstanceOf(MessageNotInFlightError);
    });

    it('moves a message to the dead-letter queue after 3 receives', async () => {
      await h.queue.send('poison');
      for (let i = 1; i <= 3; i++) {
        const m = await receiveOne(h.queue);
        expect(m.receiveCount).toBe(i);
        await h.queue.release(m.receiptHandle);
      }
      expect(await h.queue.receive({ maxMessages: 10, waitSeconds: 1 })).toEqual([]);
      const dead = await receiveOne(h.deadLetters);
      expect(dead.body).toBe('poison');
      // The receive count carries over from the source queue, as in SQS.
      expect(dead.receiveCount).toBe(4);
      await h.deadLetters.delete(dead.receiptHandle);
    });

    it('keeps a delayed message hidden until its delay has passed', async () => {
      await h.queue.send('later', { delaySeconds: 2 });
      expect(await h.queue.receive({ maxMessages: 1, waitSeconds: 1 })).toEqual([]);
      const m = await receiveOne(h.queue);
      expect(m.body).toBe('later');
      await h.queue.delete(m.receiptHandle);
    });

    it('receives a batch', async () => {
      for (let i = 0; i < 5; i++) await h.queue.send(`m${i}`);
      const got = await receiveN(h.queue, 5);
      expect(new Set(got.map((m) => m.body))).toEqual(new Set(['m0', 'm1', 'm2', 'm3', 'm4']));
      expect(new Set(got.map((m) => m.messageId)).size).toBe(5);
    });

    it('long-polls: a message sent during the wait is returned before the wait ends', async () => {
      const started = Date.now();
      const pending = h.queue.receive({ maxMessages: 1, waitSeconds: 5 });
      await sleep(300);
      await h.queue.send('late');
      const got = await pending;
      expect(got.map((m) => m.body)).toEqual(['late']);
      expect(Date.now() - started).toBeLessThan(4000);
    });

    it('ends a long poll early when its signal aborts', async () => {
      const ac = new AbortController();
      const started = Date.now();
      setTimeout(() => ac.abort(), 200);
      const got = await h.queue.receive({ maxMessages: 1, waitSeconds: 10, signal: ac.signal });
      expect(got).toEqual([]);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('counts visible and in-flight messages', async () => {
      await h.queue.send('a');
      await h.queue.send('b');
      expect(await h.queue.receive({ maxMessages: 1, waitSeconds: 2, visibilityTimeoutSeconds: 10 })).toHaveLength(1);
      expect(await h.queue.stats()).toEqual({ visible: 1, inFlight: 1 });
    });
  });
}

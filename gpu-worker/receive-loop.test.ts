/**
 * The receive loop's wake: "jobs were queued" ends the receive now waiting, and the loop's
 * next receive takes them; a shutdown still ends the loop. The queue here is scripted: its
 * first receive waits until its signal aborts (as a long poll that would not look again for
 * an hour), so only the wake can bring the message in.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { JobQueue, ReceivedMessage, ReceiveOptions } from '../shared/ports/queue.js';
import { ReceiveWake, runReceiveLoop } from './receive-loop.js';

const MESSAGE: ReceivedMessage = { messageId: 'm1', receiptHandle: 'r1', body: '{}', receiveCount: 1, sentAt: 0 };

/** First receive: waits for its signal to abort, then empty. Later ones: the message once, then wait again. */
function scriptedQueue(): { queue: JobQueue; receives: number[]; firstWaiting: Promise<void> } {
  const receives: number[] = [];
  let delivered = false;
  let markWaiting!: () => void;
  const firstWaiting = new Promise<void>((resolve) => (markWaiting = resolve));
  const waitForAbort = (signal: AbortSignal | undefined): Promise<ReceivedMessage[]> =>
    new Promise((resolve) => {
      if (signal?.aborted) resolve([]);
      signal?.addEventListener('abort', () => resolve([]), { once: true });
    });
  const receive = async (options: ReceiveOptions): Promise<ReceivedMessage[]> => {
    receives.push(options.waitSeconds);
    if (receives.length === 1) {
      markWaiting();
      return waitForAbort(options.signal);
    }
    if (!delivered) {
      delivered = true;
      return [MESSAGE];
    }
    return waitForAbort(options.signal);
  };
  const unused = async (): Promise<never> => {
    throw new Error('not used by the receive loop');
  };
  const queue: JobQueue = {
    send: unused,
    receive,
    extendVisibility: unused,
    release: unused,
    delete: unused,
    stats: unused,
    close: async () => {},
  };
  return { queue, receives, firstWaiting };
}

function loop(queue: JobQueue, wake: ReceiveWake | undefined, shutdown: AbortController, batches: ReceivedMessage[][]) {
  return runReceiveLoop({
    queue,
    logger: pino({ level: 'silent' }),
    visibilityTimeoutSeconds: 30,
    waitSeconds: 3600,
    signal: shutdown.signal,
    room: () => 1,
    idle: async () => {},
    onBatch: async (messages) => void batches.push(messages),
    ...(wake ? { wake } : {}),
  });
}

describe('the receive loop', () => {
  it('receives at once when woken: the waiting receive ends and the next one takes the job', async () => {
    const { queue, receives, firstWaiting } = scriptedQueue();
    const wake = new ReceiveWake();
    const shutdown = new AbortController();
    const batches: ReceivedMessage[][] = [];
    const done = loop(queue, wake, shutdown, batches);
    await firstWaiting;
    expect(batches).toEqual([]);
    wake.wake();
    await expect.poll(() => batches).toEqual([[MESSAGE]]);
    expect(receives.length).toBeGreaterThanOrEqual(2);
    shutdown.abort();
    await done;
  });

  it('a wake with no receive waiting changes nothing, and a shutdown still ends the loop', async () => {
    const { queue, firstWaiting } = scriptedQueue();
    const wake = new ReceiveWake();
    wake.wake(); // before any receive: nobody to cut short
    const shutdown = new AbortController();
    const batches: ReceivedMessage[][] = [];
    const done = loop(queue, wake, shutdown, batches);
    await firstWaiting;
    shutdown.abort();
    await done;
    expect(batches).toEqual([]);
  });

  it('without a wake, the long poll is left to run its course', async () => {
    const { queue, receives, firstWaiting } = scriptedQueue();
    const shutdown = new AbortController();
    const batches: ReceivedMessage[][] = [];
    const done = loop(queue, undefined, shutdown, batches);
    await firstWaiting;
    new ReceiveWake().wake(); // another loop's wake
    await new Promise((r) => setImmediate(r));
    expect(receives).toEqual([3600]);
    shutdown.abort();
    await done;
    expect(batches).toEqual([]);
  });
});

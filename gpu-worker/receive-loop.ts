/**
 * The engine's receive side: long-poll the queue while the worker has room, and hand each
 * batch over whole, so that jobs that arrive together start at the same tick. It knows
 * nothing of jobs; the engine says how much room there is and what to do with a batch.
 */
import type { Logger } from '../shared/logging/index.js';
import type { JobQueue, ReceivedMessage } from '../shared/ports/queue.js';
import { sleep } from '../shared/queue/sleep.js';

/** SQS's most messages in one receive. */
const RECEIVE_MAX = 10;

export interface ReceiveLoopDeps {
  queue: JobQueue;
  logger: Logger;
  visibilityTimeoutSeconds: number;
  /** Long-poll wait of one receive (a shutdown cuts it short through `signal`). */
  waitSeconds: number;
  signal: AbortSignal;
  /** Messages the worker may take now (0: wait). */
  room(): number;
  /** Waits up to `ms` or until the engine wakes it (a slot freed). */
  idle(ms: number): Promise<void>;
  /** Takes a received batch; awaited before the next receive. */
  onBatch(messages: ReceivedMessage[]): Promise<void>;
  /** Cuts a long poll short when told that jobs were queued (the embedded default's edge does). */
  wake?: ReceiveWake;
}

/**
 * "Jobs were queued": ends the receive now waiting, and the loop's next receive takes them at
 * once. SQLite's long poll looks every 100 ms (50 ms late on average), which a one-step image
 * (tens of ms) would spend mostly waiting. A wake with no receive waiting needs nothing: the
 * next receive reads the queue before it waits.
 */
export class ReceiveWake {
  private readonly listeners = new Set<() => void>();

  wake(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` at the next wake; returns the unsubscribe. */
  on(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** `signal`, also aborted by the next wake: a receive's signal, cleaned up by `release`. */
function wakeable(signal: AbortSignal, wake: ReceiveWake | undefined): { signal: AbortSignal; release(): void } {
  if (!wake) return { signal, release: () => {} };
  const cut = new AbortController();
  const abort = (): void => cut.abort();
  signal.addEventListener('abort', abort, { once: true });
  const off = wake.on(abort);
  return {
    signal: cut.signal,
    release: () => {
      signal.removeEventListener('abort', abort);
      off();
    },
  };
}

export async function runReceiveLoop(deps: ReceiveLoopDeps): Promise<void> {
  const { queue, signal } = deps;
  const visibilityTimeoutSeconds = deps.visibilityTimeoutSeconds;
  while (!signal.aborted) {
    const room = deps.room();
    if (room <= 0) {
      await deps.idle(250);
      continue;
    }
    let messages: ReceivedMessage[];
    const waiting = wakeable(signal, deps.wake);
    try {
      messages = await queue.receive({
        maxMessages: Math.min(RECEIVE_MAX, room),
        waitSeconds: deps.waitSeconds,
        visibilityTimeoutSeconds,
        signal: waiting.signal,
      });
    } catch (err) {
      deps.logger.error({ err }, 'receive failed; retrying');
      await sleep(1000, signal);
      continue;
    } finally {
      waiting.release();
    }
    // A receive returns at most 10: when it came back full, take what else is waiting now
    // (no wait), so that a burst larger than 10 joins at one tick too.
    let last = { asked: Math.min(RECEIVE_MAX, room), got: messages.length };
    while (last.got === last.asked && messages.length < room && !signal.aborted) {
      const asked = Math.min(RECEIVE_MAX, room - messages.length);
      let more: ReceivedMessage[];
      try {
        more = await queue.receive({ maxMessages: asked, waitSeconds: 0, visibilityTimeoutSeconds, signal });
      } catch {
        break; // the loop's next receive retries
      }
      messages = [...messages, ...more];
      last = { asked, got: more.length };
    }
    if (messages.length > 0) await deps.onBatch(messages);
  }
}

/**
 * When a waiting request reads a job again: the read schedule (short, doubling to the cap),
 * and the notified adapter, which wakes a watch when told and otherwise only at its fallback.
 * Timers are fakes that never fire unless the test fires them: nothing here depends on time.
 */
import { describe, expect, it } from 'vitest';
import { NotifiedJobChanges } from './notified.js';
import { pollingJobChanges } from './polling.js';
import { pauseMs } from './schedule.js';

/** Timers that only fire when the test says so. */
function manualTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let next = 0;
  return {
    pending,
    set: (fn: () => void, ms: number) => {
      pending.set(++next, { fn, ms });
      return next;
    },
    clear: (handle: unknown) => void pending.delete(handle as number),
    fireAll: () =>
      [...pending.values()].forEach((t) => {
        t.fn();
      }),
  };
}

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
  return done;
};

describe('the read schedule', () => {
  it('starts at 50 ms and doubles to the cap, where it stays', () => {
    expect([0, 1, 2, 3, 4, 10, 100].map((a) => pauseMs({ firstMs: 50, capMs: 500 }, a))).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect([0, 1, 2, 3].map((a) => pauseMs({ firstMs: 50, capMs: 250 }, a))).toEqual([50, 100, 200, 250]);
    // A cap below the first pause wins (a test's 5 ms events).
    expect(pauseMs({ firstMs: 50, capMs: 5 }, 0)).toBe(5);
  });

  it('is what a polling watch pauses for, each bounded by what the wait has left', async () => {
    const pauses: number[] = [];
    const changes = pollingJobChanges({ firstMs: 50, capMs: 250 }, async (ms) => void pauses.push(ms));
    const watch = changes.watch(['gen_a']);
    for (const left of [10_000, 10_000, 10_000, 10_000, 10_000, 30]) await watch.next(left);
    expect(pauses).toEqual([50, 100, 200, 250, 250, 30]);
  });
});

describe('the notified adapter', () => {
  it('wakes a waiting watch when its job is told, and not for another job', async () => {
    const timers = manualTimers();
    const changes = new NotifiedJobChanges(250, timers);
    const watch = changes.watch(['gen_a', 'gen_b']);
    const waiting = watch.next(60_000);
    changes.notify('gen_other');
    expect(await settled(waiting)).toBe(false);
    changes.notify('gen_b');
    expect(await settled(waiting)).toBe(true);
    expect(timers.pending.size).toBe(0); // its fallback timer is cleared
    watch.close();
    expect(changes.watching).toBe(0);
  });

  it('keeps a change told before the wait (between a read and the next wait), so none is missed', async () => {
    const changes = new NotifiedJobChanges(250, manualTimers());
    const watch = changes.watch(['gen_a']);
    changes.notify('gen_a');
    expect(await settled(watch.next(60_000))).toBe(true);
    // Taken: the next wait waits again.
    expect(await settled(watch.next(60_000))).toBe(false);
    watch.close();
  });

  it('reads anyway at its fallback (bounded by the wait), and wakes on abort', async () => {
    const timers = manualTimers();
    const changes = new NotifiedJobChanges(250, timers);
    const watch = changes.watch(['gen_a']);
    const waiting = watch.next(60_000);
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([250]);
    timers.fireAll();
    expect(await settled(waiting)).toBe(true);
    void watch.next(40);
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([40]);
    const abort = new AbortController();
    const aborted = watch.next(60_000, abort.signal);
    abort.abort();
    expect(await settled(aborted)).toBe(true);
    watch.close();
  });
});

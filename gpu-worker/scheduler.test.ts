import { describe, expect, it } from 'vitest';
import { contains, emptyScheduler, enqueue, remove, schedule, size, type SchedulerState } from './scheduler.js';

const queued = (...ids: string[]): SchedulerState => ids.reduce(enqueue, emptyScheduler);

describe('scheduler', () => {
  it('admits first come first served up to the maximum batch', () => {
    const tick = schedule(queued('a', 'b', 'c', 'd', 'e'), 3);
    expect(tick.admitted).toEqual(['a', 'b', 'c']);
    expect(tick.batch).toEqual(['a', 'b', 'c']);
    expect(tick.state.waiting).toEqual(['d', 'e']);
  });

  it('never batches more than the maximum, whatever waits', () => {
    let state = queued(...Array.from({ length: 40 }, (_, i) => `j${i}`));
    for (let t = 0; t < 10; t += 1) {
      const tick = schedule(state, 4);
      expect(tick.batch.length).toBeLessThanOrEqual(4);
      state = tick.state;
      // One job finishes per tick; the next in line takes its place.
      state = remove(state, tick.batch[0]!);
    }
  });

  it('lets jobs join and leave between steps, running every running job each tick', () => {
    let tick = schedule(queued('a', 'b'), 4);
    expect(tick.batch).toEqual(['a', 'b']);
    let state = enqueue(tick.state, 'c');
    tick = schedule(state, 4);
    expect(tick.admitted).toEqual(['c']);
    expect(tick.batch).toEqual(['a', 'b', 'c']);
    state = remove(tick.state, 'a');
    tick = schedule(state, 4);
    expect(tick.admitted).toEqual([]);
    expect(tick.batch).toEqual(['b', 'c']);
  });

  it('starves nobody: every job runs its steps and finishes in arrival order of admission', () => {
    const steps = new Map<string, number>();
    let state = emptyScheduler;
    const finished: string[] = [];
    // 12 jobs of 3 steps arrive one per tick; max batch 2, so a backlog builds up.
    for (let t = 0; t < 100 && finished.length < 12; t += 1) {
      if (t < 12) state = enqueue(state, `j${t}`);
      const tick = schedule(state, 2);
      state = tick.state;
      for (const id of tick.batch) {
        const done = (steps.get(id) ?? 0) + 1;
        steps.set(id, done);
        if (done === 3) {
          finished.push(id);
          state = remove(state, id);
        }
      }
    }
    expect(finished).toEqual(Array.from({ length: 12 }, (_, i) => `j${i}`));
    expect(size(state)).toBe(0);
  });

  it('ignores a job enqueued twice and removes a waiting job (canceled before admission)', () => {
    let state = enqueue(queued('a', 'b'), 'a');
    expect(state.waiting).toEqual(['a', 'b']);
    state = remove(state, 'b');
    expect(contains(state, 'b')).toBe(false);
    expect(remove(state, 'zzz')).toBe(state);
  });

  it('refuses a maximum batch below 1', () => {
    expect(() => schedule(emptyScheduler, 0)).toThrow(RangeError);
  });
});

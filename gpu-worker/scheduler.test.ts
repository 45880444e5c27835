import { describe, expect, it } from 'vitest';
import { callsOf, contains, emptyScheduler, enqueue, remove, type SchedulerState, schedule, size, type Tick } from './scheduler.js';

/** Jobs of one model, queued in order. */
const queued = (...ids: string[]): SchedulerState => ids.reduce((state, id) => enqueue(state, id, 'm'), emptyScheduler);
/** Every job of a tick's calls, in call order. */
const batchOf = (tick: Tick): string[] => tick.calls.flatMap((c) => c.jobs);

describe('scheduler', () => {
  it('admits first come first served up to the maximum batch', () => {
    const tick = schedule(queued('a', 'b', 'c', 'd', 'e'), 3);
    expect(tick.admitted).toEqual(['a', 'b', 'c']);
    expect(batchOf(tick)).toEqual(['a', 'b', 'c']);
    expect(tick.state.waiting).toEqual(['d', 'e']);
  });

  it('never batches more than the maximum, whatever waits', () => {
    let state = queued(...Array.from({ length: 40 }, (_, i) => `j${i}`));
    for (let t = 0; t < 10; t += 1) {
      const tick = schedule(state, 4);
      expect(batchOf(tick).length).toBeLessThanOrEqual(4);
      state = tick.state;
      // One job finishes per tick; the next in line takes its place.
      state = remove(state, batchOf(tick)[0]!);
    }
  });

  it('lets jobs join and leave between steps, running every running job each tick', () => {
    let tick = schedule(queued('a', 'b'), 4);
    expect(batchOf(tick)).toEqual(['a', 'b']);
    let state = enqueue(tick.state, 'c', 'm');
    tick = schedule(state, 4);
    expect(tick.admitted).toEqual(['c']);
    expect(batchOf(tick)).toEqual(['a', 'b', 'c']);
    state = remove(tick.state, 'a');
    tick = schedule(state, 4);
    expect(tick.admitted).toEqual([]);
    expect(batchOf(tick)).toEqual(['b', 'c']);
  });

  it('starves nobody: every job runs its steps and finishes in arrival order of admission', () => {
    const steps = new Map<string, number>();
    let state = emptyScheduler;
    const finished: string[] = [];
    // 12 jobs of 3 steps arrive one per tick; max batch 2, so a backlog builds up.
    for (let t = 0; t < 100 && finished.length < 12; t += 1) {
      if (t < 12) state = enqueue(state, `j${t}`, 'm');
      const tick = schedule(state, 2);
      state = tick.state;
      for (const id of batchOf(tick)) {
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
    let state = enqueue(queued('a', 'b'), 'a', 'm');
    expect(state.waiting).toEqual(['a', 'b']);
    state = remove(state, 'b');
    expect(contains(state, 'b')).toBe(false);
    expect(remove(state, 'zzz')).toBe(state);
  });

  it('refuses a maximum batch below 1', () => {
    expect(() => schedule(emptyScheduler, 0)).toThrow(RangeError);
  });
});

describe('scheduler with several models', () => {
  /** [id, model] pairs queued in order. */
  const mixed = (...jobs: [string, string][]): SchedulerState =>
    jobs.reduce((state, [id, model]) => enqueue(state, id, model), emptyScheduler);

  it('never mixes models in one call: one call per model, each batching all its running jobs', () => {
    const tick = schedule(mixed(['a1', 'A'], ['b1', 'B'], ['a2', 'A'], ['c1', 'C'], ['b2', 'B'], ['a3', 'A']), 16);
    expect(tick.calls).toEqual([
      { model: 'A', jobs: ['a1', 'a2', 'a3'] },
      { model: 'B', jobs: ['b1', 'b2'] },
      { model: 'C', jobs: ['c1'] },
    ]);
    for (const call of tick.calls) for (const id of call.jobs) expect(tick.state.modelOf[id]).toBe(call.model);
  });

  it('admits first come first served across models, the batch bound counting every model', () => {
    const tick = schedule(mixed(['a1', 'A'], ['a2', 'A'], ['b1', 'B'], ['a3', 'A']), 3);
    expect(tick.admitted).toEqual(['a1', 'a2', 'b1']);
    expect(tick.calls).toEqual([
      { model: 'A', jobs: ['a1', 'a2'] },
      { model: 'B', jobs: ['b1'] },
    ]);
    expect(tick.state.waiting).toEqual(['a3']);
  });

  it('starves no model: under a flood of one model, a job of another steps at every tick once admitted', () => {
    let state = emptyScheduler;
    const steps = new Map<string, number>();
    const admittedAt = new Map<string, number>();
    const finishedAt = new Map<string, number>();
    // Two A jobs arrive every tick, a B job every fifth; 4 steps each; room for 6.
    for (let t = 0; t < 60; t += 1) {
      state = enqueue(enqueue(state, `a${2 * t}`, 'A'), `a${2 * t + 1}`, 'A');
      if (t % 5 === 0) state = enqueue(state, `b${t}`, 'B');
      const tick = schedule(state, 6);
      state = tick.state;
      for (const id of tick.admitted) admittedAt.set(id, t);
      expect(new Set(tick.calls.map((c) => c.model)).size).toBe(tick.calls.length);
      expect(tick.calls.flatMap((c) => c.jobs).sort()).toEqual([...state.running].sort());
      for (const call of tick.calls) {
        for (const id of call.jobs) {
          const done = (steps.get(id) ?? 0) + 1;
          steps.set(id, done);
          if (done === 4) {
            finishedAt.set(id, t);
            state = remove(state, id);
          }
        }
      }
    }
    const finishedB = [...finishedAt.keys()].filter((id) => id.startsWith('b'));
    expect(finishedB.length).toBeGreaterThan(0);
    // Every job, of either model, finishes exactly 4 ticks after its admission: a step at every tick.
    for (const [id, t] of finishedAt) expect(t - admittedAt.get(id)!, id).toBe(3);
  });

  it("orders calls by each model's longest-running job and forgets a removed job's model", () => {
    let tick = schedule(mixed(['b1', 'B'], ['a1', 'A']), 4);
    expect(tick.calls.map((c) => c.model)).toEqual(['B', 'A']);
    const state = remove(tick.state, 'b1');
    expect(state.modelOf).toEqual({ a1: 'A' });
    tick = schedule(enqueue(state, 'b2', 'B'), 4);
    expect(tick.calls.map((c) => c.model)).toEqual(['A', 'B']);
  });

  it('groups jobs by model as given (callsOf), refusing a job without a model', () => {
    expect(callsOf(['x', 'y', 'z'], { x: 'A', y: 'B', z: 'A' })).toEqual([
      { model: 'A', jobs: ['x', 'z'] },
      { model: 'B', jobs: ['y'] },
    ]);
    expect(() => callsOf(['x'], {})).toThrow(/no model/);
  });
});

/**
 * The scheduler: which jobs take part in the next denoising call. Step-level continuous
 * batching as in vLLM: jobs wait in arrival order, are admitted first come first served
 * while the running set has room, and every running job takes one step per tick, so a job
 * leaves only by finishing (or being canceled) and none starves.
 *
 * Pure: every function returns a new state; the engine owns the one current state.
 */

export interface SchedulerState {
  /** Arrival order: admitted from the front. */
  readonly waiting: readonly string[];
  /** Admission order; all of them run at every tick. */
  readonly running: readonly string[];
}

export interface Tick {
  readonly state: SchedulerState;
  /** Jobs that moved from waiting to running at this tick (the engine prepares them). */
  readonly admitted: readonly string[];
  /** Jobs of this tick's batched call, in admission order. */
  readonly batch: readonly string[];
}

export const emptyScheduler: SchedulerState = { waiting: [], running: [] };

/** Queues a job behind every earlier one; a job already known is left where it is. */
export function enqueue(state: SchedulerState, id: string): SchedulerState {
  if (contains(state, id)) return state;
  return { ...state, waiting: [...state.waiting, id] };
}

/** Takes a job out (finished, canceled, failed or lost), wherever it is. */
export function remove(state: SchedulerState, id: string): SchedulerState {
  if (!contains(state, id)) return state;
  return { waiting: state.waiting.filter((w) => w !== id), running: state.running.filter((r) => r !== id) };
}

export function contains(state: SchedulerState, id: string): boolean {
  return state.waiting.includes(id) || state.running.includes(id);
}

/** Admits from the front of the waiting list while there is room, then batches every running job. */
export function schedule(state: SchedulerState, maxBatch: number): Tick {
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
  const room = Math.max(0, maxBatch - state.running.length);
  const admitted = state.waiting.slice(0, room);
  const running = [...state.running, ...admitted];
  return { state: { waiting: state.waiting.slice(admitted.length), running }, admitted, batch: running };
}

/** Jobs held in all (what bounds how many more messages the engine should take). */
export function size(state: SchedulerState): number {
  return state.waiting.length + state.running.length;
}

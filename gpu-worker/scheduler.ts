/**
 * The scheduler: which jobs take part in the next denoising round. Step-level continuous
 * batching as in vLLM: jobs wait in arrival order, are admitted first come first served
 * (whatever their model) while the running set has room, and every running job takes one
 * step per tick, so a job leaves only by finishing (or being canceled) and none starves.
 *
 * Several models: a network call runs one model's graph, so a tick is one call per model
 * that has running jobs, each call batching all of that model's running jobs; no call ever
 * mixes models. Every model with a running job gets its call at every tick, so no model
 * starves another; the calls go in the order of each model's longest-running job.
 *
 * Pure: every function returns a new state; the engine owns the one current state.
 */

export interface SchedulerState {
  /** Arrival order: admitted from the front. */
  readonly waiting: readonly string[];
  /** Admission order; all of them run at every tick. */
  readonly running: readonly string[];
  /** The model of every job held (waiting or running). */
  readonly modelOf: Readonly<Record<string, string>>;
}

/** One network call: jobs of one model, in admission order. */
export interface ModelCall {
  readonly model: string;
  readonly jobs: readonly string[];
}

export interface Tick {
  readonly state: SchedulerState;
  /** Jobs that moved from waiting to running at this tick (the engine prepares them). */
  readonly admitted: readonly string[];
  /** This tick's calls: one per model with running jobs, together every running job once. */
  readonly calls: readonly ModelCall[];
}

export const emptyScheduler: SchedulerState = { waiting: [], running: [], modelOf: {} };

/** Queues a job of `model` behind every earlier one; a job already known is left where it is. */
export function enqueue(state: SchedulerState, id: string, model: string): SchedulerState {
  if (contains(state, id)) return state;
  return { ...state, waiting: [...state.waiting, id], modelOf: { ...state.modelOf, [id]: model } };
}

/** Takes a job out (finished, canceled, failed or lost), wherever it is. */
export function remove(state: SchedulerState, id: string): SchedulerState {
  if (!contains(state, id)) return state;
  const { [id]: _gone, ...modelOf } = state.modelOf;
  return { waiting: state.waiting.filter((w) => w !== id), running: state.running.filter((r) => r !== id), modelOf };
}

export function contains(state: SchedulerState, id: string): boolean {
  return state.waiting.includes(id) || state.running.includes(id);
}

/** Admits from the front of the waiting list while there is room, then one call per model of the running set. */
export function schedule(state: SchedulerState, maxBatch: number): Tick {
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
  const room = Math.max(0, maxBatch - state.running.length);
  const admitted = state.waiting.slice(0, room);
  const running = [...state.running, ...admitted];
  const next = { ...state, waiting: state.waiting.slice(admitted.length), running };
  return { state: next, admitted, calls: callsOf(running, next.modelOf) };
}

/** Jobs grouped by model, each group in the given order, groups by their first job. Pure. */
export function callsOf(jobs: readonly string[], modelOf: Readonly<Record<string, string>>): ModelCall[] {
  const groups = new Map<string, string[]>();
  for (const id of jobs) {
    const model = modelOf[id];
    if (model === undefined) throw new RangeError(`job ${id} has no model`);
    const group = groups.get(model);
    if (group) group.push(id);
    else groups.set(model, [id]);
  }
  return [...groups].map(([model, ids]) => ({ model, jobs: ids }));
}

/** Jobs held in all (what bounds how many more messages the engine should take). */
export function size(state: SchedulerState): number {
  return state.waiting.length + state.running.length;
}

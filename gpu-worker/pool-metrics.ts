/**
 * The pool's own view of its workers for the embedded start's /metrics: which process
 * serves each slot and how often the slot was started again. An operator sees a worker
 * that keeps dying (restarts climbing) without reading logs. Pure: rendered fresh from
 * the slots' state, so a dead worker's pid never lingers as a stale series.
 */
import { MetricsRegistry } from '../shared/metrics/index.js';

export interface SlotState {
  readonly index: number;
  /** The process serving the slot once it takes jobs; absent while it (re)starts. */
  readonly pid?: number;
  readonly restarts: number;
}

export function renderPoolMetrics(slots: readonly SlotState[]): string {
  const r = new MetricsRegistry();
  const up = r.gauge('worker_up', 'Worker process of each slot: 1 while it takes jobs, 0 while it (re)starts.', ['worker', 'pid']);
  const restarts = r.counter('worker_restarts_total', 'Times the pool started a worker again after it died.', ['worker']);
  for (const slot of slots) {
    up.set({ worker: slot.index, pid: slot.pid ?? '' }, slot.pid === undefined ? 0 : 1);
    restarts.inc({ worker: slot.index }, slot.restarts);
  }
  return slots.length > 0 ? r.render() : '';
}

/**
 * The pool's own view of its workers for the embedded start's /metrics: which process
 * serves each slot and how often the slot was started again. An operator sees a worker
 * that keeps dying (restarts climbing) without reading logs. Built fresh from the slots'
 * state at every scrape, so a dead worker's pid never lingers as a stale series.
 */
import { Counter, Gauge, type MetricsJson, Registry } from '../shared/metrics/index.js';

export interface SlotState {
  readonly index: number;
  /** The process serving the slot once it takes jobs; absent while it (re)starts. */
  readonly pid?: number;
  readonly restarts: number;
}

export function poolMetricsRegistry(slots: readonly SlotState[]): Registry {
  const registry = new Registry();
  const up = new Gauge({
    name: 'worker_up',
    help: 'Worker process of each slot: 1 while it takes jobs, 0 while it (re)starts.',
    labelNames: ['worker', 'pid'],
    registers: [registry],
  });
  const restarts = new Counter({
    name: 'worker_restarts_total',
    help: 'Times the pool started a worker again after it died.',
    labelNames: ['worker'],
    registers: [registry],
  });
  for (const slot of slots) {
    up.set({ worker: String(slot.index), pid: slot.pid === undefined ? '' : String(slot.pid) }, slot.pid === undefined ? 0 : 1);
    restarts.inc({ worker: String(slot.index) }, slot.restarts);
  }
  return registry;
}

export async function poolMetricsJson(slots: readonly SlotState[]): Promise<MetricsJson> {
  return slots.length > 0 ? ((await poolMetricsRegistry(slots).getMetricsAsJSON()) as MetricsJson) : [];
}

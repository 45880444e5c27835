/**
 * The embedded pool as a readiness check: ready while at least one worker takes jobs (a
 * job sent now will run); the message says what every other slot is doing, so that a
 * stopped slot (a configuration error) shows in readiness even while another works.
 */
import type { ReadinessCheck } from '../shared/readiness/index.js';
import type { SlotStatus, WorkerPool } from './pool.js';

const restarted = (n: number): string => (n === 0 ? '' : `restarted ${n} ${n === 1 ? 'time' : 'times'}`);

export function describeSlot(slot: SlotStatus): string {
  const name = `worker ${slot.index}`;
  const history = [restarted(slot.restarts), slot.lastExit ? `last exit ${slot.lastExit}` : ''].filter(Boolean).join(', ');
  switch (slot.state) {
    case 'ready':
      return `${name} ready`;
    case 'starting':
      return `${name} starting${history ? ` (${history})` : ''}`;
    case 'waiting':
      return `${name} died (${slot.lastExit ?? 'unknown'}), starting again after a backoff (${restarted(slot.restarts)})`;
    case 'stopped':
      return `${name} stopped: ${slot.reason ?? 'the pool is stopping'}`;
  }
}

export function poolReadinessCheck(pool: Pick<WorkerPool, 'status'>): ReadinessCheck {
  return {
    name: 'workers',
    run: () => {
      const slots = pool.status();
      const ready = slots.filter((s) => s.state === 'ready').length;
      const others = slots.filter((s) => s.state !== 'ready').map(describeSlot);
      if (ready === 0) return { ok: false, message: `no worker ready: ${others.join('; ') || 'the pool has no workers'}` };
      return others.length === 0 ? { ok: true } : { ok: true, message: `${ready} of ${slots.length} workers ready; ${others.join('; ')}` };
    },
  };
}

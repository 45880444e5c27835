/**
 * JobChanges without notifications: a watch wakes on its read schedule (./schedule.ts). The
 * adapter for S3 (Lambda), and the fallback wherever nothing tells the edge of changes.
 */
import type { JobChanges, JobWatch } from '../../shared/ports/job-changes.js';
import { sleep } from '../../shared/queue/sleep.js';
import { pauseMs, type ReadSchedule } from './schedule.js';

export function pollingJobChanges(schedule: ReadSchedule, pause: (ms: number, signal?: AbortSignal) => Promise<void> = sleep): JobChanges {
  return {
    watch(): JobWatch {
      let attempt = 0;
      return {
        next: (maxMs, signal) => pause(Math.min(pauseMs(schedule, attempt++), maxMs), signal),
        close() {},
      };
    },
  };
}

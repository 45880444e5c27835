/**
 * The read schedule of a wait with no change feed (S3): short first reads, so that a job that
 * ends soon after it was queued (a few-step image) is seen soon, then doubling up to the cap
 * (the old fixed interval), so that a long wait costs no more reads than it did.
 */
export interface ReadSchedule {
  /** The first pause (ms). */
  firstMs: number;
  /** No pause is longer (ms). */
  capMs: number;
}

/** Pause before read `attempt` (0 = the first read after the initial one). */
export function pauseMs(schedule: ReadSchedule, attempt: number): number {
  const first = Math.min(schedule.firstMs, schedule.capMs);
  return Math.min(schedule.capMs, first * 2 ** Math.min(attempt, 30));
}

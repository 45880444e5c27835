/**
 * Every thread of this process but the event loop's, niced (Linux; elsewhere nothing): the
 * body thread, sharp's libvips threads, libuv's pool, the decode thread, V8's helpers. Where
 * busy threads outnumber free cores (2 cores, a burst of photos), the scheduler otherwise
 * shares a core between the event loop and a JPEG decode, and a health check waits tens of
 * milliseconds for its turn; niced, the others yield to the loop whenever it wakes, and lose
 * only its small share of the CPU. New threads inherit their creator's niceness, but some
 * (libuv's pool, glib's spawner) are made by the loop itself: hence a sweep after work, not once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Enough for the loop to come first among its own threads (weight 1024 against 335), little enough to keep the rest of the machine behind them. */
export const WORKER_NICENESS = 5;

/** The threads niced by this sweep (0 where there is no /proc or nothing new). */
export function niceAllButEventLoop(niceness = WORKER_NICENESS): number {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  let niced = 0;
  for (const tid of tids) {
    if (Number(tid) === process.pid) continue; // the main thread: the event loop
    try {
      // Field 19 of stat is the niceness; the command name before it may hold spaces.
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) >= niceness) continue;
      setPriority(Number(tid), niceness);
      niced += 1;
    } catch {
      // Gone meanwhile, or not ours to change: leave it.
    }
  }
  return niced;
}

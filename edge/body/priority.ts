/**
 * The threads of this process that are throughput work, niced (Linux; elsewhere nothing):
 * the body and image threads, sharp's libvips threads, libuv's pool, V8's helpers. Where busy threads
 * outnumber free cores (2 cores, a burst of photos), the scheduler otherwise shares a core
 * between the event loop and a JPEG decode, and a health check waits tens of milliseconds
 * for its turn; niced, they yield to the loop whenever it wakes. The loop keeps the process's
 * niceness, and so does a thread that names itself as one on a request's path (the text
 * decode, which every request waits for: niced, it lost time to other processes and requests
 * took longer). New threads inherit their creator's niceness, but some (libuv's pool, glib's
 * spawner) are made by the loop itself: hence a sweep after work, not once.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Enough for the loop to come first among its own threads (weight 1024 against 335), little enough to keep the rest of the machine behind them. */
export const WORKER_NICENESS = 5;

/** Thread names (at most 15 characters) that keep the process's niceness. */
const KEEPS_PRIORITY = new Set(['edge-decode']);

export type ThreadName = 'edge-body' | 'edge-images' | 'edge-decode';

/** Names the calling thread as `ps -L` and the sweep see it (Linux; elsewhere nothing). */
export function nameThisThread(name: ThreadName): void {
  try {
    writeFileSync('/proc/thread-self/comm', name);
  } catch {
    // No /proc: the name is only for tools.
  }
}

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
      // Field 19 of stat is the niceness; the name before it, in parentheses, may hold spaces.
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (KEEPS_PRIORITY.has(name)) continue;
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) >= niceness) continue;
      setPriority(Number(tid), niceness);
      niced += 1;
    } catch {
      // Gone meanwhile, or not ours to change: leave it.
    }
  }
  return niced;
}

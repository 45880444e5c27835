/**
 * How long a SQLite queue write waits for the disk. The connection runs at `synchronous =
 * FULL` (WAL): a committed send survives a power cut, not only a crash. A receive, a
 * visibility change or a delete whose loss in a power cut only delivers a message again
 * (the worker is idempotent: at-least-once, as on SQS) runs at NORMAL instead, which commits
 * without an fsync. WAL keeps the order: the next FULL commit's sync makes it durable too.
 * A receive is on every job's path, and an fsync costs 0.5 to 5 ms on a cloud disk.
 */
import type Database from 'better-sqlite3';

/** Runs `write` at `synchronous = NORMAL`, then puts the connection back to FULL (even when it throws). */
export function withoutWaitingForDisk<T>(db: Database.Database, write: () => T): T {
  db.pragma('synchronous = NORMAL');
  try {
    return write();
  } finally {
    db.pragma('synchronous = FULL');
  }
}

/**
 * A durable job queue on one SQLite file, with SQS semantics: a visibility timeout, a
 * receive count, a dead-letter queue (a second queue in the same file), long polling.
 *
 * Several processes (edge, workers) may open the same file: every state change runs in a
 * `BEGIN IMMEDIATE` transaction, so two receivers never take the same message, and
 * `busy_timeout` makes a writer wait for the lock instead of failing. State lives only in
 * the file, so a process killed mid-visibility loses nothing: its message becomes visible
 * again when the timeout lapses.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { type JobQueue, MessageNotInFlightError, type ReceivedMessage, type ReceiveOptions, type SendOptions } from '../ports/queue.js';
import { sleep } from './sleep.js';
import { withoutWaitingForDisk } from './sqlite-sync.js';

const QueueName = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'queue names are 1-80 of [A-Za-z0-9_-]');

export const SqliteQueueConfig = z
  .object({
    /** Path of the SQLite file; created with its folder when missing. */
    path: z.string().min(1),
    queueName: QueueName.default('jobs'),
    deadLetterQueueName: QueueName.default('jobs-dlq'),
    visibilityTimeoutSeconds: z.number().int().min(0).max(43_200).default(30),
    /** A message received more than this many times moves to the dead-letter queue. */
    maxReceiveCount: z.number().int().min(1).max(1000).default(3),
    /** How often a long poll looks again for a message. */
    pollIntervalMs: z.number().int().min(5).max(5_000).default(100),
    /** How long a writer waits for another process's lock before SQLITE_BUSY. */
    busyTimeoutMs: z.number().int().min(0).max(60_000).default(5_000),
  })
  .strict();
export type SqliteQueueConfig = z.input<typeof SqliteQueueConfig>;
type ResolvedConfig = z.output<typeof SqliteQueueConfig>;

interface Row {
  id: string;
  body: string;
  sent_at: number;
  receive_count: number;
}

/** One connection shared by a queue and its dead-letter view; closed with the last user. */
class SharedDb {
  private users = 0;
  constructor(readonly db: Database.Database) {}
  acquire(): this {
    this.users += 1;
    return this;
  }
  release(): void {
    this.users -= 1;
    if (this.users === 0 && this.db.open) this.db.close();
  }
}

function openDb(config: ResolvedConfig): SharedDb {
  mkdirSync(dirname(config.path), { recursive: true });
  const db = new Database(config.path, { timeout: config.busyTimeoutMs });
  db.pragma('journal_mode = WAL');
  // FULL: a committed send survives a power loss, not only a process crash (a receive, a
  // visibility change and a delete run at NORMAL: sqlite-sync.ts).
  db.pragma('synchronous = FULL');
  db.pragma(`busy_timeout = ${config.busyTimeoutMs}`);
  db.exec(`
    CREATE TABLE IF NOT EXISTS messages (
      id            TEXT PRIMARY KEY,
      queue         TEXT    NOT NULL,
      body          TEXT    NOT NULL,
      sent_at       INTEGER NOT NULL,
      visible_at    INTEGER NOT NULL,
      receive_count INTEGER NOT NULL DEFAULT 0,
      receipt       TEXT
    );
    CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (queue, visible_at);
    CREATE UNIQUE INDEX IF NOT EXISTS messages_by_receipt ON messages (receipt);
  `);
  return new SharedDb(db);
}

/** SQS's limit on a send's delay, kept here too so that both back ends behave alike. */
const MAX_DELAY_SECONDS = 900;

export class SqliteQueue implements JobQueue {
  private readonly config: ResolvedConfig;
  private readonly shared: SharedDb;
  /** null for a dead-letter queue: its messages never move on. */
  private readonly redrive: { target: string; maxReceiveCount: number } | null;
  private closed = false;

  constructor(config: SqliteQueueConfig);
  /** @internal the dead-letter view shares the connection. */
  constructor(config: SqliteQueueConfig, shared: SharedDb, isDeadLetterView: true);
  constructor(config: SqliteQueueConfig, shared?: SharedDb, isDeadLetterView?: true) {
    this.config = SqliteQueueConfig.parse(config);
    if (this.config.queueName === this.config.deadLetterQueueName) {
      throw new Error(`sqlite queue: the dead-letter queue must differ from the queue (${this.config.queueName})`);
    }
    this.shared = (shared ?? openDb(this.config)).acquire();
    this.redrive = isDeadLetterView ? null : { target: this.config.deadLetterQueueName, maxReceiveCount: this.config.maxReceiveCount };
  }

  /** The dead-letter queue as a JobQueue of its own (same file, no further redrive). */
  deadLetterQueue(): SqliteQueue {
    const c = this.config;
    return new SqliteQueue({ ...c, queueName: c.deadLetterQueueName, deadLetterQueueName: c.queueName }, this.shared, true);
  }

  private get db(): Database.Database {
    if (this.closed) throw new Error(`sqlite queue ${this.config.queueName} is closed`);
    return this.shared.db;
  }

  async send(body: string, options: SendOptions = {}): Promise<void> {
    const now = Date.now();
    const delayMs = 1000 * Math.max(0, Math.min(MAX_DELAY_SECONDS, options.delaySeconds ?? 0));
    this.db
      .prepare('INSERT INTO messages (id, queue, body, sent_at, visible_at) VALUES (?, ?, ?, ?, ?)')
      .run(randomUUID(), this.config.queueName, body, now, now + delayMs);
  }

  async receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    const max = Math.max(1, Math.min(10, Math.floor(options.maxMessages)));
    const visibilityMs = 1000 * (options.visibilityTimeoutSeconds ?? this.config.visibilityTimeoutSeconds);
    const deadline = Date.now() + 1000 * Math.max(0, options.waitSeconds);
    for (;;) {
      const got = this.receiveNow(max, visibilityMs);
      if (got.length > 0 || options.signal?.aborted) return got;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      // An abort ends the wait early with no messages, as a shutdown wants.
      await sleep(Math.min(this.config.pollIntervalMs, left), options.signal);
    }
  }

  /** Takes up to `max` visible messages in one immediate transaction. */
  private receiveNow(max: number, visibilityMs: number): ReceivedMessage[] {
    const db = this.db;
    // Idle polls only read: the write lock is taken only when there is something to take.
    const any = db.prepare('SELECT 1 FROM messages WHERE queue = ? AND visible_at <= ? LIMIT 1');
    if (any.get(this.config.queueName, Date.now()) === undefined) return [];
    const pick = db.prepare<[string, number, number], Row>(
      'SELECT id, body, sent_at, receive_count FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, sent_at LIMIT ?',
    );
    const toDlq = db.prepare('UPDATE messages SET queue = ?, visible_at = ?, receipt = NULL WHERE id = ?');
    const take = db.prepare('UPDATE messages SET receive_count = ?, visible_at = ?, receipt = ? WHERE id = ?');
    const receive = db.transaction((): ReceivedMessage[] => {
      const out: ReceivedMessage[] = [];
      // Loop because moving a message to the dead-letter queue frees a slot in the batch.
      while (out.length < max) {
        const now = Date.now();
        const rows = pick.all(this.config.queueName, now, max - out.length);
        if (rows.length === 0) break;
        for (const row of rows) {
          if (this.redrive && row.receive_count >= this.redrive.maxReceiveCount) {
            // SQS keeps the receive count when it moves a message; so do we.
            toDlq.run(this.redrive.target, now, row.id);
            continue;
          }
          const receiptHandle = `${row.id}:${randomUUID()}`;
          const receiveCount = row.receive_count + 1;
          take.run(receiveCount, now + visibilityMs, receiptHandle, row.id);
          out.push({ messageId: row.id, receiptHandle, body: row.body, receiveCount, sentAt: row.sent_at });
        }
      }
      return out;
    });
    // Lost in a power cut, a receive only delivers its messages again.
    return withoutWaitingForDisk(db, () => receive.immediate());
  }

  async extendVisibility(receiptHandle: string, seconds: number): Promise<void> {
    if (!this.setVisibleAt(receiptHandle, Date.now() + 1000 * Math.max(0, seconds))) {
      throw new MessageNotInFlightError(receiptHandle, 'deleted, or its visibility timeout lapsed');
    }
  }

  async release(receiptHandle: string): Promise<void> {
    // A stale handle means someone else holds the message now: nothing of ours to release.
    this.setVisibleAt(receiptHandle, Date.now());
  }

  /** Only the latest delivery may change visibility, and only while it is still hidden. */
  private setVisibleAt(receiptHandle: string, visibleAt: number): boolean {
    const update = this.db.prepare('UPDATE messages SET visible_at = ? WHERE receipt = ? AND queue = ? AND visible_at > ?');
    const r = withoutWaitingForDisk(this.db, () => update.run(visibleAt, receiptHandle, this.config.queueName, Date.now()));
    return r.changes > 0;
  }

  async delete(receiptHandle: string): Promise<void> {
    // As in SQS, a stale handle succeeds without deleting: the newer delivery owns it.
    // Lost in a power cut, a delete delivers the message again, which finds its job finished.
    const remove = this.db.prepare('DELETE FROM messages WHERE receipt = ? AND queue = ?');
    withoutWaitingForDisk(this.db, () => remove.run(receiptHandle, this.config.queueName));
  }

  async stats(): Promise<{ visible: number; inFlight: number }> {
    const now = Date.now();
    const row = this.db
      .prepare<[number, number, string], { visible: number | null; inFlight: number | null }>(
        'SELECT SUM(visible_at <= ?) AS visible, SUM(visible_at > ?) AS inFlight FROM messages WHERE queue = ?',
      )
      .get(now, now, this.config.queueName);
    return { visible: row?.visible ?? 0, inFlight: row?.inFlight ?? 0 };
  }

  async waitingSentBefore(sentBeforeMs: number): Promise<number> {
    const row = this.db
      .prepare<[string, number, number], { n: number }>(
        'SELECT COUNT(*) AS n FROM messages WHERE queue = ? AND visible_at <= ? AND sent_at < ?',
      )
      .get(this.config.queueName, Date.now(), sentBeforeMs);
    return row?.n ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.shared.release();
  }
}

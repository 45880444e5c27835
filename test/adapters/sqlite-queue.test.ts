import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteQueue } from '../../shared/queue/sqlite-queue.js';
import { queueContract, VISIBILITY_S } from './queue-contract.js';
import { tempDir } from './tmp-dir.js';

queueContract('SqliteQueue', async () => {
  const tmp = tempDir('sqlite-queue');
  const queue = new SqliteQueue({
    path: join(tmp.dir, 'q.sqlite'),
    visibilityTimeoutSeconds: VISIBILITY_S,
    maxReceiveCount: 3,
    pollIntervalMs: 20,
  });
  const deadLetters = queue.deadLetterQueue();
  return {
    queue,
    deadLetters,
    cleanup: async () => {
      await deadLetters.close();
      await queue.close();
      tmp.remove();
    },
  };
});

describe('SqliteQueue specifics', () => {
  it('rejects a bad config with a clear error', () => {
    expect(() => new SqliteQueue({ path: '' })).toThrow(/path/);
    expect(() => new SqliteQueue({ path: '/tmp/x.sqlite', queueName: 'a', deadLetterQueueName: 'a' })).toThrow(/dead-letter/);
  });

  it('keeps messages across a close and reopen, and two handles never share a delivery', async () => {
    const tmp = tempDir('sqlite-queue');
    const path = join(tmp.dir, 'q.sqlite');
    const a = new SqliteQueue({ path });
    for (let i = 0; i < 20; i++) await a.send(`m${i}`);
    await a.close();
    const b = new SqliteQueue({ path });
    const c = new SqliteQueue({ path });
    const got = await Promise.all([
      b.receive({ maxMessages: 10, waitSeconds: 0 }),
      c.receive({ maxMessages: 10, waitSeconds: 0 }),
      b.receive({ maxMessages: 10, waitSeconds: 0 }),
    ]);
    const ids = got.flat().map((m) => m.messageId);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    await b.close();
    await c.close();
    tmp.remove();
  });

  it('ignores a stale receipt handle on delete (the newer delivery owns the message)', async () => {
    const tmp = tempDir('sqlite-queue');
    const q = new SqliteQueue({ path: join(tmp.dir, 'q.sqlite') });
    await q.send('x');
    const [first] = await q.receive({ maxMessages: 1, waitSeconds: 0 });
    await q.release(first!.receiptHandle);
    const [second] = await q.receive({ maxMessages: 1, waitSeconds: 0, visibilityTimeoutSeconds: 30 });
    await q.delete(first!.receiptHandle);
    expect(await q.stats()).toEqual({ visible: 0, inFlight: 1 });
    await expect(q.extendVisibility(first!.receiptHandle, 10)).rejects.toThrow(/not in flight/);
    await q.delete(second!.receiptHandle);
    expect(await q.stats()).toEqual({ visible: 0, inFlight: 0 });
    await q.close();
    tmp.remove();
  });
});

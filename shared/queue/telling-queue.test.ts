/**
 * TellingQueue tells after each send, once the message can be received (a worker woken by
 * the telling finds it), and passes everything else through to the queue it wraps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobQueue } from '../ports/queue.js';
import { SqliteQueue } from './sqlite-queue.js';
import { TellingQueue } from './telling-queue.js';

let dir: string;
let inner: SqliteQueue;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'telling-queue-'));
  inner = new SqliteQueue({ path: join(dir, 'q.sqlite'), pollIntervalMs: 5_000 });
});

afterEach(async () => {
  await inner.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('TellingQueue', () => {
  it('tells after each send, when the message is already there to receive', async () => {
    const seen: string[][] = [];
    const queue = new TellingQueue(inner, () => {
      // What a woken worker does first: a receive that does not wait.
      void inner.receive({ maxMessages: 10, waitSeconds: 0 }).then((got) => seen.push(got.map((m) => m.body)));
    });
    await queue.send('job-1');
    await expect.poll(() => seen).toEqual([['job-1']]);
    await queue.send('job-2', { delaySeconds: 60 });
    await expect.poll(() => seen).toEqual([['job-1'], []]); // told, but a delayed message is not visible yet
  });

  it('passes the rest through, the optional place in line included', async () => {
    let told = 0;
    const queue = new TellingQueue(inner, () => (told += 1));
    await inner.send('direct');
    expect(await queue.waitingSentBefore!(Date.now() + 1)).toBe(1);
    const [m] = await queue.receive({ maxMessages: 1, waitSeconds: 0 });
    expect(m?.body).toBe('direct');
    expect(await queue.stats()).toEqual({ visible: 0, inFlight: 1 });
    await queue.delete(m!.receiptHandle);
    expect(await queue.stats()).toEqual({ visible: 0, inFlight: 0 });
    expect(told).toBe(0);
    // A queue that cannot say (SQS) stays one that cannot say.
    const sqsLike: JobQueue = {
      send: (body, options) => inner.send(body, options),
      receive: (options) => inner.receive(options),
      extendVisibility: (handle, seconds) => inner.extendVisibility(handle, seconds),
      release: (handle) => inner.release(handle),
      delete: (handle) => inner.delete(handle),
      stats: () => inner.stats(),
      close: async () => {},
    };
    expect(new TellingQueue(sqsLike, () => {}).waitingSentBefore).toBeUndefined();
  });
});

/**
 * Several processes on one embedded back end: a worker killed with SIGKILL while holding a
 * message loses nothing, and conditional writes hold between processes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobRepository } from '../../shared/jobs/repository.js';
import { SqliteQueue } from '../../shared/queue/sqlite-queue.js';
import { FileStore } from '../../shared/store/file-store.js';
import { lineReader, spawnFixture } from './child.js';
import { newJob } from './store-contract.js';
import { tempDir } from './tmp-dir.js';

describe('SqliteQueue across processes', () => {
  it('redelivers a message whose holder was SIGKILLed, after the visibility timeout', async () => {
    const tmp = tempDir('queue-kill');
    const path = join(tmp.dir, 'q.sqlite');
    const queue = new SqliteQueue({ path, pollIntervalMs: 20 });
    await queue.send('{"jobId":"j1","requestId":"r1"}');

    const child = spawnFixture('hold-message.ts', [path, '2']);
    const held = JSON.parse(await lineReader(child).next()) as { messageId: string; receiveCount: number };
    expect(held.receiveCount).toBe(1);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    // Still hidden right after the crash: the timeout has not lapsed.
    expect(await queue.receive({ maxMessages: 1, waitSeconds: 0 })).toEqual([]);
    const [again] = await queue.receive({ maxMessages: 1, waitSeconds: 5 });
    expect(again?.messageId).toBe(held.messageId);
    expect(again?.receiveCount).toBe(2);
    expect(again?.body).toBe('{"jobId":"j1","requestId":"r1"}');
    await queue.delete(again!.receiptHandle);
    await queue.close();
    tmp.remove();
  });
});

describe('FileStore across processes', () => {
  it('lets one process create each key and lands every update from both', async () => {
    const tmp = tempDir('store-race');
    const root = join(tmp.dir, 'store');
    const store = new FileStore({ root });
    const jobs = new JobRepository(store);
    const job = newJob();
    await jobs.create(job);

    const keys = 100;
    const bumps = 25;
    const go = join(tmp.dir, 'go');
    const children = ['up', 'down'].map((order) => spawnFixture('store-racer.ts', [root, String(keys), String(bumps), job.id, go, order]));
    const readers = children.map((c) => lineReader(c, 60_000));
    // Both racers are up before either starts, so their writes really interleave.
    for (const r of readers) expect(await r.next()).toBe('ready');
    writeFileSync(go, '');
    const won = await Promise.all(readers.map(async (r) => JSON.parse(await r.next()) as string[]));
    const all = won.flat();
    expect(all).toHaveLength(keys);
    expect(new Set(all).size).toBe(keys);
    expect((await jobs.get(job.id))?.progress.step).toBe(2 * bumps);
    store.close();
    tmp.remove();
  });
});

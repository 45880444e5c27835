/**
 * The embedded worker pool (gpu-worker/pool.ts) never gives a slot up: workers killed while
 * they start, the replacement of a killed worker killed in turn, and a burst of kills all
 * end with every slot ready; only a configuration error (exit 2) stops a slot. The workers
 * are a stand-in (./pool-stand-in.ts) that speaks the worker's IPC without a model.
 * Short backoffs keep it quick; nothing here asserts a timing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NotifiedJobChanges } from '../../edge/changes/notified.js';
import { type PoolOptions, type SlotStatus, startWorkerPool, type WorkerPool } from '../../gpu-worker/pool.js';
import { FileStore } from '../../shared/store/file-store.js';
import { processAlive } from '../support/process-alive.js';
import { silentLogger, waitFor } from './helpers.js';

const STAND_IN = fileURLToPath(new URL('./pool-stand-in.ts', import.meta.url));

let pools: WorkerPool[] = [];
const seen = new Set<number>();

function pool(env: Record<string, string>, options: Partial<PoolOptions> = {}): WorkerPool {
  const p = startWorkerPool({
    count: 1,
    env: { ...process.env, ...env },
    logger: silentLogger(),
    backoff: { initialMs: 50, maxMs: 400, resetAfterMs: 60_000 },
    workerArgs: ['--import', 'tsx', STAND_IN],
    stopTimeoutMs: 5_000,
    ...options,
  });
  // Every process the pool ever ran, to prove that none outlives it.
  p.onChange(() =>
    p.status().forEach((s) => {
      if (s.pid !== undefined) seen.add(s.pid);
    }),
  );
  pools.push(p);
  return p;
}

const slot = (p: WorkerPool, index = 0): SlotStatus => p.status()[index]!;

/** The pid of slot `index` once it is starting (spawned, not yet ready). */
const startingPid = (p: WorkerPool, index = 0, not?: number): Promise<number> =>
  waitFor(async () => {
    const s = slot(p, index);
    return s.state === 'starting' && s.pid !== undefined && s.pid !== not && s.pid;
  }, `worker ${index} starting`);

const whole = (p: WorkerPool): Promise<boolean> =>
  waitFor(async () => p.status().every((s) => s.state === 'ready'), 'every slot ready', 30_000);

afterEach(async () => {
  await Promise.all(pools.map((p) => p.stop()));
  pools = [];
  for (const pid of seen) expect(processAlive(pid), `worker ${pid} outlived the pool`).toBe(false);
  seen.clear();
});

describe('the worker pool', () => {
  it('starts a worker again that is killed before it was ever ready, and again', async () => {
    const p = pool({ STAND_IN_READY_MS: '800' });
    const first = await startingPid(p);
    process.kill(first, 'SIGKILL');
    const second = await startingPid(p, 0, first);
    expect(slot(p).lastExit).toBe('SIGKILL');
    process.kill(second, 'SIGKILL');
    await p.started;
    await whole(p);
    expect(slot(p)).toMatchObject({ state: 'ready', restarts: 2 });
    expect(p.workers()).toHaveLength(1);
    expect(processAlive(p.workers()[0]!.pid)).toBe(true);
  });

  it('starts again the replacement of a killed worker that is killed while it starts', async () => {
    const p = pool({ STAND_IN_READY_MS: '800' });
    await p.started;
    const first = p.workers()[0]!.pid;
    process.kill(first, 'SIGKILL');
    const replacement = await startingPid(p, 0, first);
    process.kill(replacement, 'SIGKILL');
    await waitFor(async () => slot(p).restarts === 2 && slot(p).state === 'ready', 'the slot ready after two deaths', 30_000);
    const now = p.workers()[0]!;
    expect(now.pid).not.toBe(first);
    expect(now.pid).not.toBe(replacement);
    expect(processAlive(now.pid)).toBe(true);
  });

  it('is whole after a burst of kills (every 1-3 s, ready or starting), then quiet', async () => {
    const p = pool({ STAND_IN_READY_MS: '300' }, { count: 2 });
    await p.started;
    const killed = new Set<number>();
    const burstEnds = Date.now() + 8_000;
    // At least three kills, however the dice fall; the slots' processes are all short-lived.
    while (Date.now() < burstEnds || killed.size < 3) {
      await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 2_000));
      const target = slot(p, Math.floor(Math.random() * 2));
      // One kill a process: each is exactly one death, so one restart.
      if (target.pid === undefined || killed.has(target.pid)) continue;
      killed.add(target.pid);
      process.kill(target.pid, 'SIGKILL');
    }
    // Quiet: the pool has seen every death (a slot may still show a killed pid for a moment).
    await waitFor(async () => p.status().every((s) => s.pid === undefined || !killed.has(s.pid)), 'every killed worker noticed');
    await whole(p);
    const status = p.status();
    expect(status.reduce((n, s) => n + s.restarts, 0)).toBe(killed.size);
    const workers = p.workers();
    expect(workers).toHaveLength(2);
    for (const w of workers) {
      expect(killed.has(w.pid)).toBe(false);
      expect(processAlive(w.pid)).toBe(true);
    }
  });

  it('kills a worker that is not ready in time and starts it again', async () => {
    const p = pool({ STAND_IN_READY_MS: 'never' }, { readyTimeoutMs: 300 });
    await waitFor(async () => slot(p).restarts >= 2, 'two restarts');
    expect(slot(p).state).not.toBe('ready');
    expect(slot(p).lastExit).toBe('SIGKILL');
    expect(p.workers()).toEqual([]);
  });

  it('stops a slot on a configuration error (exit 2), says so once, and keeps the others', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'warn' }, sink);
    const p = pool({ STAND_IN_READY_MS: '100', STAND_IN_EXIT_CODE: '2' }, { logger, count: 2 });
    await p.started;
    // Longer than several backoffs: a slot that were restarted would show it by now.
    await new Promise((r) => setTimeout(r, 1_000));
    for (const s of p.status()) {
      expect(s).toMatchObject({ state: 'stopped', restarts: 0, lastExit: 'exit 2' });
      expect(s.reason).toMatch(/configuration error/);
    }
    const said = lines.filter((l) => l.includes('configuration error'));
    expect(said).toHaveLength(2); // once a slot
    expect(said.map((l) => JSON.parse(l).worker).sort()).toEqual([0, 1]);
  });

  it('restarts a worker that exits by itself with another code', async () => {
    const p = pool({ STAND_IN_READY_MS: '100', STAND_IN_EXIT_CODE: '1' });
    await waitFor(async () => slot(p).restarts >= 3, 'three restarts');
    expect(slot(p).state).not.toBe('stopped');
    expect(slot(p).lastExit).toBe('exit 1');
  });

  it('passes on each job record a worker writes (the edge wakes its waits on it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pool-jobs-'));
    try {
      const p = pool({ STAND_IN_WRITE_JOB: 'gen_told', STAND_IN_STORE_DIR: dir });
      const changes = new NotifiedJobChanges(3_600_000);
      p.onJobChange((id) => changes.notify(id));
      const watch = changes.watch(['gen_told']);
      // Resolves only when told: its fallback read is an hour away.
      await watch.next(3_600_000);
      watch.close();
      // Told after the record was stored: a read on the wake finds it.
      const files = new FileStore({ root: dir });
      expect(await files.get('jobs/gen_told.json')).not.toBeNull();
      files.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tells each ready worker that jobs were queued (it receives at once)', async () => {
    const p = pool({ STAND_IN_ECHO_QUEUED: 'heard' });
    const changes = new NotifiedJobChanges(3_600_000);
    p.onJobChange((id) => changes.notify(id));
    await p.started;
    const watch = changes.watch(['heard']);
    p.jobsQueued();
    // Resolves only when the worker answers: the fallback read is an hour away.
    await watch.next(3_600_000);
    watch.close();
  });

  it('starts nothing once stopped', async () => {
    const p = pool({ STAND_IN_READY_MS: '100' });
    await p.started;
    const pid = p.workers()[0]!.pid;
    await p.stop();
    expect(processAlive(pid)).toBe(false);
    expect(slot(p).state).toBe('stopped');
    await new Promise((r) => setTimeout(r, 500));
    expect(slot(p)).toMatchObject({ state: 'stopped', restarts: 0 });
    expect(slot(p).pid).toBeUndefined();
  });
});

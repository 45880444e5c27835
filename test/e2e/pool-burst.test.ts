/**
 * The embedded pool with real workers (gpu-worker/main.ts, the tiny model) under a burst of
 * SIGKILLs, every 1-3 s, of whatever process serves a slot, loading or working, while
 * draws arrive: afterwards the pool is whole and every draw has succeeded with its one
 * image, made once (exactly one object under outputs/<id>/).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerPool, type WorkerPool } from '../../gpu-worker/pool.js';
import { poolReadinessCheck } from '../../gpu-worker/pool-readiness.js';
import { embeddedPaths } from '../../shared/adapters.js';
import { evaluateReadiness } from '../../shared/readiness/index.js';
import { silentLogger } from '../worker/helpers.js';
import { api, type Edge, isFinished, poll, startEdge, systemEnv, tempDataDir } from './system.js';

const DRAW = { prompt: 'draw a red circle', steps: 6 };

describe('the worker pool under a burst of kills', () => {
  const data = tempDataDir();
  let edge: Edge;
  let pool: WorkerPool;

  beforeAll(async () => {
    edge = await startEdge(data.dir);
    pool = startWorkerPool({
      count: 2,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        ...systemEnv(data.dir, { WORKER_MAX_BATCH: '4', WORKER_PROGRESS_INTERVAL_MS: '0' }),
      },
      logger: silentLogger(),
      backoff: { initialMs: 100, maxMs: 1_000 },
      stopTimeoutMs: 10_000,
    });
    await pool.started;
  });
  afterAll(async () => {
    await pool?.stop();
    await edge?.close();
    data.remove();
  });

  it('is whole afterwards, and every draw of the burst succeeded once', async () => {
    const ids: string[] = [];
    const killed = new Set<number>();
    const burstEnds = Date.now() + 10_000;
    while (Date.now() < burstEnds || killed.size < 3) {
      for (let i = 0; i < 2; i++) {
        const created = await api(edge.url, '/v1/generations', { body: DRAW });
        expect(created.status).toBe(202);
        ids.push(created.body.id);
      }
      await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 2_000));
      const target = pool.status()[Math.floor(Math.random() * 2)]!;
      if (target.pid === undefined || killed.has(target.pid)) continue;
      killed.add(target.pid);
      process.kill(target.pid, 'SIGKILL');
    }

    for (const id of ids) {
      const g = await poll(edge.url, id, isFinished, 60_000, 100);
      expect(g.status, JSON.stringify(g)).toBe('succeeded');
      expect(g.output.filter((p) => p.type === 'image')).toHaveLength(1);
      expect(readdirSync(join(embeddedPaths(data.dir).store, 'objects', 'outputs', id)), id).toHaveLength(1);
    }
    const deadline = Date.now() + 30_000;
    const whole = () => pool.status().every((s) => s.state === 'ready' && !killed.has(s.pid!));
    while (!whole() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pool.status().map((s) => s.state)).toEqual(['ready', 'ready']);
    expect(pool.status().reduce((n, s) => n + s.restarts, 0)).toBe(killed.size);
    expect((await evaluateReadiness([poolReadinessCheck(pool)])).status).toBe('ready');
  }, 120_000);
});

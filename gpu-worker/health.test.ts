/**
 * The worker's health server: /healthz is liveness (only a stuck loop fails it), /readyz
 * is whether it takes jobs (the ECS container health check), both on a real port.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ReadinessReport } from '../shared/readiness/index.js';
import { type HealthServer, type HealthSource, STALL_MS, startHealthServer } from './health.js';

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function probe(health: HealthSource, now = 1_000_000): Promise<(path: string) => Promise<{ status: number; body: unknown }>> {
  server = await startHealthServer({ port: 0, host: '127.0.0.1', health, metrics: { render: async () => '' }, now: () => now });
  const port = server.port;
  return async (path) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.json() };
  };
}

const source = (state: ReturnType<HealthSource['state']>, lastBeatAt = 1_000_000): HealthSource => ({
  state: () => state,
  lastBeatAt: () => lastBeatAt,
});

describe('the worker health server', () => {
  it('is alive but not ready while it loads its models', async () => {
    const get = await probe(source('starting'));
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'starting' } });
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(ReadinessReport.parse(ready.body).missing).toEqual([{ check: 'engine', message: 'loading the models' }]);
  });

  it('is alive and ready while its loop goes round', async () => {
    const get = await probe(source('ready', 1_000_000 - 1_000));
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ready', missing: [], checks: { engine: { ok: true } } } });
  });

  it('fails both when the loop is stuck', async () => {
    const get = await probe(source('ready', 1_000_000 - STALL_MS - 5_000));
    expect(await get('/healthz')).toEqual({ status: 503, body: { status: 'stalled' } });
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(ReadinessReport.parse(ready.body).missing[0]!.message).toMatch(/has not gone round for 65 s/);
  });

  it('is not ready while it stops', async () => {
    const get = await probe(source('stopping'));
    expect((await get('/healthz')).status).toBe(200);
    expect(ReadinessReport.parse((await get('/readyz')).body).missing).toEqual([
      { check: 'engine', message: 'stopping: finishing or handing back its jobs' },
    ]);
  });
});

/**
 * `npm start` (scripts/start.ts) as a user runs it: it prints where to send requests, serves
 * a draw through its workers, includes their metrics in the API's /metrics, restarts a
 * worker that is SIGKILLed, and stops everything, workers included, on Ctrl-C (SIGINT).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../support/process-alive.js';
import { api, isFinished, MODEL_DIR, poll, REPO_ROOT, tempDataDir } from './system.js';

async function until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('npm start: the embedded default', () => {
  const data = tempDataDir();
  let parent: ChildProcess;
  let output = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let url: string;

  beforeAll(async () => {
    parent = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/start.ts')], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        PORT: '0',
        DATA_DIR: data.dir,
        MODEL_DIR,
        LOG_LEVEL: 'warn',
        VISIBILITY_TIMEOUT_SECONDS: '2',
        WORKER_MAX_BATCH: '4',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    parent.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    parent.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    exited = new Promise((resolve) => parent.once('exit', (code, signal) => resolve({ code, signal })));
    url = await until(() => /^ {2}API {7}(http:\/\/127\.0\.0\.1:\d+)$/m.exec(output)?.[1], 'the banner');
  });
  afterAll(async () => {
    if (parent.exitCode === null && parent.signalCode === null) {
      parent.kill('SIGKILL');
      await exited;
    }
    data.remove();
  });

  const workerPid = (): number => Number(/Workers {3}1: pid (\d+)/.exec(output)![1]);
  /** The pid of the process serving worker slot 0, as the pool reports it in /metrics. */
  const servingPid = async (): Promise<{ pid?: number; restarts?: number; seen: string }> => {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const pid = /^worker_up\{worker="0",pid="(\d+)"\} 1$/m.exec(metrics)?.[1];
    const restarts = /^worker_restarts_total\{worker="0"\} (\d+)$/m.exec(metrics)?.[1];
    return { pid: pid ? Number(pid) : undefined, restarts: restarts ? Number(restarts) : undefined, seen: metrics };
  };

  it('prints where to send requests, and its readiness as it changes', async () => {
    expect(output).toContain(`${url}/docs`);
    await until(() => /^\[readiness\] ready$/m.test(output), 'the ready line');
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { store: { ok: true }, queue: { ok: true }, models: { ok: true }, workers: { ok: true } },
    });
    expect(output).toMatch(/curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/generations/);
    expect(output).toContain('npm run cli -- draw');
    expect(processAlive(workerPid())).toBe(true);
  });

  it('serves a draw through its worker and shows the worker in /metrics', async () => {
    const created = await api(url, '/v1/generations', { body: { prompt: 'draw a red circle', steps: 3 } });
    expect(created.status).toBe(202);
    expect((await poll(url, created.body.id, isFinished)).status).toBe('succeeded');
    // Workers send their metrics every second.
    const deadline = Date.now() + 10_000;
    let metrics = '';
    while (Date.now() < deadline) {
      metrics = await (await fetch(`${url}/metrics`)).text();
      if (/^denoise_calls_total\{worker="0"\} 3$/m.test(metrics)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(metrics).toMatch(/^denoise_calls_total\{worker="0"\} 3$/m);
    expect(metrics).toMatch(/^http_requests_total\{/m);
  });

  it('restarts a worker that is SIGKILLed', async () => {
    const first = workerPid();
    const before = output.length;
    process.kill(first, 'SIGKILL');
    // Not ready, and says why, until the replacement loads; then ready again.
    await until(
      () => /^\[readiness\] not ready: workers: no worker ready: worker 0 (died|starting)/m.test(output.slice(before)),
      'the not-ready line',
    );
    await until(() => /^\[readiness\] ready$/m.test(output.slice(before)), 'ready again');
    const created = await api(url, '/v1/generations', { body: { prompt: 'draw a blue square', steps: 3 } });
    expect(created.status).toBe(202);
    expect((await poll(url, created.body.id, isFinished, 60_000)).status, output).toBe('succeeded');
    const now = await servingPid();
    expect(now.restarts, now.seen).toBe(1);
    expect(now.pid).not.toBe(first);
    expect(processAlive(now.pid!)).toBe(true);
  });

  it('stops everything on SIGINT', async () => {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('worker="0"');
    const worker = (await servingPid()).pid!;
    expect(processAlive(worker)).toBe(true);
    parent.kill('SIGINT');
    expect(await exited, output).toEqual({ code: 0, signal: null });
    // No worker left behind: the pool waited for it to stop.
    expect(processAlive(worker), `worker ${worker}`).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

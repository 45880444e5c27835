/**
 * End to end through real HTTP on loopback: the edge app served on 127.0.0.1 and the
 * worker as a child process, on one temporary DATA_DIR. Draw gives a 64x64 PNG, describe
 * gives text, cancel stops a job, and a worker SIGKILLed mid-job loses nothing: the next
 * worker redoes the job, which succeeds exactly once.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminal } from '../../shared/jobs/status.js';
import { api, isFinished, poll, startEdge, startWorkerProcess, stopProcess, tempDataDir, type Edge, type Generation, type WorkerProcess } from './system.js';

const png64 = (): string => {
  const png = new PNG({ width: 64, height: 64 });
  for (let i = 0; i < png.data.length; i += 4) png.data.set([(i / 4) % 64 << 2, 90, 200, 255], i);
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
};

describe('the system end to end (edge over HTTP + worker process)', () => {
  const data = tempDataDir();
  let edge: Edge;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    edge = await startEdge(data.dir);
    worker = await startWorkerProcess(data.dir);
  });
  afterAll(async () => {
    if (worker) await stopProcess(worker);
    await edge?.close();
    data.remove();
  });

  const dump = (): string => worker?.output() ?? '';

  it('draws: a draw prompt gives a 64x64 PNG', async () => {
    const created = await api(edge.url, '/v1/generations', { body: { prompt: 'draw a small red circle at the top', steps: 4, seed: 7 } });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    expect(created.body.status).toBe('queued');
    const done = await poll(edge.url, created.body.id, isFinished);
    expect(done.status, dump()).toBe('succeeded');
    expect(done.progress).toEqual({ step: 4, steps: 4 });
    const image = done.output.find((p) => p.type === 'image');
    expect(image).toMatchObject({ width: 64, height: 64, mime_type: 'image/png' });
    const res = await fetch(new URL(image!.type === 'image' ? image!.url : '', edge.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    expect([png.width, png.height]).toEqual([64, 64]);
  });

  it('describes: a describe prompt with an image gives text at once', async () => {
    const created = await api(edge.url, '/v1/generations', { body: { prompt: 'describe the image', images: [png64()], max_tokens: 12 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.status).toBe('succeeded');
    expect(created.body.output.every((p) => p.type === 'text')).toBe(true);
  });

  it('cancels: a running job stops at its next step', async () => {
    const running = await api(edge.url, '/v1/generations', { body: { prompt: 'draw a big blue square', steps: 100, seed: 1 } });
    expect(running.status).toBe(202);
    await poll(edge.url, running.body.id, (g) => g.status === 'running' || isFinished(g), 30_000, 5);
    const canceled = await api(edge.url, `/v1/generations/${running.body.id}/cancel`, { method: 'POST' });
    expect(canceled.status).toBe(200);
    const after = await poll(edge.url, running.body.id, isFinished);
    expect(after.status, dump()).toBe('canceled');
    expect(after.progress.step).toBeLessThan(100);
    expect(after.output.some((p) => p.type === 'image')).toBe(false);
  });

  it('loses nothing when the worker is SIGKILLed mid-job: the jobs succeed exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const created = await api(edge.url, '/v1/generations', { body: { prompt: `draw a small green ${i} at the left`, steps: 100, seed: 100 + i } });
      expect(created.status).toBe(202);
      ids.push(created.body.id);
    }
    // Kill as soon as a job is half-way at most.
    const victim = worker!;
    const seen = await poll(edge.url, ids[0]!, (g) => (g.status === 'running' && g.progress.step >= 1) || isFinished(g), 30_000, 2);
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(seen.status, 'the job finished before the kill').toBe('running');
    const mid = await Promise.all(ids.map(async (id) => (await api(edge.url, `/v1/generations/${id}`)).body));
    expect(mid.some((g) => !isTerminal(g.status as never))).toBe(true);

    worker = await startWorkerProcess(data.dir);
    const finals: Generation[] = [];
    for (const id of ids) finals.push(await poll(edge.url, id, isFinished, 60_000));
    for (const g of finals) {
      expect(g.status, dump()).toBe('succeeded');
      expect(g.output.filter((p) => p.type === 'image')).toHaveLength(1);
      // One set of output objects: exactly the one PNG under the job's folder.
      expect(readdirSync(join(edge.deps.config.dataDir, 'store/objects/outputs', g.id))).toEqual(['0.png']);
    }
    // The new worker did them (redelivered after the visibility timeout), once each.
    const metrics = await (await fetch(`http://127.0.0.1:${worker.healthPort}/metrics`)).text();
    expect(metrics).toMatch(/^jobs_total\{status="succeeded"\} 3$/m);
    const queue = await edge.deps.queue.stats();
    expect(queue).toEqual({ visible: 0, inFlight: 0 });
  });
});

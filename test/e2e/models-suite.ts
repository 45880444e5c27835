/**
 * Several models end to end, on a back end (models.test.ts: embedded; models-aws.test.ts:
 * the local S3/SQS servers): the edge over HTTP and a worker process, both with
 * MODELS=packages/shapes64,packages/tiny. A generation on the second model (tiny) and one on
 * the default (shapes64) each come back drawn by their own model; an unknown model is
 * refused; GET /v1/models lists both.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from './backends.js';
import {
  api,
  type Edge,
  isFinished,
  poll,
  REPO_ROOT,
  startEdge,
  startWorkerProcess,
  stopProcess,
  TINY_DIR,
  tempDataDir,
  type WorkerProcess,
} from './system.js';

const SHAPES_DIR = join(REPO_ROOT, 'packages/shapes64');
const hasShapes = existsSync(join(SHAPES_DIR, 'manifest.json'));

/** `setup` makes the back end (in beforeAll); skipped when it is unavailable or shapes64 is not there. */
export function modelsSuite(title: string, setup: () => Promise<Backend>, skip = false): void {
  describe.skipIf(skip || !hasShapes)(`several models end to end on ${title} (edge over HTTP + worker process, shapes64 and tiny)`, () => {
    const models = { MODELS: `${SHAPES_DIR},${TINY_DIR}` };
    let backend: Backend;
    let data: ReturnType<typeof tempDataDir>;
    let edge: Edge;
    let worker: WorkerProcess;

    beforeAll(async () => {
      backend = await setup();
      data = tempDataDir();
      edge = await startEdge(data.dir, { ...backend.env, ...models });
      worker = await startWorkerProcess(data.dir, { ...backend.env, ...models, LOG_LEVEL: 'info' });
    });
    afterAll(async () => {
      if (worker) await stopProcess(worker);
      await edge?.close();
      await backend?.close();
      data?.remove();
    });

    const fetchPng = async (url: string) => PNG.sync.read(Buffer.from(await (await fetch(new URL(url, edge.url))).arrayBuffer()));

    it('lists both models, shapes64 the default', async () => {
      const { status, body } = await api<{ object: string; data: { id: string; default: boolean }[] }>(edge.url, '/v1/models');
      expect(status).toBe(200);
      expect(body.object).toBe('list');
      expect(body.data.map((m) => [m.id, m.default])).toEqual([
        ['shapes64', true],
        ['tiny', false],
      ]);
    });

    it('draws with the second model, and with the default one, each job on its own model', async () => {
      const onTiny = await api(edge.url, '/v1/generations', {
        body: { prompt: 'draw a small red circle at the top', model: 'tiny', steps: 4, seed: 7 },
      });
      const onShapes = await api(edge.url, '/v1/generations', {
        body: { prompt: 'draw a large blue square at the center', seed: 8 }, // the model's own steps
      });
      expect([onTiny.status, onShapes.status]).toEqual([202, 202]);
      const [tiny, shapes] = await Promise.all([
        poll(edge.url, onTiny.body.id, isFinished, 60_000, 100),
        poll(edge.url, onShapes.body.id, isFinished, 60_000, 100),
      ]);
      expect([tiny.status, shapes.status], worker.output()).toEqual(['succeeded', 'succeeded']);
      expect((tiny as unknown as { model: string }).model).toBe('tiny');
      expect((shapes as unknown as { model: string }).model).toBe('shapes64');
      for (const g of [tiny, shapes]) {
        const image = g.output.find((p) => p.type === 'image');
        expect(image, JSON.stringify(g)).toBeDefined();
        expect(image!.type === 'image' ? image!.url : '').toMatch(backend.imageUrl);
        const png = await fetchPng(image!.type === 'image' ? image!.url : '');
        expect([png.width, png.height]).toEqual([64, 64]);
      }
      // The worker says which model each job ran on.
      const succeeded = worker
        .output()
        .split('\n')
        .filter((l) => l.includes('"job succeeded"'))
        .map((l) => JSON.parse(l) as { jobId: string; model: string });
      expect(succeeded.find((l) => l.jobId === tiny.id)?.model).toBe('tiny');
      expect(succeeded.find((l) => l.jobId === shapes.id)?.model).toBe('shapes64');
    });

    it('refuses an unknown model with 400 unknown_model', async () => {
      const { status, body } = await api<{ error: { code: string; message: string } }>(edge.url, '/v1/generations', {
        body: { prompt: 'draw a cat', model: 'emoji64' },
      });
      expect(status).toBe(400);
      expect(body.error).toEqual({ code: 'unknown_model', message: 'unknown model "emoji64"; this server serves: shapes64, tiny' });
    });
  });
}

/**
 * GET /readyz: 200 while the store, the queue, the models and (under `npm start`) a worker
 * are there; 503 naming each one that is not. /healthz stays 200 meanwhile: liveness.
 */
import { describe, expect, it } from 'vitest';
import type { SlotStatus } from '../../gpu-worker/pool.js';
import { poolReadinessCheck } from '../../gpu-worker/pool-readiness.js';
import { apiKeys } from '../../shared/config/index.js';
import type { ObjectStore } from '../../shared/ports/store.js';
import { evaluateReadiness, type ReadinessCheck, ReadinessReport } from '../../shared/readiness/index.js';
import { tinyFixture } from '../../test/support/tiny-fixture.js';
import { createApp } from '../app.js';
import { ModelLoads } from './model-loads.js';

const tiny = tinyFixture();

async function readyz(app: ReturnType<typeof createApp>): Promise<{ status: number; body: ReadinessReport; cache: string | null }> {
  const res = await app.request('/readyz');
  return { status: res.status, body: ReadinessReport.parse(await res.json()), cache: res.headers.get('cache-control') };
}

const pool = (...slots: SlotStatus[]) => poolReadinessCheck({ status: () => slots });

const unreachableStore = (store: ObjectStore): ObjectStore => ({
  put: (...args) => store.put(...args),
  get: async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:9000');
  },
  delete: (key) => store.delete(key),
  urlFor: (key) => store.urlFor(key),
});

describe('GET /readyz', () => {
  it('is 200 with every check when the store, queue and a worker are there', async () => {
    const app = createApp(tiny.deps({ readiness: [pool({ index: 0, state: 'ready', restarts: 0, pid: 42 })] }));
    const { status, body, cache } = await readyz(app);
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ready', missing: [], checks: { store: { ok: true }, queue: { ok: true }, workers: { ok: true } } });
    expect(cache).toBe('no-store');
  });

  it('is 503 naming the workers while none is ready, and /healthz stays 200', async () => {
    const app = createApp(
      tiny.deps({
        readiness: [
          pool(
            { index: 0, state: 'starting', restarts: 2, pid: 7, lastExit: 'SIGKILL' },
            { index: 1, state: 'stopped', restarts: 0, lastExit: 'exit 2', reason: 'configuration error (exit 2)' },
          ),
        ],
      }),
    );
    const { status, body } = await readyz(app);
    expect(status).toBe(503);
    expect(body.status).toBe('not_ready');
    expect(body.missing).toEqual([
      {
        check: 'workers',
        message:
          'no worker ready: worker 0 starting (restarted 2 times, last exit SIGKILL); worker 1 stopped: configuration error (exit 2)',
      },
    ]);
    expect(body.checks.store).toEqual({ ok: true });
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('is 200 with a note while one worker of two is stopped for a configuration error', async () => {
    const app = createApp(
      tiny.deps({
        readiness: [
          pool(
            { index: 0, state: 'ready', restarts: 0 },
            { index: 1, state: 'stopped', restarts: 0, reason: 'configuration error (exit 2)' },
          ),
        ],
      }),
    );
    const { status, body } = await readyz(app);
    expect(status).toBe(200);
    expect(body.checks.workers).toEqual({ ok: true, message: '1 of 2 workers ready; worker 1 stopped: configuration error (exit 2)' });
  });

  it('is 503 when the queue is unreachable', async () => {
    const deps = tiny.deps();
    await deps.queue.close();
    const { status, body } = await readyz(createApp(deps));
    expect(status).toBe(503);
    expect(body.missing.map((m) => m.check)).toEqual(['queue']);
    expect(body.missing[0]!.message).toMatch(/^the queue is unreachable: .*closed/);
  });

  it('is 503 when the store is unreachable', async () => {
    const deps = tiny.deps();
    const { status, body } = await readyz(createApp({ ...deps, store: unreachableStore(deps.store) }));
    expect(status).toBe(503);
    expect(body.missing).toEqual([{ check: 'store', message: 'the store is unreachable: connect ECONNREFUSED 127.0.0.1:9000' }]);
  });

  it('is 503 while a model failed to load, and 200 once it loads', async () => {
    const loads = new ModelLoads();
    const app = createApp(tiny.deps({ readiness: [loads.check()] }));
    let fail = true;
    const lookup = loads.track(async () => {
      if (fail) throw new Error('Load model from emoji64/model.onnx failed: protobuf parsing failed');
      return tiny.runtime;
    });
    await expect(lookup('emoji64')).rejects.toThrow(/protobuf/);
    const down = await readyz(app);
    expect(down.status).toBe(503);
    expect(down.body.missing).toEqual([
      { check: 'models', message: 'emoji64 failed to load: Load model from emoji64/model.onnx failed: protobuf parsing failed' },
    ]);
    fail = false;
    await lookup('emoji64');
    expect((await readyz(app)).status).toBe(200);
  });

  it('is in the OpenAPI document beside /healthz, open, with its 200 and 503', async () => {
    const app = createApp(tiny.deps({ config: { apiKeys: apiKeys('acme:key-1234567') } }));
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, { get?: { security?: unknown; tags?: string[]; responses: Record<string, unknown> } }>;
    };
    const op = doc.paths['/readyz']!.get!;
    expect(op.security).toBeUndefined();
    expect(op.tags).toEqual(doc.paths['/healthz']!.get!.tags);
    expect(Object.keys(op.responses).sort()).toEqual(['200', '503']);
    expect((await app.request('/readyz')).status).toBe(200); // no key needed
  });
});

describe('evaluateReadiness', () => {
  it('fails a check that does not answer in time, and one that throws', async () => {
    const hangs: ReadinessCheck = { name: 'hangs', run: () => new Promise(() => {}) };
    const throws: ReadinessCheck = { name: 'throws', run: () => Promise.reject(new Error('boom')) };
    const report = await evaluateReadiness([hangs, throws, { name: 'fine', run: () => ({ ok: true }) }], 50);
    expect(report).toEqual({
      status: 'not_ready',
      missing: [
        { check: 'hangs', message: 'no answer within 50 ms' },
        { check: 'throws', message: 'boom' },
      ],
      checks: { hangs: { ok: false, message: 'no answer within 50 ms' }, throws: { ok: false, message: 'boom' }, fine: { ok: true } },
    });
  });
});

/**
 * Idempotency-Key on POST /v1/generations and /cancel, through the app on the file store
 * (test/adapters/idempotency.test.ts runs the concurrent case on S3 too).
 */
import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../shared/ports/store.js';
import { ApiErrorBody, Generation } from '../../shared/schemas/index.js';
import { appFixture } from '../../test/support/app.js';
import type { DepsOverrides } from '../../test/support/tiny-fixture.js';
import type { AppDeps } from '../app.js';
import { claimKey, IdempotencyClaims } from './claims.js';
import { canonicalJson, fingerprint } from './fingerprint.js';

const api = appFixture(() => ({ textDecoder: decodeToBoi }));
const { tiny } = api;
let decodes = 0;

const decodeToBoi: AppDeps['textDecoder'] = async () => {
  decodes += 1;
  return { ids: tiny.runtime.tokenizer.encode('hi'), text: 'hi', stop: 'boi' };
};

function setup(overrides: DepsOverrides = {}): void {
  decodes = 0;
  api.setup(overrides);
}

const post = (path: string, body: unknown, key?: string) => api.post(path, body, key !== undefined ? { 'Idempotency-Key': key } : {});

async function messages(): Promise<number> {
  const { visible, inFlight } = await api.deps.queue.stats();
  return visible + inFlight;
}

describe('Idempotency-Key on POST /v1/generations', () => {
  it('returns the same generation for a repeat (200) and does the work once', async () => {
    setup();
    const body = { prompt: 'draw a circle', steps: 3 };
    const first = await post('/v1/generations', body, 'order-42');
    expect(first.status).toBe(202);
    const a = Generation.parse(await first.json());
    // Same body in another order and spacing: the same request.
    const again = await api.app.request('/v1/generations', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'order-42' },
      body: `{ "steps": 3,\n "prompt": "draw a circle" }`,
    });
    expect(again.status).toBe(200);
    expect(Generation.parse(await again.json()).id).toBe(a.id);
    expect(decodes).toBe(1);
    expect(await messages()).toBe(1);
    // Without a key, or with another, a new generation.
    expect(Generation.parse(await (await post('/v1/generations', body)).json()).id).not.toBe(a.id);
    expect(Generation.parse(await (await post('/v1/generations', body, 'order-43')).json()).id).not.toBe(a.id);
  });

  it('answers 409 idempotency_conflict for the key with another body, and keeps the first', async () => {
    setup();
    const first = Generation.parse(await (await post('/v1/generations', { prompt: 'draw a circle' }, 'k1')).json());
    const res = await post('/v1/generations', { prompt: 'draw a square' }, 'k1');
    const { error } = ApiErrorBody.parse(await res.json());
    expect([res.status, error.code]).toEqual([409, 'idempotency_conflict']);
    expect(await messages()).toBe(1);
    expect((await post('/v1/generations', { prompt: 'draw a circle' }, 'k1')).status).toBe(200);
    expect((await api.deps.jobs.get(first.id))?.status).toBe('queued');
  });

  it('makes one generation of 8 concurrent duplicates: one 202, seven 200, one id, one message', async () => {
    setup({ idempotency: { pollMs: 5 } });
    const body = { prompt: 'draw a red circle', seed: 3 };
    const responses = await Promise.all(Array.from({ length: 8 }, () => post('/v1/generations', body, 'burst')));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
    const ids = new Set(await Promise.all(responses.map(async (r) => Generation.parse(await r.json()).id)));
    expect(ids.size).toBe(1);
    expect(decodes).toBe(1);
    expect(await messages()).toBe(1);
  });

  it('runs a request again after its first try failed before making anything (a bad image), even with a corrected body', async () => {
    setup();
    const bad = { prompt: 'describe', images: ['data:image/png;base64,AAAA'] };
    expect((await post('/v1/generations', bad, 'fix-me')).status).toBe(400);
    expect((await post('/v1/generations', bad, 'fix-me')).status).toBe(400);
    const fixed = await post('/v1/generations', { prompt: 'draw' }, 'fix-me');
    expect(fixed.status).toBe(202);
    expect((await post('/v1/generations', { prompt: 'draw' }, 'fix-me')).status).toBe(200);
  });

  it('refuses a malformed key with 400', async () => {
    setup();
    for (const key of ['x'.repeat(256), 'tab\tinside']) {
      const res = await post('/v1/generations', { prompt: 'draw' }, key);
      expect([res.status, ApiErrorBody.parse(await res.json()).error.code]).toEqual([400, 'invalid_request']);
    }
    expect(await messages()).toBe(0);
  });

  it('forgets a key after 24 h', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    setup({ idempotency: { now: () => now } });
    const a = Generation.parse(await (await post('/v1/generations', { prompt: 'draw' }, 'daily')).json());
    now += 24 * 3600 * 1000 - 1;
    expect(Generation.parse(await (await post('/v1/generations', { prompt: 'draw' }, 'daily')).json()).id).toBe(a.id);
    now += 1;
    const b = await post('/v1/generations', { prompt: 'draw' }, 'daily');
    expect(b.status).toBe(202);
    expect(Generation.parse(await b.json()).id).not.toBe(a.id);
  });
});

describe('Idempotency-Key on POST /v1/generations/{id}/cancel', () => {
  it('replays a cancel even after the generation moved on, and refuses the key for another generation', async () => {
    setup();
    const { id } = Generation.parse(await (await post('/v1/generations', { prompt: 'draw' })).json());
    const { id: other } = Generation.parse(await (await post('/v1/generations', { prompt: 'draw' })).json());
    await api.deps.jobs.update(id, (r) => ({ ...r, status: 'running' }));
    const first = await post(`/v1/generations/${id}/cancel`, {}, 'stop-1');
    expect(first.status).toBe(200);
    await api.deps.jobs.update(id, (r) => ({ ...r, status: 'succeeded' })); // the worker finished first
    // Without the key a cancel now is 409 already_finished; with it, the first cancel's answer stands.
    expect((await post(`/v1/generations/${id}/cancel`, {})).status).toBe(409);
    const repeat = await post(`/v1/generations/${id}/cancel`, {}, 'stop-1');
    expect(repeat.status).toBe(200);
    expect(Generation.parse(await repeat.json())).toMatchObject({ id, status: 'succeeded' });
    const misuse = await post(`/v1/generations/${other}/cancel`, {}, 'stop-1');
    expect([misuse.status, ApiErrorBody.parse(await misuse.json()).error.code]).toEqual([409, 'idempotency_conflict']);
    expect((await api.deps.jobs.get(other))?.status).toBe('queued');
  });
});

describe('concurrent cancels with one key', () => {
  it('all answer 200 with the generation, and leave one cancel marker', async () => {
    setup({ idempotency: { pollMs: 5 } });
    const { id } = Generation.parse(await (await post('/v1/generations', { prompt: 'draw' })).json());
    const responses = await Promise.all(Array.from({ length: 6 }, () => post(`/v1/generations/${id}/cancel`, {}, 'stop-now')));
    expect(responses.map((r) => r.status)).toEqual(Array(6).fill(200));
    for (const r of responses) expect(Generation.parse(await r.json())).toMatchObject({ id, status: 'canceled' });
    expect(await api.deps.jobs.isCancelRequested(id)).toBe(true);
  });
});

describe('IdempotencyClaims', () => {
  it('takes over a pending claim whose request died, keeping its generation id', async () => {
    let now = 1_000_000;
    setup();
    const claims = new IdempotencyClaims(api.deps.store, { now: () => now, staleMs: 60_000, pollMs: 1, maxWaitMs: 0 });
    const first = await claims.begin('t', 'k', 'print', 'gen_first');
    expect(first).toMatchObject({ kind: 'claimed', claim: { generationId: 'gen_first', takeover: false } });
    // Still fresh: a second request waits (here: not at all) and is told it is in progress.
    expect(await claims.begin('t', 'k', 'print', 'gen_second')).toEqual({ kind: 'in_progress' });
    now += 60_000;
    const second = await claims.begin('t', 'k', 'print', 'gen_second');
    expect(second).toMatchObject({ kind: 'claimed', claim: { generationId: 'gen_first', takeover: true } });
    // The first request's late completion loses its swap and changes nothing.
    if (first.kind === 'claimed') await claims.complete(first.claim);
    expect(await claims.begin('t', 'k', 'print', 'gen_third')).toEqual({ kind: 'in_progress' });
    if (second.kind === 'claimed') await claims.complete(second.claim);
    expect(await claims.begin('t', 'k', 'print', 'gen_third')).toEqual({ kind: 'replay', generationId: 'gen_first' });
    expect(await api.deps.store.get(claimKey('t', 'k'))).not.toBeNull();
  });

  it('costs a new key two conditional writes (claim, done); a repeat, a refused write and a read', async () => {
    setup();
    const ops: string[] = [];
    const store: ObjectStore = {
      get: async (key) => {
        ops.push('get');
        return api.deps.store.get(key);
      },
      put: async (key, body, options) => {
        ops.push(options.ifNoneMatch ? 'put if-none-match' : options.ifMatch ? 'put if-match' : 'put');
        return api.deps.store.put(key, body, options);
      },
      delete: (key) => api.deps.store.delete(key),
      urlFor: (key) => api.deps.store.urlFor(key),
    };
    const claims = new IdempotencyClaims(store);
    const first = await claims.begin('t', 'k', 'print', 'gen_1');
    if (first.kind === 'claimed') await claims.complete(first.claim);
    expect(ops).toEqual(['put if-none-match', 'put if-match']);
    ops.length = 0;
    expect(await claims.begin('t', 'k', 'print', 'gen_2')).toEqual({ kind: 'replay', generationId: 'gen_1' });
    expect(ops).toEqual(['put if-none-match', 'get']);
  });

  it('keys claims by tenant and a hash of the key, never the key itself', () => {
    expect(claimKey('acme', 'my/secret key')).toMatch(/^idempotency\/acme\/[\w-]{43}\.json$/);
  });
});

describe('fingerprint', () => {
  it('ignores key order and absent fields, not values', () => {
    expect(canonicalJson({ b: 1, a: [1, { y: 2, x: 1 }], c: undefined })).toBe('{"a":[1,{"x":1,"y":2}],"b":1}');
    expect(fingerprint('create', { a: 1, b: 2 })).toBe(fingerprint('create', { b: 2, a: 1 }));
    expect(fingerprint('create', { a: 1 })).not.toBe(fingerprint('create', { a: 2 }));
    expect(fingerprint('create', { id: 'x' })).not.toBe(fingerprint('cancel', { id: 'x' }));
  });
});

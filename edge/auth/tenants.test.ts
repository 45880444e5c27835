/**
 * Tenants: what a key creates, only its tenant sees. Another tenant gets exactly what an
 * unknown id gets (404 not_found) on every route: read, cancel (with and without an
 * Idempotency-Key), events, and the files (whose URLs only the owner is ever given).
 */
import { describe, expect, it } from 'vitest';
import { apiKeys } from '../../shared/config/index.js';
import { ApiErrorBody, Generation } from '../../shared/schemas/index.js';
import { appFixture } from '../../test/support/app.js';
import { playWorker } from '../../test/support/play-worker.js';
import { Authenticator, LOCAL_TENANT } from './tenants.js';

const ACME = 'key-of-acme-0001';
const GLOBEX = 'key-of-globex-01';
const BARE = 'a-bare-key-00001';

const api = appFixture((tiny) => ({
  textDecoder: tiny.decodeTo('hi', 'boi'),
  config: { apiKeys: apiKeys(`acme:${ACME}`, `globex:${GLOBEX}`, BARE) },
  events: { pollMs: 5 },
}));
const { setup } = api;

function call(key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(
    api.app.request(path, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }),
  );
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const { error } = ApiErrorBody.parse(await res.json());
  return { status: res.status, code: error.code, message: error.message };
}

describe('Authenticator', () => {
  it('maps each key to its tenant, a bare key to its own, and refuses the rest', () => {
    const auth = new Authenticator(apiKeys(`acme:${ACME}`, BARE));
    expect(auth.authenticate(`Bearer ${ACME}`)).toEqual({ ok: true, tenant: 'acme' });
    expect(auth.authenticate(`bearer   ${BARE} `)).toMatchObject({ ok: true, tenant: expect.stringMatching(/^_key-/) });
    expect(auth.authenticate(`Bearer acme:${ACME}`)).toEqual({ ok: false, reason: 'invalid' });
    expect(auth.authenticate(`Bearer ${ACME.slice(0, -1)}`)).toEqual({ ok: false, reason: 'invalid' });
    expect(auth.authenticate(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(auth.authenticate(`Basic ${ACME}`)).toEqual({ ok: false, reason: 'missing' });
  });

  it('lets everyone in as the local tenant when no keys are set', () => {
    expect(new Authenticator([]).authenticate(undefined)).toEqual({ ok: true, tenant: LOCAL_TENANT });
  });

  it('keeps no key in memory, only digests', () => {
    const auth = new Authenticator(apiKeys(`acme:${ACME}`));
    expect(JSON.stringify(auth)).not.toContain(ACME);
    expect(JSON.stringify(apiKeys(`acme:${ACME}`))).not.toContain(ACME);
  });
});

describe("a tenant and another tenant's generation", () => {
  it('gets 404 not_found on every route, as for an id that does not exist', async () => {
    setup();
    const created = await call(ACME, 'POST', '/v1/generations', { prompt: 'draw a square' });
    expect(created.status).toBe(202);
    const { id } = Generation.parse(await created.json());
    await playWorker(api.deps, id, 2);
    const mine = Generation.parse(await (await call(ACME, 'GET', `/v1/generations/${id}`)).json());
    const image = mine.output.find((p) => p.type === 'image');
    const url = image?.type === 'image' ? image.url : '';
    expect(url).toMatch(/^\/v1\/files\/outputs\/.+\?expires=\d+&sig=[\w-]{43}$/);

    const unknown = 'gen_AAAAAAAAAAAAAAAAAAAAAA';
    const routes: [string, (id: string) => string, unknown?, Record<string, string>?][] = [
      ['GET', (g) => `/v1/generations/${g}`],
      ['POST', (g) => `/v1/generations/${g}/cancel`],
      ['POST', (g) => `/v1/generations/${g}/cancel`, undefined, { 'Idempotency-Key': 'cancel-it' }],
      ['GET', (g) => `/v1/generations/${g}/events`],
    ];
    for (const [method, path, body, headers] of routes) {
      for (const other of [GLOBEX, BARE]) {
        const theirs = await errorOf(await call(other, method, path(id), body, headers));
        const missing = await errorOf(await call(other, method, path(unknown), body, headers));
        expect(theirs, `${method} ${path(id)}`).toEqual({ status: 404, code: 'not_found', message: expect.stringContaining(id) });
        expect({ ...theirs, message: theirs.message.replace(id, unknown) }).toEqual(missing);
      }
    }
    // Files: only the owner was given a signed URL; the bare path, or the signed URL moved to
    // another key, is not found, with or without another tenant's key.
    const path = url.split('?')[0]!;
    for (const other of [GLOBEX, BARE]) {
      expect(await errorOf(await call(other, 'GET', path))).toMatchObject({ status: 404, code: 'not_found' });
      const moved = url.replace(id, unknown);
      expect(await errorOf(await call(other, 'GET', moved))).toMatchObject({ status: 404, code: 'not_found' });
    }
    // Nothing the other tenants did touched it: the owner still reads and downloads it.
    const after = Generation.parse(await (await call(ACME, 'GET', `/v1/generations/${id}`)).json());
    expect(after.status).toBe('succeeded');
    expect(await api.deps.jobs.isCancelRequested(id)).toBe(false);
    const file = await api.app.request(url); // no key: the signature is the proof
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
  });

  it('owns what the OpenAI images route makes for it, like any generation', async () => {
    api.setup({ config: { apiKeys: apiKeys(`acme:${ACME}`, `globex:${GLOBEX}`), openAiWaitSeconds: 1 }, events: {} });
    const res = await call(ACME, 'POST', '/v1/images/generations', { prompt: 'a blue square' });
    expect(res.status).toBe(504); // no worker here: it names the generations still running
    const { error } = (await res.json()) as { error: { generation_ids: string[] } };
    const [id] = error.generation_ids;
    expect((await api.deps.jobs.get(id!))?.tenant).toBe('acme');
    expect((await call(ACME, 'GET', `/v1/generations/${id}`)).status).toBe(200);
    expect((await call(GLOBEX, 'GET', `/v1/generations/${id}`)).status).toBe(404);
  });

  it('stamps each generation with its tenant; the same Idempotency-Key in two tenants makes two generations', async () => {
    setup();
    const headers = { 'Idempotency-Key': 'same-key' };
    const a = await call(ACME, 'POST', '/v1/generations', { prompt: 'draw' }, headers);
    const b = await call(GLOBEX, 'POST', '/v1/generations', { prompt: 'draw' }, headers);
    expect([a.status, b.status]).toEqual([202, 202]);
    const [ga, gb] = [Generation.parse(await a.json()), Generation.parse(await b.json())];
    expect(ga.id).not.toBe(gb.id);
    expect((await api.deps.jobs.get(ga.id))?.tenant).toBe('acme');
    expect((await api.deps.jobs.get(gb.id))?.tenant).toBe('globex');
  });
});

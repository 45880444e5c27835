import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys } from '../shared/config/index.js';
import type { ModelRuntime } from '../shared/runtime/index.js';
import { testDeps, tinyRuntime } from '../test/support/edge-deps.js';
import { createApp } from './app.js';
import { assertSafeBind, startServer, UnsafeBindError } from './server.js';

let runtime: ModelRuntime;
beforeAll(async () => {
  runtime = await tinyRuntime();
});
afterAll(async () => {
  await runtime.close();
});

describe('the Node adapter', () => {
  it('refuses a non-loopback HOST without API_KEYS, with a clear error', async () => {
    expect(() => assertSafeBind({ host: '0.0.0.0', apiKeys: [] })).toThrow(UnsafeBindError);
    expect(() => assertSafeBind({ host: '0.0.0.0', apiKeys: [] })).toThrow(/API_KEYS/);
    expect(() => assertSafeBind({ host: '0.0.0.0', apiKeys: apiKeys('a-key-12345') })).not.toThrow();
    expect(() => assertSafeBind({ host: '127.0.0.1', apiKeys: [] })).not.toThrow();
    await expect(startServer({ fetch: () => new Response() }, { host: '::', port: 0, apiKeys: [] })).rejects.toThrow(UnsafeBindError);
  });

  it('serves the app over HTTP on loopback', async () => {
    const deps = testDeps(runtime, { config: { apiKeys: apiKeys('a-key-12345') } });
    const server = await startServer(createApp(deps), { host: '127.0.0.1', port: 0, apiKeys: apiKeys('a-key-12345') });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      expect(health.headers.get('x-request-id')).toMatch(/^req_/);
      const res = await fetch(`${server.url}/v1/generations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer a-key-12345' },
        body: '{"prompt":',
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: { code: 'invalid_json', message: 'the body is not valid JSON' } });
    } finally {
      await server.close();
      await deps.cleanup();
    }
  });
});

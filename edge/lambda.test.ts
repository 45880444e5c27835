/**
 * The Lambda handler with an API Gateway HTTP API (payload v2) event. The embedded store and
 * queue stand in for S3 and SQS: the adapter is the same, only the config differs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_DIR } from '../test/support/edge-deps.js';

const dir = mkdtempSync(join(tmpdir(), 'edge-lambda-'));
const saved = { ...process.env };

beforeAll(() => {
  Object.assign(process.env, {
    MODEL_DIR: TINY_DIR,
    DATA_DIR: dir,
    API_KEYS: 'lambda-key-1234',
    LOG_LEVEL: 'silent',
    STORE: 'file',
    QUEUE: 'sqlite',
  });
});
afterAll(() => {
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

function event(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'api.example.com', ...headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'gw-1',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    isBase64Encoded: false,
    ...(body !== undefined ? { body } : {}),
  };
}

describe('lambda handler', () => {
  it('builds its dependencies on the first call and answers API Gateway events', async () => {
    const { handler } = await import('./lambda.js');
    const call = (e: ReturnType<typeof event>) =>
      handler(e as never, {} as never) as Promise<{ statusCode: number; body: string; headers: Record<string, string> }>;
    const health = await call(event('GET', '/healthz'));
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    const denied = await call(event('GET', '/v1/generations/gen_x'));
    expect(denied.statusCode).toBe(401);
    const bad = await call(
      event('POST', '/v1/generations', { authorization: 'Bearer lambda-key-1234', 'content-type': 'application/json' }, '{"prompt":""}'),
    );
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('invalid_request');
  });

  it('answers events buffered: the HTTP API cannot stream a response', async () => {
    const { handler } = await import('./lambda.js');
    const call = (e: ReturnType<typeof event>) =>
      handler(e as never, {} as never) as Promise<{ statusCode: number; body: string; headers: Record<string, string> }>;
    const auth = { authorization: 'Bearer lambda-key-1234' };
    const created = await call(
      event('POST', '/v1/generations', { ...auth, 'content-type': 'application/json' }, '{"prompt":"hello","max_tokens":2}'),
    );
    expect([201, 202]).toContain(created.statusCode);
    const { id } = JSON.parse(created.body) as { id: string };
    const events = (await handler(event('GET', `/v1/generations/${id}/events`, auth) as never, {} as never)) as {
      statusCode: number;
      body: string;
      headers: Record<string, string>;
      isBase64Encoded: boolean;
    };
    expect(events.statusCode).toBe(200);
    expect(events.headers['content-type']).toMatch(/^text\/event-stream/);
    // API Gateway decodes a base64 body before the client sees it.
    const body = events.isBase64Encoded ? Buffer.from(events.body, 'base64').toString('utf8') : events.body;
    expect(body).toMatch(new RegExp(`^retry: 1000\\n\\nevent: generation\\nid: [\\w-]+\\ndata: \\{"id":"${id}"`));
  });
});

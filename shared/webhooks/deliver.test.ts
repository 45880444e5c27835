/**
 * The deliverer against a real receiver on loopback (which verifies signatures with the
 * Standard Webhooks library), a real SQLite queue and a file store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newSecret, type Receiver, startReceiver } from '../../test/webhooks/receiver.js';
import { jobRepository } from '../adapters.js';
import { createLogger } from '../logging/index.js';
import { SqliteQueue } from '../queue/sqlite-queue.js';
import type { JobRecord } from '../schemas/job.js';
import { generationView } from '../schemas/view.js';
import { FileStore } from '../store/file-store.js';
import { WebhookDeliverer, type WebhookSettings } from './deliver.js';
import { BlockedAddressError, postWebhook } from './http-post.js';
import { readDeliveryLog, webhookDeliveries } from './log.js';
import { encodeWebhookMessage, parseWebhookMessage } from './message.js';
import { queueWebhookEvent } from './outbox.js';

const secret = newSecret();
let dir: string;
let store: FileStore;
let queue: SqliteQueue;
let receiver: Receiver;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webhooks-'));
  store = new FileStore({ root: join(dir, 'store') });
  queue = new SqliteQueue({ path: join(dir, 'queue.db'), pollIntervalMs: 10, visibilityTimeoutSeconds: 5 });
  receiver = await startReceiver(secret);
});
afterEach(async () => {
  await receiver.close();
  await queue.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function record(id: string, url: string, extra: Partial<JobRecord> = {}): JobRecord {
  const now = new Date().toISOString();
  return {
    id,
    request_id: 'req_1',
    status: 'succeeded',
    created_at: now,
    updated_at: now,
    progress: { step: 4, steps: 4 },
    params: { seed: 1, steps: 4, guidance: 1, max_tokens: 8, temperature: 0 },
    context: [],
    output: [{ type: 'text', text: 'hi' }],
    tokens_used: 1,
    webhook: { url, events: ['completed'] },
    ...extra,
  };
}

function deliverer(settings: Partial<WebhookSettings> = {}): WebhookDeliverer {
  const jobs = jobRepository(store);
  return new WebhookDeliverer({
    queue,
    store,
    jobs,
    settings: { secrets: { byTenant: {}, fallback: secret }, allowPrivate: true, retryBaseMs: 1000, timeoutMs: 2000, ...settings },
    view: async (r) => generationView(r, store, 'tiny', await webhookDeliveries(store, r)),
    logger: createLogger({ logLevel: 'silent' }),
  });
}

/** Receives the next message and hands it to the deliverer. */
async function deliverNext(d: WebhookDeliverer, waitSeconds = 3): Promise<boolean> {
  const [m] = await queue.receive({ maxMessages: 1, waitSeconds });
  if (!m) return false;
  const parsed = parseWebhookMessage(m.body);
  expect(parsed).not.toBeNull();
  await d.handle(m, parsed!);
  return true;
}

describe('webhook delivery', () => {
  it('delivers a signed completed event once, and records the attempt', async () => {
    const jobs = jobRepository(store);
    const r = await jobs.create(record('gen_a', receiver.url));
    expect(await queueWebhookEvent({ queue, store }, r, 'completed')).toBe(true);
    // Queued once: a second call (a redelivered job message) does not queue it again.
    expect(await queueWebhookEvent({ queue, store }, r, 'completed')).toBe(false);
    expect(await queueWebhookEvent({ queue, store }, r, 'start')).toBe(false); // not asked for
    const d = deliverer();
    expect(await deliverNext(d)).toBe(true);
    expect(await deliverNext(d, 0)).toBe(false);
    expect(receiver.rejected).toBe(0);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toMatchObject({
      id: 'msg_gen_a_completed',
      type: 'generation.completed',
      verified: true,
      data: { id: 'gen_a', status: 'succeeded' },
    });
    const stored = (await jobs.get('gen_a'))!;
    const view = await generationView(stored, store, 'tiny', await webhookDeliveries(store, stored));
    expect(view.webhook).toMatchObject({
      url: receiver.url,
      events: ['completed'],
      deliveries: [{ event: 'completed', attempt: 1, status_code: 204, webhook_id: 'msg_gen_a_completed' }],
    });
  });

  it('retries a failed delivery from a new, delayed queue message with the same webhook-id', async () => {
    const jobs = jobRepository(store);
    const r = await jobs.create(record('gen_b', receiver.url));
    await queueWebhookEvent({ queue, store }, r, 'completed');
    receiver.failNext(1, 503);
    const d = deliverer();
    await deliverNext(d);
    let log = await readDeliveryLog(store, 'gen_b');
    expect(log!.deliveries).toHaveLength(1);
    expect(log!.deliveries[0]).toMatchObject({ attempt: 1, status_code: 503 });
    expect(log!.deliveries[0]!.next_attempt_at).toBeDefined();
    // The retry is hidden for its backoff (1 s here), then delivered.
    expect(await queue.receive({ maxMessages: 1, waitSeconds: 0 })).toEqual([]);
    await deliverNext(d, 4);
    log = await readDeliveryLog(store, 'gen_b');
    expect(log!.deliveries.map((x) => [x.attempt, x.status_code])).toEqual([
      [1, 503],
      [2, 204],
    ]);
    expect(receiver.received.map((x) => x.id)).toEqual(['msg_gen_b_completed']);
  });

  it('a retry survives the deliverer: a fresh one (a restarted worker) picks it up', async () => {
    const jobs = jobRepository(store);
    await queueWebhookEvent({ queue, store }, await jobs.create(record('gen_r', receiver.url)), 'completed');
    receiver.failNext(1);
    await deliverNext(deliverer());
    await deliverNext(deliverer(), 4);
    expect(receiver.received).toHaveLength(1);
  });

  it("sends a message that came too early (a wait longer than SQS's 15-minute delay) on with the rest of its wait", async () => {
    const jobs = jobRepository(store);
    await jobs.create(record('gen_w', receiver.url));
    const now = Date.now();
    // As SQS would hand it over: visible now, though it is not due for another 2.5 s.
    await queue.send(
      encodeWebhookMessage({
        type: 'webhook',
        jobId: 'gen_w',
        requestId: 'r',
        event: 'completed',
        webhookId: 'msg_gen_w_completed',
        attempt: 2,
        firstQueuedAt: now,
        notBefore: now + 2500,
      }),
    );
    const d = deliverer();
    await deliverNext(d);
    expect(receiver.received).toHaveLength(0);
    expect(await readDeliveryLog(store, 'gen_w')).toBeNull(); // no attempt made
    expect(await queue.receive({ maxMessages: 1, waitSeconds: 1 })).toEqual([]);
    await deliverNext(d, 4);
    expect(receiver.received.map((r) => r.id)).toEqual(['msg_gen_w_completed']);
    expect((await readDeliveryLog(store, 'gen_w'))!.deliveries.map((x) => x.attempt)).toEqual([2]);
  });

  it('refuses a loopback receiver without WEBHOOK_ALLOW_PRIVATE, and does not retry', async () => {
    const jobs = jobRepository(store);
    await queueWebhookEvent({ queue, store }, await jobs.create(record('gen_c', receiver.url.replace('http:', 'https:'))), 'completed');
    await deliverNext(deliverer({ allowPrivate: false }));
    const log = await readDeliveryLog(store, 'gen_c');
    expect(log!.deliveries[0]).toMatchObject({ status_code: null, error: expect.stringContaining('blocked') });
    expect(log!.deliveries[0]!.next_attempt_at).toBeUndefined();
    expect(await queue.receive({ maxMessages: 1, waitSeconds: 2 })).toEqual([]);
    expect(receiver.received).toHaveLength(0);
  });

  it("signs with the tenant's own secret", async () => {
    const other = newSecret();
    const jobs = jobRepository(store);
    await queueWebhookEvent(
      { queue, store },
      await jobs.create({ ...record('gen_t', receiver.url), tenant: 'acme' } as JobRecord),
      'completed',
    );
    await deliverNext(deliverer({ secrets: { byTenant: { acme: other }, fallback: secret } }));
    // The receiver knows only the fallback secret: the tenant's signature does not verify there.
    expect(receiver.rejected).toBe(1);
    const log = await readDeliveryLog(store, 'gen_t');
    expect(log!.deliveries[0]).toMatchObject({ status_code: 400 });
  });
});

describe('the SSRF guard after DNS resolution', () => {
  it('refuses a name that resolves to a private address, before connecting', async () => {
    const resolve = async () => [{ address: '10.0.0.5', family: 4 }];
    await expect(
      postWebhook('https://hooks.example.test/x', {}, '{}', { allowPrivate: false, timeoutMs: 1000, resolve }),
    ).rejects.toBeInstanceOf(BlockedAddressError);
    const mixed = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ];
    await expect(
      postWebhook('https://hooks.example.test/x', {}, '{}', { allowPrivate: false, timeoutMs: 1000, resolve: mixed }),
    ).rejects.toThrow(/169\.254\.169\.254/);
  });

  it('connects to the address it checked (a name resolved by the guard, not again by the socket)', async () => {
    const port = new URL(receiver.url).port;
    const resolve = async (host: string) => (host === 'receiver.test' ? [{ address: '127.0.0.1', family: 4 }] : []);
    const result = await postWebhook(`http://receiver.test:${port}/hook`, {}, '{}', { allowPrivate: true, timeoutMs: 2000, resolve });
    expect(result.statusCode).toBe(400); // reached the receiver, which refuses an unsigned body
    expect(receiver.rejected).toBe(1);
  });
});

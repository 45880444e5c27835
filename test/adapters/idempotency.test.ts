/**
 * Idempotency keys and the shared rate limiter on both back ends (file store + SQLite queue,
 * S3 + SQS on the local servers): concurrent duplicate requests through the app make one
 * generation and one queue message, and concurrent hits are each counted once. What makes
 * them race-free is the store's conditional create, so this is where it is proven.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppDeps, createApp } from '../../edge/app.js';
import { jobRepository } from '../../edge/deps.js';
import { IdempotencyClaims } from '../../edge/idempotency/claims.js';
import { StoreRateLimiter } from '../../edge/rate-limit/store.js';
import { eventLoopDecoder } from '../../edge/text-decode.js';
import { apiKeys } from '../../shared/config/index.js';
import { createLogger } from '../../shared/logging/index.js';
import type { JobQueue } from '../../shared/ports/queue.js';
import type { ObjectStore } from '../../shared/ports/store.js';
import { SqliteQueue } from '../../shared/queue/sqlite-queue.js';
import { SqsQueue } from '../../shared/queue/sqs-queue.js';
import type { ModelRuntime } from '../../shared/runtime/index.js';
import { Generation } from '../../shared/schemas/index.js';
import { FileStore } from '../../shared/store/file-store.js';
import { S3Store } from '../../shared/store/s3-store.js';
import { TINY_DIR, testRegistry, tinyRuntime } from '../support/edge-deps.js';
import { awsCommon, createSqsQueuePair, resolveAwsEnv } from './aws-env.js';
import { tempDir } from './tmp-dir.js';

interface Backend {
  store: ObjectStore;
  queue: JobQueue;
  close(): Promise<void>;
}

const env = await resolveAwsEnv('idempotency on S3/SQS');

function suite(name: string, open: () => Promise<Backend>): void {
  describe(name, () => {
    let runtime: ModelRuntime;
    let backend: Backend;
    beforeAll(async () => {
      runtime = await tinyRuntime();
      backend = await open();
    });
    afterAll(async () => {
      await backend?.close();
      await runtime?.close();
    });

    function app(): ReturnType<typeof createApp> & { decodes(): number } {
      let decodes = 0;
      const deps: AppDeps = {
        models: testRegistry([{ dir: TINY_DIR, runtime }]),
        store: backend.store,
        queue: backend.queue,
        jobs: jobRepository(backend.store),
        logger: createLogger({ logLevel: 'silent' }),
        config: { apiKeys: apiKeys('acme:key-of-acme-01') },
        // The image path, which the random-weight model takes only by chance.
        textDecoder: async (model, segments, options) => {
          decodes += 1;
          const text = await eventLoopDecoder(async () => runtime)(model, segments, { ...options, maxTokens: 1 });
          return { ...text, stop: 'boi' };
        },
        idempotency: { pollMs: 10 },
      };
      return Object.assign(createApp(deps), { decodes: () => decodes });
    }

    it('makes one generation and one message of 12 concurrent duplicates', async () => {
      const a = app();
      const key = randomUUID();
      const body = JSON.stringify({ prompt: 'draw a small red circle', seed: 1 });
      const responses = await Promise.all(
        Array.from({ length: 12 }, () =>
          a.request('/v1/generations', {
            method: 'POST',
            headers: { Authorization: 'Bearer key-of-acme-01', 'Content-Type': 'application/json', 'Idempotency-Key': key },
            body,
          }),
        ),
      );
      expect(responses.map((r) => r.status).sort()).toEqual([...Array(11).fill(200), 202]);
      const ids = new Set(await Promise.all(responses.map(async (r) => Generation.parse(await r.json()).id)));
      expect(ids.size).toBe(1);
      expect(a.decodes()).toBe(1);
      const [id] = [...ids];
      const received = await backend.queue.receive({ maxMessages: 10, waitSeconds: 1 });
      const mine = received.filter((m) => JSON.parse(m.body).jobId === id);
      expect(mine).toHaveLength(1);
      for (const m of received) await backend.queue.delete(m.receiptHandle);
    });

    it('lets exactly one of many simultaneous claims of a key win', async () => {
      const claims = new IdempotencyClaims(backend.store, { pollMs: 10, maxWaitMs: 0 });
      const key = randomUUID();
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => claims.begin('acme', key, 'same-body', `gen_${i}`)));
      const won = outcomes.filter((o) => o.kind === 'claimed');
      expect(won).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'in_progress')).toHaveLength(9);
      if (won[0]?.kind === 'claimed') await claims.complete(won[0].claim);
      const generationId = won[0]?.kind === 'claimed' ? won[0].claim.generationId : '';
      expect(await claims.begin('acme', key, 'same-body', 'gen_late')).toEqual({ kind: 'replay', generationId });
      expect(await claims.begin('acme', key, 'other-body', 'gen_late')).toEqual({ kind: 'conflict' });
    });

    it('counts each of many concurrent rate-limited hits once', async () => {
      const limiter = new StoreRateLimiter(backend.store, { maxAttempts: 100 });
      const tenant = `t-${randomUUID()}`;
      const decisions = await Promise.all(Array.from({ length: 12 }, () => limiter.hit(`${tenant}/write`, 7)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(7);
    });
  });
}

suite('file store + SQLite queue', async () => {
  const tmp = tempDir('idempotency');
  const store = new FileStore({ root: `${tmp.dir}/store` });
  const queue = new SqliteQueue({ path: `${tmp.dir}/queue.db`, pollIntervalMs: 10 });
  return {
    store,
    queue,
    close: async () => {
      await queue.close();
      store.close();
      tmp.remove();
    },
  };
});

describe.skipIf(!env)('S3 + SQS (versitygw, ElasticMQ)', () => {
  suite('S3Store + SqsQueue', async () => {
    const pair = await createSqsQueuePair(env!, { visibilityTimeoutSeconds: 30, maxReceiveCount: 3 });
    const store = new S3Store({ ...awsCommon(env!), endpoint: env!.AWS_ENDPOINT_URL_S3, bucket: env!.S3_BUCKET, forcePathStyle: true });
    const queue = new SqsQueue({ ...awsCommon(env!), endpoint: env!.AWS_ENDPOINT_URL_SQS, queueUrl: pair.queueUrl });
    return {
      store,
      queue,
      close: async () => {
        await queue.close();
        store.close();
        await pair.cleanup();
      },
    };
  });
});

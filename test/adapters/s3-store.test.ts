import { describe, expect, it } from 'vitest';
import { S3Store } from '../../shared/store/s3-store.js';
import { awsCommon, resolveAwsEnv } from './aws-env.js';
import { storeContract } from './store-contract.js';

const env = await resolveAwsEnv();

describe.skipIf(!env)('S3Store against versitygw', () => {
  storeContract('S3Store', async () => {
    const store = new S3Store({
      ...awsCommon(env!),
      endpoint: env!.AWS_ENDPOINT_URL_S3,
      bucket: env!.S3_BUCKET,
      forcePathStyle: true,
      presignExpiresSeconds: 60,
    });
    return {
      store,
      fetchUrl: async (url) => {
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*X-Amz-Signature=/);
        const res = await fetch(url);
        if (!res.ok) throw new Error(`GET presigned URL: HTTP ${res.status}`);
        return new Uint8Array(await res.arrayBuffer());
      },
      cleanup: async () => store.close(),
    };
  });
  // versitygw >= 1.8.0 evaluates and publishes a conditional PUT atomically per key (versity/versitygw#2288),
  // as Amazon S3 does, so the simultaneous conditional-write tests run here too.
});

describe('S3Store config', () => {
  it('rejects a bad bucket name and a bad expiry', () => {
    expect(() => new S3Store({ bucket: 'Bad_Bucket', region: 'us-east-1' })).toThrow(/bucket/);
    expect(() => new S3Store({ bucket: 'ok-bucket', region: 'us-east-1', presignExpiresSeconds: 0 })).toThrow(/presignExpiresSeconds/);
  });
});

describe('S3Store presigned URLs', () => {
  // Presigning is local work (no request is sent), so fixed credentials and a clock suffice.
  const storeAt = (clock: { ms: number }, presignExpiresSeconds?: number) =>
    new S3Store(
      {
        bucket: 'ok-bucket',
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-test-key' },
        presignExpiresSeconds,
      },
      undefined,
      () => clock.ms,
    );
  const query = (url: string) => new URL(url).searchParams;

  it('gives the same URL for one key within a minute, signed at its start and valid a minute longer', async () => {
    const clock = { ms: Date.UTC(2026, 10, 30, 12, 0, 5) };
    const store = storeAt(clock, 3600);
    const first = await store.urlFor('outputs/gen_a/0.png');
    clock.ms = Date.UTC(2026, 10, 30, 12, 0, 59, 999);
    expect(await store.urlFor('outputs/gen_a/0.png')).toBe(first);
    expect(query(first).get('X-Amz-Date')).toBe('20261130T120000Z');
    expect(query(first).get('X-Amz-Expires')).toBe('3660');
    clock.ms = Date.UTC(2026, 10, 30, 12, 1, 0);
    const next = await store.urlFor('outputs/gen_a/0.png');
    expect(next).not.toBe(first);
    expect(query(next).get('X-Amz-Date')).toBe('20261130T120100Z');
    expect(await store.urlFor('outputs/gen_b/0.png')).not.toBe(next);
  });

  it('never asks S3 for more than its 7-day limit', async () => {
    const store = storeAt({ ms: Date.UTC(2026, 10, 30, 12, 0, 30) }, 604_800);
    expect(query(await store.urlFor('outputs/gen_a/0.png')).get('X-Amz-Expires')).toBe('604800');
  });
});

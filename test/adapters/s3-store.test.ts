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

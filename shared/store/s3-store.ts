/**
 * The object store on Amazon S3 (or an S3-compatible server such as versitygw).
 * Conditional writes use S3's own If-None-Match / If-Match on PutObject, so a redelivered
 * job cannot overwrite a record another worker wrote. Image URLs are presigned GETs: the
 * client fetches the bytes from S3 directly and the edge never proxies large bodies. They are
 * signed at the start of the current minute (and valid a minute longer), as the local store's
 * URLs are rounded: a generation read twice within a minute gives the same URL, so a browser's
 * cache holds and a poll equals the live event it follows.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { z } from 'zod';
import { type ObjectStore, PreconditionFailedError, type PutOptions, type StoredObject } from '../ports/store.js';
import { AwsClientConfig, awsClientOptions } from './aws-config.js';
import { assertValidKey, URL_SIGNING_ROUND_SECONDS } from './keys.js';

export const S3StoreConfig = AwsClientConfig.extend({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name'),
  /** Path-style URLs (http://host/bucket/key): needed by most local S3 servers. */
  forcePathStyle: z.boolean().default(false),
  /** Lifetime of presigned GET URLs. S3 allows at most 7 days. */
  presignExpiresSeconds: z.number().int().min(1).max(604_800).default(3600),
}).strict();
export type S3StoreConfig = z.input<typeof S3StoreConfig>;

/** S3's limit on a presigned URL's lifetime (SigV4: 7 days). */
const MAX_PRESIGN_SECONDS = 604_800;
const ROUND_MS = URL_SIGNING_ROUND_SECONDS * 1000;

export class S3Store implements ObjectStore {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly presignExpiresSeconds: number;
  private readonly now: () => number;

  /** Pass `client` to share one S3Client (it is then not destroyed on close); `now` is the clock URLs are signed by. */
  constructor(config: S3StoreConfig, client?: S3Client, now: () => number = Date.now) {
    this.now = now;
    const c = S3StoreConfig.parse(config);
    this.bucket = c.bucket;
    this.presignExpiresSeconds = c.presignExpiresSeconds;
    const options: S3ClientConfig = { ...awsClientOptions(c, 's3'), forcePathStyle: c.forcePathStyle };
    this.client = client ?? new S3Client(options);
    this.ownsClient = client === undefined;
  }

  async put(key: string, body: Uint8Array, options: PutOptions): Promise<{ etag: string }> {
    assertValidKey(key);
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: options.contentType,
          IfNoneMatch: options.ifNoneMatch,
          IfMatch: options.ifMatch,
        }),
      );
      if (!out.ETag) throw new Error(`S3 PutObject for ${key} returned no ETag`);
      return { etag: out.ETag };
    } catch (err) {
      // 412: the condition failed. 409 ConditionalRequestConflict: a concurrent conditional
      // write to the same key won the race. Either way this write did not happen.
      const status = httpStatus(err);
      if (status === 412 || status === 409 || errorName(err) === 'PreconditionFailed') {
        throw new PreconditionFailedError(key);
      }
      // If-Match on a key that does not exist: S3 answers 404 NoSuchKey.
      if (options.ifMatch !== undefined && (status === 404 || errorName(err) === 'NoSuchKey')) {
        throw new PreconditionFailedError(key);
      }
      throw err;
    }
  }

  async get(key: string): Promise<StoredObject | null> {
    assertValidKey(key);
    // A read that races an overwrite can pair one version's body with the other's checksum
    // on some S3-compatible servers; the SDK rejects it and a fresh read is consistent.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.getOnce(key);
      } catch (err) {
        if (attempt >= 3 || !/checksum mismatch/i.test((err as Error).message ?? '')) throw err;
      }
    }
  }

  private async getOnce(key: string): Promise<StoredObject | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) throw new Error(`S3 GetObject for ${key} returned no body`);
      const body = await out.Body.transformToByteArray();
      return { body, etag: out.ETag ?? '', contentType: out.ContentType ?? 'application/octet-stream' };
    } catch (err) {
      if (errorName(err) === 'NoSuchKey' || httpStatus(err) === 404) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async urlFor(key: string): Promise<string> {
    assertValidKey(key);
    const signingDate = new Date(Math.floor(this.now() / ROUND_MS) * ROUND_MS);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      signingDate,
      // The minute already gone since signingDate is given back, within S3's limit.
      expiresIn: Math.min(this.presignExpiresSeconds + URL_SIGNING_ROUND_SECONDS, MAX_PRESIGN_SECONDS),
    });
  }

  close(): void {
    if (this.ownsClient) this.client.destroy();
  }
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function errorName(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

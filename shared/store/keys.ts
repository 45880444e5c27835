/**
 * Object keys as both stores accept them: '/'-separated segments of URL-safe characters.
 * A segment may not start with '.', which keeps `..` out and leaves dot-names free for
 * the file store's own bookkeeping.
 */
/**
 * Signed output URLs (S3's presigned ones and the local store's) are rounded to this many
 * seconds, so that a generation read twice within it gives the same URL and a cache holds.
 */
export const URL_SIGNING_ROUND_SECONDS = 60;

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._=-]*$/;
const MAX_KEY_LENGTH = 1024;

export class InvalidKeyError extends Error {
  constructor(key: string, why: string) {
    super(`invalid object key ${JSON.stringify(key)}: ${why}`);
    this.name = 'InvalidKeyError';
  }
}

export function assertValidKey(key: string): void {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw new InvalidKeyError(key, `length must be 1..${MAX_KEY_LENGTH}`);
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment)) throw new InvalidKeyError(key, 'segments are [A-Za-z0-9_-][A-Za-z0-9._=-]*');
  }
}

/** `/v1/files/<key>` with each segment escaped: what the edge serves for the local store. */
export function localFileUrl(key: string): string {
  return `/v1/files/${key.split('/').map(encodeURIComponent).join('/')}`;
}

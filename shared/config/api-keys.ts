/**
 * API_KEYS entries: `tenant:key` (the key belongs to that tenant) or a bare `key` (its own
 * tenant). Parsed once at start into tenants and SHA-256 digests: the raw keys are not kept
 * in the configuration, and the edge compares digests in constant time.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** A tenant's name in `tenant:key`; also a path segment of the store (idempotency, rate limits). */
export const TENANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** 8-256 printable ASCII characters, no spaces or commas. */
const KEY = /^[\x21-\x2b\x2d-\x7e]{8,256}$/;

export interface ApiKey {
  /** The tenant that owns what this key creates. Named tenants match TENANT_NAME; a bare key's is `_key-<digest prefix>`. */
  readonly tenant: string;
  /** SHA-256 of the key, hex. */
  readonly digest: string;
}

export function keyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * One entry. The first ':' separates the tenant when what comes before it is a tenant name;
 * otherwise the whole entry is a bare key. Throws with a message that never echoes the key.
 */
export function parseApiKey(entry: string): ApiKey {
  const colon = entry.indexOf(':');
  const named = colon > 0 && TENANT_NAME.test(entry.slice(0, colon));
  const key = named ? entry.slice(colon + 1) : entry;
  if (!KEY.test(key)) throw new Error('each key must be 8-256 printable characters without spaces or commas');
  const digest = keyDigest(key);
  // A leading '_' cannot start a named tenant, so a bare key's tenant never collides with one.
  return { tenant: named ? entry.slice(0, colon) : `_key-${digest.slice(0, 16)}`, digest };
}

/** The API_KEYS variable: comma-separated entries, blanks ignored, each key listed once. */
export const ApiKeysSchema = z.string().transform((s, ctx): ApiKey[] => {
  const keys: ApiKey[] = [];
  for (const [i, raw] of s.split(',').entries()) {
    const entry = raw.trim();
    if (entry.length === 0) continue;
    try {
      keys.push(parseApiKey(entry));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1}: ${(err as Error).message}` });
      return z.NEVER;
    }
  }
  const digests = new Set(keys.map((k) => k.digest));
  if (digests.size !== keys.length) {
    ctx.addIssue({ code: 'custom', message: 'a key is listed twice (one key may belong to one tenant only)' });
    return z.NEVER;
  }
  return keys;
});

/** For tests and scripts: `apiKeys('acme:key-1234567', 'bare-key-123')`. */
export function apiKeys(...entries: string[]): ApiKey[] {
  return entries.map(parseApiKey);
}

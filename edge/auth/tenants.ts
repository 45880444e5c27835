/**
 * Who is calling: the tenant of the bearer key. Keys are known only as SHA-256 digests
 * (shared/config/api-keys.ts); the given key's digest is compared with every one of them by
 * timingSafeEqual, without stopping at a match, so the time taken says nothing about which
 * key or how close a guess was.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../../shared/config/index.js';

/** The tenant of a server without API_KEYS (loopback only). No named tenant can be called this. */
export const LOCAL_TENANT = '_local';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export type AuthResult = { ok: true; tenant: string } | { ok: false; reason: 'missing' | 'invalid' };

export class Authenticator {
  private readonly keys: readonly { tenant: string; digest: Buffer }[];

  constructor(keys: readonly ApiKey[]) {
    this.keys = keys.map((k) => ({ tenant: k.tenant, digest: Buffer.from(k.digest, 'hex') }));
  }

  /** Whether keys are configured (else every caller is LOCAL_TENANT). */
  get required(): boolean {
    return this.keys.length > 0;
  }

  /** The tenant of an Authorization header's bearer key. */
  authenticate(authorization: string | undefined): AuthResult {
    if (!this.required) return { ok: true, tenant: LOCAL_TENANT };
    const match = BEARER.exec(authorization ?? '');
    if (!match) return { ok: false, reason: 'missing' };
    const given = createHash('sha256').update(match[1]!, 'utf8').digest();
    let tenant: string | undefined;
    for (const key of this.keys) {
      const equal = timingSafeEqual(key.digest, given);
      if (equal) tenant = key.tenant; // no break: every key is compared
    }
    return tenant === undefined ? { ok: false, reason: 'invalid' } : { ok: true, tenant };
  }
}

/** Whether a job record belongs to `tenant` (records from before tenants belong to LOCAL_TENANT). */
export function ownedBy(record: { tenant?: string | undefined }, tenant: string): boolean {
  return (record.tenant ?? LOCAL_TENANT) === tenant;
}

/**
 * Idempotency keys, race-free on the object store alone. A (tenant, key) pair owns one claim
 * object, `idempotency/<tenant>/<sha256(key)>.json`, created with a conditional create
 * (If-None-Match: *), so of any number of concurrent requests with one key, on any number of
 * edge instances, exactly one wins and the rest find its claim. The claim fixes the
 * generation id before any work starts; every later step (taking over an abandoned claim,
 * the job record's own conditional create) reuses that id, so one key can never make two
 * generations.
 *
 * A claim is `pending` while its request works, `done` after, `failed` when the request
 * failed before its generation existed (the key is then free again: a retry runs anew, with
 * the same body or a corrected one). A request that finds
 * another's pending claim waits for it; a pending claim not touched for `staleMs` (its
 * request died) is taken over. After `ttlMs` (24 h) the key may be used afresh.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type ObjectStore, PreconditionFailedError } from '../../shared/ports/store.js';
import { sleep } from '../../shared/queue/sleep.js';

const ClaimRecord = z
  .object({
    fingerprint: z.string().min(1),
    generation_id: z.string().min(1),
    state: z.enum(['pending', 'done', 'failed']),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .strict();
type ClaimRecord = z.infer<typeof ClaimRecord>;

export interface Claim {
  readonly key: string;
  readonly generationId: string;
  /** The claim was another request's, abandoned or stale: its generation may exist already. */
  readonly takeover: boolean;
  readonly record: ClaimRecord;
  readonly etag: string;
}

export type ClaimOutcome =
  /** This request does the work, then calls complete() or abandon(). */
  | { kind: 'claimed'; claim: Claim }
  /** An earlier request with this key and body finished: answer with its generation. */
  | { kind: 'replay'; generationId: string }
  /** The key was used with another operation or body. */
  | { kind: 'conflict' }
  /** Another request with this key is still working after `maxWaitMs`. */
  | { kind: 'in_progress' };

export interface IdempotencyOptions {
  /** How long a key is remembered (24 h). */
  ttlMs?: number;
  /** A pending claim older than this is another request that died: take it over. */
  staleMs?: number;
  /** How long to wait for another request with the same key before answering in_progress. */
  maxWaitMs?: number;
  /** How often a waiting request looks at the claim again. */
  pollMs?: number;
  now?: () => number;
}

const JSON_TYPE = 'application/json';
const encode = (r: ClaimRecord) => new TextEncoder().encode(JSON.stringify(r));

export function claimKey(tenant: string, idempotencyKey: string): string {
  return `idempotency/${tenant}/${createHash('sha256').update(idempotencyKey, 'utf8').digest('base64url')}.json`;
}

export class IdempotencyClaims {
  private readonly ttlMs: number;
  private readonly staleMs: number;
  private readonly maxWaitMs: number;
  private readonly pollMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: ObjectStore,
    options: IdempotencyOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 24 * 3600 * 1000;
    this.staleMs = options.staleMs ?? 60_000;
    this.maxWaitMs = options.maxWaitMs ?? 20_000;
    this.pollMs = options.pollMs ?? 100;
    this.now = options.now ?? Date.now;
  }

  /**
   * Claims `idempotencyKey` of `tenant` for a request with `print` (./fingerprint.ts) that
   * would create generation `proposedId`.
   */
  async begin(tenant: string, idempotencyKey: string, print: string, proposedId: string): Promise<ClaimOutcome> {
    const key = claimKey(tenant, idempotencyKey);
    const started = this.now();
    // A key is usually new: try to create its claim before reading (one round trip, not two).
    let existing: { record: ClaimRecord; etag: string } | null = null;
    for (let first = true; ; first = false) {
      if (!first) existing = await this.read(key);
      const at = new Date(this.now()).toISOString();
      if (!existing) {
        const record: ClaimRecord = { fingerprint: print, generation_id: proposedId, state: 'pending', created_at: at, updated_at: at };
        const etag = await this.swap(key, record, { ifNoneMatch: '*' });
        if (etag) return { kind: 'claimed', claim: { key, generationId: proposedId, takeover: false, record, etag } };
        continue; // another request created it first: read theirs
      }
      const { record: current, etag: currentEtag } = existing;
      // Expired, or failed before its generation existed: the key is free for any request.
      if (current.state === 'failed' || Date.parse(current.created_at) + this.ttlMs <= this.now()) {
        const record: ClaimRecord = { fingerprint: print, generation_id: proposedId, state: 'pending', created_at: at, updated_at: at };
        const etag = await this.swap(key, record, { ifMatch: currentEtag });
        if (etag) return { kind: 'claimed', claim: { key, generationId: proposedId, takeover: false, record, etag } };
        continue;
      }
      if (current.fingerprint !== print) return { kind: 'conflict' };
      if (current.state === 'done') return { kind: 'replay', generationId: current.generation_id };
      if (Date.parse(current.updated_at) + this.staleMs <= this.now()) {
        const record: ClaimRecord = { ...current, state: 'pending', updated_at: at };
        const etag = await this.swap(key, record, { ifMatch: currentEtag });
        if (etag) return { kind: 'claimed', claim: { key, generationId: current.generation_id, takeover: true, record, etag } };
        continue;
      }
      if (this.now() - started >= this.maxWaitMs) return { kind: 'in_progress' };
      await sleep(this.pollMs);
    }
  }

  /** The work is done: later requests with the key replay it. */
  complete(claim: Claim): Promise<void> {
    return this.finish(claim, 'done');
  }

  /** The work failed before its generation existed: a retry with the key runs it again. */
  abandon(claim: Claim): Promise<void> {
    return this.finish(claim, 'failed');
  }

  private async finish(claim: Claim, state: 'done' | 'failed'): Promise<void> {
    // Lost swap: the claim was taken over meanwhile; whoever holds it now finishes it.
    await this.swap(claim.key, { ...claim.record, state, updated_at: new Date(this.now()).toISOString() }, { ifMatch: claim.etag });
  }

  /** A conditional write; the new etag, or null when the condition failed. */
  private async swap(key: string, record: ClaimRecord, condition: { ifNoneMatch: '*' } | { ifMatch: string }): Promise<string | null> {
    try {
      return (await this.store.put(key, encode(record), { contentType: JSON_TYPE, ...condition })).etag;
    } catch (err) {
      if (err instanceof PreconditionFailedError) return null;
      throw err;
    }
  }

  private async read(key: string): Promise<{ record: ClaimRecord; etag: string } | null> {
    const object = await this.store.get(key);
    if (!object) return null;
    return { record: ClaimRecord.parse(JSON.parse(new TextDecoder().decode(object.body))), etag: object.etag };
  }
}

/**
 * The object store port (S3 semantics). Keys are '/'-separated paths under fixed
 * prefixes: `jobs/`, `inputs/`, `outputs/`. Writes that must happen once use
 * conditional requests so that a redelivered job is harmless.
 */
export interface StoredObject {
  readonly body: Uint8Array;
  readonly etag: string;
  readonly contentType: string;
}

export class PreconditionFailedError extends Error {
  constructor(key: string) {
    super(`precondition failed for ${key}`);
    this.name = 'PreconditionFailedError';
  }
}

export interface PutOptions {
  contentType: string;
  /** Create only: fails with PreconditionFailedError when the key exists. */
  ifNoneMatch?: '*';
  /** Replace only this version: fails with PreconditionFailedError when the etag differs. */
  ifMatch?: string;
}

export interface ObjectStore {
  put(key: string, body: Uint8Array, options: PutOptions): Promise<{ etag: string }>;
  get(key: string): Promise<StoredObject | null>;
  delete(key: string): Promise<void>;
  /**
   * A URL that fetches the object: a presigned URL for S3, or a path served by the edge
   * (`/v1/files/<key>`) for the local store.
   */
  urlFor(key: string): Promise<string>;
}

/**
 * An ObjectStore that passes every call to another and calls `afterPut` after each write
 * that succeeded: how tests and benchmarks watch job records change without polling.
 */
import type { ObjectStore, PutOptions, StoredObject } from '../ports/store.js';

export abstract class ObservedStore implements ObjectStore {
  constructor(protected readonly inner: ObjectStore) {}

  /** Called once per successful put, after the inner store has it. */
  protected abstract afterPut(key: string, body: Uint8Array): void;

  async put(key: string, body: Uint8Array, options: PutOptions): Promise<{ etag: string }> {
    const out = await this.inner.put(key, body, options);
    this.afterPut(key, body);
    return out;
  }
  get(key: string): Promise<StoredObject | null> {
    return this.inner.get(key);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  urlFor(key: string): Promise<string> {
    return this.inner.urlFor(key);
  }
}

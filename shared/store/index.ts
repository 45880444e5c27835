/**
 * Picks the object store from configuration: `file` (embedded default) or `s3`.
 */
import { z } from 'zod';
import type { ObjectStore } from '../ports/store.js';
import { FileStore, FileStoreConfig } from './file-store.js';
import { S3Store, S3StoreConfig } from './s3-store.js';

export { S3Store } from './s3-store.js';

export const StoreConfig = z.discriminatedUnion('kind', [
  FileStoreConfig.extend({ kind: z.literal('file') }),
  S3StoreConfig.extend({ kind: z.literal('s3') }),
]);
export type StoreConfig = z.input<typeof StoreConfig>;

/** An ObjectStore that can release its resources. */
export type ClosableStore = ObjectStore & { close(): void };

/** Validates `config` (throws a ZodError naming the bad field) and opens the store. */
export function openStore(config: StoreConfig): ClosableStore {
  const c = StoreConfig.parse(config);
  if (c.kind === 'file') {
    const { kind: _, ...rest } = c;
    return new FileStore(rest);
  }
  const { kind: _, ...rest } = c;
  return new S3Store(rest);
}

/** Real dependencies for the edge's tests: the tiny model package, a file store and a SQLite queue in a temp dir. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../shared/logging/index.js';
import { SqliteQueue } from '../shared/queue/sqlite-queue.js';
import { createRuntime, type ModelRuntime, type OnnxModelRuntime } from '../shared/runtime/index.js';
import { FileStore } from '../shared/store/file-store.js';
import type { AppDeps } from './app.js';
import { jobRepository } from './deps.js';
import { eventLoopDecoder } from './text-decode.js';

export const TINY_DIR = fileURLToPath(new URL('../packages/tiny/', import.meta.url));

export async function tinyRuntime(): Promise<OnnxModelRuntime> {
  return createRuntime(TINY_DIR, { executionProvider: 'cpu', intraOpThreads: 1 });
}

export interface TestDeps extends AppDeps {
  store: FileStore;
  queue: SqliteQueue;
  dir: string;
  cleanup(): Promise<void>;
}

/** Fresh store and queue around a shared runtime (loading the model once per file is enough), decoding on the event loop. */
export function testDeps(runtime: ModelRuntime, overrides: Partial<Omit<AppDeps, 'store' | 'queue'>> = {}): TestDeps {
  const dir = mkdtempSync(join(tmpdir(), 'edge-test-'));
  const store = new FileStore({ root: join(dir, 'store') });
  const queue = new SqliteQueue({ path: join(dir, 'queue.db'), pollIntervalMs: 10 });
  return {
    model: runtime,
    textDecoder: eventLoopDecoder(runtime),
    store,
    queue,
    jobs: jobRepository(store),
    logger: createLogger({ logLevel: 'silent' }),
    config: { apiKeys: [] },
    dir,
    ...overrides,
    async cleanup() {
      await queue.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

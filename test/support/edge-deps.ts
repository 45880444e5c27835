/** Real dependencies for the edge's tests: the tiny model package, a file store and a SQLite queue in a temp dir. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppDeps } from '../../edge/app.js';
import { jobRepository } from '../../edge/deps.js';
import { eventLoopDecoder } from '../../edge/text-decode.js';
import { createLogger } from '../../shared/logging/index.js';
import { ModelRegistry, servedModel } from '../../shared/models/index.js';
import { SqliteQueue } from '../../shared/queue/sqlite-queue.js';
import { createRuntime, type ModelRuntime, type OnnxModelRuntime } from '../../shared/runtime/index.js';
import { FileStore } from '../../shared/store/file-store.js';

export const TINY_DIR = fileURLToPath(new URL('../../packages/tiny/', import.meta.url));

export async function tinyRuntime(): Promise<OnnxModelRuntime> {
  return createRuntime(TINY_DIR, { executionProvider: 'cpu', intraOpThreads: 1 });
}

export interface TestDeps extends AppDeps {
  store: FileStore;
  queue: SqliteQueue;
  dir: string;
  cleanup(): Promise<void>;
}

/** A model for testDeps: a runtime and the package folder it was opened from. */
export interface TestModel {
  dir: string;
  runtime: ModelRuntime;
}

/** A registry of already opened runtimes, the first the default. */
export function testRegistry(models: readonly TestModel[]): ModelRegistry {
  return new ModelRegistry(
    models.map((m, i) =>
      servedModel(m.dir, m.runtime, { isDefault: i === 0, created: Math.floor(statSync(join(m.dir, 'manifest.json')).mtimeMs / 1000) }),
    ),
  );
}

/**
 * Fresh store and queue around shared runtimes (loading a model once per file is enough),
 * decoding on the event loop. One runtime is packages/tiny's; several are given with their folders.
 */
export function testDeps(
  runtime: ModelRuntime | readonly TestModel[],
  overrides: Partial<Omit<AppDeps, 'store' | 'queue'>> = {},
): TestDeps {
  const served: readonly TestModel[] = 'manifest' in runtime ? [{ dir: TINY_DIR, runtime }] : runtime;
  const models = testRegistry(served);
  const byName = new Map(models.names.map((name, i) => [name, served[i]!.runtime]));
  const dir = mkdtempSync(join(tmpdir(), 'edge-test-'));
  const store = new FileStore({ root: join(dir, 'store') });
  const queue = new SqliteQueue({ path: join(dir, 'queue.db'), pollIntervalMs: 10 });
  return {
    models,
    textDecoder: eventLoopDecoder(async (name) => {
      const found = byName.get(name);
      if (!found) throw new Error(`no test runtime for model ${name}`);
      return found;
    }),
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

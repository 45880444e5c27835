/**
 * The lifecycle every in-process app test file shares: packages/tiny opened once for the file
 * (loading a model per test would dominate the suite), fresh deps (a new store and queue in a
 * temp dir) whenever a test asks, removed after that test. Call it at a file's (or a describe
 * block's) top level: it registers the vitest hooks there.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { AppDeps } from '../../edge/app.js';
import type { OnnxModelRuntime, TextStop } from '../../shared/runtime/index.js';
import { type TestDeps, testDeps, tinyRuntime } from './edge-deps.js';

export type DepsOverrides = Partial<Omit<AppDeps, 'store' | 'queue'>>;

export interface TinyFixture {
  /** packages/tiny's runtime, open from the first test to the last. */
  readonly runtime: OnnxModelRuntime;
  /** Fresh deps around the runtime; cleaned up after the current test. */
  deps(overrides?: DepsOverrides): TestDeps;
  /** A text decoder that answers `text` and stops with `stop` without running the graph. */
  decodeTo(text: string, stop: TextStop): AppDeps['textDecoder'];
}

export function tinyFixture(): TinyFixture {
  let runtime: OnnxModelRuntime | undefined;
  const opened: TestDeps[] = [];
  beforeAll(async () => {
    runtime = await tinyRuntime();
  });
  afterAll(async () => {
    await runtime?.close();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.cleanup()));
  });
  const open = (): OnnxModelRuntime => {
    if (!runtime) throw new Error('tinyFixture: the runtime opens in beforeAll; use it inside a test or hook');
    return runtime;
  };
  return {
    get runtime() {
      return open();
    },
    deps(overrides = {}) {
      const deps = testDeps(open(), overrides);
      opened.push(deps);
      return deps;
    },
    decodeTo(text, stop) {
      return async () => ({ ids: open().tokenizer.encode(text), text, stop });
    },
  };
}

/**
 * The in-process app most edge test files drive: fresh deps around packages/tiny and an app
 * over them for each test (cleaned up after it), requests through app.request (no socket).
 * Call it at a file's top level: it registers tinyFixture's vitest hooks there.
 */
import { createApp } from '../../edge/app.js';
import type { TestDeps } from './edge-deps.js';
import { type DepsOverrides, type TinyFixture, tinyFixture } from './tiny-fixture.js';

export type TestApp = ReturnType<typeof createApp>;

export interface AppFixture {
  /** packages/tiny's runtime and decodeTo. */
  readonly tiny: TinyFixture;
  /** Fresh deps (the file's defaults, then `overrides`) and an app over them. */
  setup(overrides?: DepsOverrides): void;
  /** The current test's deps and app (after setup). */
  readonly deps: TestDeps;
  readonly app: TestApp;
  /** POST `body` as JSON; a string is sent as it is (a malformed body). */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
}

export function appFixture(defaults: (tiny: TinyFixture) => DepsOverrides = () => ({})): AppFixture {
  const tiny = tinyFixture();
  let current: { deps: TestDeps; app: TestApp } | undefined;
  const now = () => {
    if (!current) throw new Error('appFixture: call setup() in the test first');
    return current;
  };
  return {
    tiny,
    setup(overrides = {}) {
      const deps = tiny.deps({ ...defaults(tiny), ...overrides });
      current = { deps, app: createApp(deps) };
    },
    get deps() {
      return now().deps;
    },
    get app() {
      return now().app;
    },
    async post(path, body, headers = {}) {
      return now().app.request(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
  };
}

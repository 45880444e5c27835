import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../shared/store/file-store.js';
import { buildRateLimiter, urlSigningSecret } from './deps.js';
import { MemoryRateLimiter } from './rate-limit/memory.js';
import { StoreRateLimiter } from './rate-limit/store.js';

const dirs: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-deps-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('urlSigningSecret', () => {
  it('uses URL_SIGNING_SECRET when set', () => {
    expect(urlSigningSecret({ urlSigningSecret: 's'.repeat(32), dataDir: '/nonexistent' })).toBe('s'.repeat(32));
  });

  it('else makes a random key once in DATA_DIR, private, and reads the same one after a restart', () => {
    const dataDir = join(temp(), 'data');
    const first = urlSigningSecret({ dataDir });
    expect(first).toHaveLength(32);
    expect(statSync(join(dataDir, 'url-signing.key')).mode & 0o777).toBe(0o600);
    expect(Buffer.from(urlSigningSecret({ dataDir })).equals(Buffer.from(first))).toBe(true);
  });
});

describe('buildRateLimiter', () => {
  it('counts in memory for the local store, in the store for S3, and not at all without a limit', () => {
    const store = new FileStore({ root: temp() });
    expect(buildRateLimiter({ store: 'file', rateLimitPerMinute: 5 }, store)).toBeInstanceOf(MemoryRateLimiter);
    expect(buildRateLimiter({ store: 's3', rateLimitPerMinute: 5 }, store)).toBeInstanceOf(StoreRateLimiter);
    expect(buildRateLimiter({ store: 's3' }, store)).toBeUndefined();
    store.close();
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../shared/store/file-store.js';
import { jobIdOfKey, TellingStore } from './telling-store.js';

describe('the telling store (a pool worker tells the edge of its job writes)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    dirs.splice(0).forEach((d) => {
      rmSync(d, { recursive: true, force: true });
    });
  });

  it('tells each job record written, after it is stored, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'telling-'));
    dirs.push(dir);
    const files = new FileStore({ root: dir });
    const told: string[] = [];
    const store = new TellingStore(files, (id) => void told.push(id));
    const body = new TextEncoder().encode('{}');
    await store.put('jobs/gen_1.json', body, { contentType: 'application/json' });
    await store.put('jobs/gen_1.cancel', body, { contentType: 'application/json' });
    await store.put('outputs/gen_1/0.png', body, { contentType: 'image/png' });
    expect(told).toEqual(['gen_1']);
    expect(await files.get('jobs/gen_1.json')).not.toBeNull();
    files.close();
  });

  it('reads the job id of a record key only', () => {
    expect(jobIdOfKey('jobs/gen_abc-_1.json')).toBe('gen_abc-_1');
    expect(jobIdOfKey('jobs/gen_1.cancel')).toBeUndefined();
    expect(jobIdOfKey('webhooks/gen_1.json')).toBeUndefined();
    expect(jobIdOfKey('jobs/a/b.json')).toBeUndefined();
  });
});

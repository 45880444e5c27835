import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStore } from '../../shared/store/file-store.js';
import { storeContract } from './store-contract.js';
import { tempDir } from './tmp-dir.js';

storeContract('FileStore', async () => {
  const tmp = tempDir('file-store');
  const store = new FileStore({ root: tmp.dir });
  return {
    store,
    // What the edge does for /v1/files/<key>: read the key back from the store.
    fetchUrl: async (url) => {
      expect(url).toMatch(/^\/v1\/files\//);
      const key = url.slice('/v1/files/'.length).split('/').map(decodeURIComponent).join('/');
      const obj = await store.get(key);
      if (!obj) throw new Error(`404 ${url}`);
      return obj.body;
    },
    cleanup: async () => {
      store.close();
      tmp.remove();
    },
  };
});

describe('FileStore specifics', () => {
  it('serves local URLs under /v1/files with escaped segments', async () => {
    const tmp = tempDir('file-store');
    const store = new FileStore({ root: tmp.dir });
    expect(await store.urlFor('outputs/j1/image-0.png')).toBe('/v1/files/outputs/j1/image-0.png');
    store.close();
    tmp.remove();
  });

  it('sees objects written by another instance on the same root', async () => {
    const tmp = tempDir('file-store');
    const a = new FileStore({ root: join(tmp.dir, 'root') });
    const b = new FileStore({ root: join(tmp.dir, 'root') });
    const { etag } = await a.put('jobs/x.json', new TextEncoder().encode('{}'), { contentType: 'application/json' });
    expect((await b.get('jobs/x.json'))?.etag).toBe(etag);
    await expect(b.put('jobs/x.json', new Uint8Array(), { contentType: 'application/json', ifNoneMatch: '*' })).rejects.toThrow(
      /precondition/,
    );
    a.close();
    b.close();
    tmp.remove();
  });

  it('writes into a folder that was removed behind its back, and leaves no temporary file', async () => {
    const tmp = tempDir('file-store');
    const store = new FileStore({ root: tmp.dir });
    await store.put('outputs/j1/a.png', new Uint8Array([1]), { contentType: 'image/png' });
    rmSync(join(tmp.dir, 'objects', 'outputs'), { recursive: true });
    await store.put('outputs/j1/b.png', new Uint8Array([2]), { contentType: 'image/png' });
    expect((await store.get('outputs/j1/b.png'))?.body).toEqual(new Uint8Array([2]));
    await expect(store.put('outputs/j1/b.png', new Uint8Array([3]), { contentType: 'image/png', ifNoneMatch: '*' })).rejects.toThrow(
      /precondition/,
    );
    expect(readdirSync(join(tmp.dir, '.tmp'))).toEqual([]);
    store.close();
    tmp.remove();
  });
});

/**
 * No tracked file under packages/ or model/ is over 30 MB: every version of a large file stays
 * in the clone's history for good (issue 29: 347 MB of superseded weights), so a package must
 * keep its graphs small (model/packaging/compact.py) and checkpoints stay out of git.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../adapters/tmp-dir.js';

const REPO = resolve(import.meta.dirname, '../..');
const LIMIT_BYTES = 30_000_000;

/** Tracked files under `folders` of the repository at `root` larger than `limit` bytes, with their sizes. */
function oversized(root: string, folders: string[], limit: number): { path: string; bytes: number }[] {
  const listed = execFileSync('git', ['ls-files', '-z', '--', ...folders], { cwd: root, encoding: 'utf8' });
  return listed
    .split('\0')
    .filter((path) => path && existsSync(join(root, path))) // a tracked file deleted here is not committed as is
    .map((path) => ({ path, bytes: statSync(join(root, path)).size }))
    .filter((file) => file.bytes > limit);
}

describe('tracked file sizes', () => {
  it('no tracked file under packages/ or model/ is over 30 MB', () => {
    expect(oversized(REPO, ['packages', 'model'], LIMIT_BYTES)).toEqual([]);
  });

  it('finds a tracked file over the limit, in the folders named only, and ignores untracked ones', () => {
    const { dir, remove } = tempDir('tracked-sizes');
    try {
      const write = (path: string, bytes: number) => {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), Buffer.alloc(bytes));
      };
      execFileSync('git', ['init', '-q'], { cwd: dir });
      write('packages/m/model.onnx', 11);
      write('packages/m/small.json', 10);
      write('other/big.bin', 11);
      execFileSync('git', ['add', '.'], { cwd: dir });
      write('model/runs/ckpt.pt', 11); // not added: untracked
      expect(oversized(dir, ['packages', 'model'], 10)).toEqual([{ path: 'packages/m/model.onnx', bytes: 11 }]);
    } finally {
      remove();
    }
  });
});

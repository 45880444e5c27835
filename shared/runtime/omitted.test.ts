/**
 * omitted.json: a folder that leaves listed files out on purpose (the edge's Lambda bundle)
 * loads, a broken one still does not, and opening a left-out graph says why it is absent.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasTiny, TINY_DIR } from '../../test/support/tiny-package.js';
import { loadPackage } from './manifest.js';
import { OMITTED_FILE } from './omitted.js';
import { createRuntime } from './session.js';

describe.skipIf(!hasTiny)('omitted.json', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'omitted-'));
    // The tiny package without golden.json, which its manifest lists.
    for (const name of ['manifest.json', 'tokenizer.json', 'model.onnx']) await copyFile(join(TINY_DIR, name), join(dir, name));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const omit = (files: string[]) => writeFile(join(dir, OMITTED_FILE), JSON.stringify({ omitted: files, reason: 'test' }));

  it('is needed: a listed file that is absent fails the package', async () => {
    await expect(loadPackage(dir)).rejects.toThrow(/golden\.json is missing/);
  });

  it('lets a folder leave listed files out, and says which', async () => {
    await omit(['golden.json']);
    const pkg = await loadPackage(dir);
    expect(pkg.omitted).toEqual(['golden.json']);
  });

  it('still checks every file it keeps', async () => {
    await omit(['golden.json']);
    await writeFile(join(dir, 'model.onnx'), 'not the graph');
    await expect(loadPackage(dir)).rejects.toThrow(/model\.onnx has \d+ bytes/);
  });

  it('never lets the tokenizer go, and refuses a malformed file', async () => {
    await omit(['tokenizer.json', 'golden.json']);
    await expect(loadPackage(dir)).rejects.toThrow(/leaves out the tokenizer/);
    await writeFile(join(dir, OMITTED_FILE), '["golden.json"]');
    await expect(loadPackage(dir)).rejects.toThrow(/is not \{"omitted"/);
  });

  it('names the left-out graph when a runtime is asked to open it', async () => {
    await rm(join(dir, 'model.onnx'));
    await omit(['model.onnx', 'golden.json']);
    await expect(loadPackage(dir)).resolves.toBeDefined();
    await expect(createRuntime(dir, { precision: 'fp32' })).rejects.toThrow(
      /model\.onnx was left out of this folder \(omitted\.json; it keeps tokenizer\.json\)/,
    );
  });
});

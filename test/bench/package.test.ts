/** `npm run bench -- --model NAME`: which package folder a name picks. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { benchPackage, candidatePackages } from '../../bench/package.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const TINY = join(REPO, 'packages/tiny');
const SHAPES = join(REPO, 'packages/shapes64');
const hasShapes = existsSync(join(SHAPES, 'manifest.json'));

describe('the package bench measures', () => {
  it('picks a package by its model name, among the configured ones and packages/*', () => {
    expect(benchPackage({ model: 'tiny', quick: false, repo: REPO, env: {} })).toBe(TINY);
    expect(benchPackage({ model: 'tiny', quick: false, repo: REPO, env: { MODELS: TINY } })).toBe(TINY);
    expect(candidatePackages(REPO, { MODELS: TINY })[0]).toBe(TINY);
  });

  it.skipIf(!hasShapes)('defaults to the default model, and to tiny with --quick', () => {
    expect(benchPackage({ quick: false, repo: REPO, env: {} })).toBe(SHAPES);
    expect(benchPackage({ quick: false, repo: REPO, env: { MODELS: `${TINY},${SHAPES}` } })).toBe(TINY);
    expect(benchPackage({ quick: true, repo: REPO, env: {} })).toBe(TINY);
    expect(benchPackage({ model: 'shapes64', quick: true, repo: REPO, env: {} })).toBe(SHAPES);
  });

  it('says which names there are when none matches, and refuses --model with --package', () => {
    expect(() => benchPackage({ model: 'emoji-nope', quick: false, repo: REPO, env: {} })).toThrow(
      /no package named emoji-nope; there are: .*tiny/,
    );
    expect(() => benchPackage({ model: 'tiny', package: TINY, quick: false, repo: REPO, env: {} })).toThrow(/not both/);
    expect(benchPackage({ package: 'packages/tiny', quick: false, repo: REPO, env: {} })).toMatch(/packages\/tiny$/);
  });
});

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasTiny, TINY_DIR } from '../../test/support/tiny-package.js';
import { drawPromptFor, loadModelRegistry, ModelRegistryError, modelList, RuntimeSet, UnknownModelError } from './index.js';

const scratch = mkdtempSync(join(tmpdir(), 'registry-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of packages/tiny whose manifest is changed by `edit` (manifest.json is not in its own file list). */
function tinyCopy(folder: string, edit: (manifest: Record<string, unknown>) => void): string {
  const dir = join(scratch, folder);
  cpSync(TINY_DIR, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  edit(manifest);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

describe.skipIf(!hasTiny)('loadModelRegistry', () => {
  const styled = tinyCopy('styled', (m) => {
    m['name'] = 'tiny-styles';
    m['description'] = 'A test model that takes styles.';
    m['licenses'] = [{ name: 'Art', spdx: 'CC-BY-4.0', source: 'somewhere@1.0.0', attribution: 'Art by someone, CC-BY 4.0.' }];
    m['conversation'] = {
      ...(m['conversation'] as object),
      draw_template: 'draw {caption} in {style} style',
      styles: ['flat', 'outline'],
      tasks: ['draw', 'restyle'],
    };
    m['created'] = 1_700_000_000;
  });

  it('loads every package once, by manifest name, the first the default', async () => {
    const registry = await loadModelRegistry([TINY_DIR, styled]);
    expect(registry.names).toEqual(['tiny', 'tiny-styles']);
    expect(registry.default.name).toBe('tiny');
    expect(registry.models.map((m) => m.isDefault)).toEqual([true, false]);
    expect(registry.resolve(undefined).name).toBe('tiny');
    expect(registry.resolve('tiny-styles').dir).toBe(styled);
    expect(registry.get('tiny-styles')!.tokenizer.encode('draw').length).toBeGreaterThan(0);
    expect(() => registry.resolve('nope')).toThrow(UnknownModelError);
    expect(() => registry.resolve('nope')).toThrow('unknown model "nope"; this server serves: tiny, tiny-styles');
  });

  it('reads the optional manifest fields, with defaults when absent', async () => {
    const registry = await loadModelRegistry([TINY_DIR, styled]);
    const [plain, withStyles] = modelList(registry).data;
    expect(withStyles).toEqual({
      id: 'tiny-styles',
      object: 'model',
      created: 1_700_000_000,
      owned_by: 'unified-image-text',
      name: 'tiny-styles',
      description: 'A test model that takes styles.',
      image: { width: 64, height: 64 },
      prompts: {
        draw_prefix: 'draw ',
        draw_template: 'draw {caption} in {style} style',
        describe_prompt: 'describe the image',
        styles: ['flat', 'outline'],
      },
      tasks: ['draw', 'restyle'],
      // a package that declares no sampling: any steps up to the cap, guidance adjustable
      sampling: { default_steps: 4, default_guidance: 2.5, max_steps: 100, guidance: 'adjustable' },
      licenses: [{ name: 'Art', spdx: 'CC-BY-4.0', source: 'somewhere@1.0.0', attribution: 'Art by someone, CC-BY 4.0.' }],
      data_card: expect.any(Object),
      default: false,
    });
    expect(plain).toMatchObject({ id: 'tiny', description: 'tiny: a text-and-image model (64 x 64 images).', licenses: [], default: true });
    expect(plain!.prompts).toEqual({ draw_prefix: 'draw ', describe_prompt: 'describe the image' });
    expect(plain!.tasks).toEqual(['draw', 'describe', 'edit', 'restyle', 'every_style', 'multi_turn', 'refuse']);
  });

  it('lists draw and describe as the tasks of a package that declares none (older packages)', async () => {
    const older = tinyCopy('older', (m) => {
      m['name'] = 'tiny-older';
      delete (m['conversation'] as Record<string, unknown>)['tasks'];
    });
    const [model] = modelList(await loadModelRegistry([older])).data;
    expect(model!.tasks).toEqual(['draw', 'describe']);
  });

  it('refuses two packages of one name, naming both folders and the variable', async () => {
    const twin = tinyCopy('twin', () => {});
    await expect(loadModelRegistry([TINY_DIR, twin], { from: 'MODELS' })).rejects.toThrow(
      new RegExp(`^MODELS: two packages are named "tiny": ${TINY_DIR.replace(/\/$/, '')}/? and ${twin}`),
    );
  });

  it('names the folder when the manifest has no name, and refuses a name a request could not carry', async () => {
    const unnamed = tinyCopy('folder-name', (m) => delete m['name']);
    expect((await loadModelRegistry([unnamed])).names).toEqual(['folder-name']);
    const spaced = tinyCopy('spaced', (m) => (m['name'] = 'has spaces'));
    await expect(loadModelRegistry([spaced], { from: 'MODEL_DIR' })).rejects.toThrow(
      /^MODEL_DIR: the model package .*spaced cannot be served: the package is named "has spaces"/,
    );
  });

  it('stops on a package that is invalid, naming the variable and the folder', async () => {
    const broken = tinyCopy('broken', (m) => ((m['image'] as Record<string, unknown>)['width'] = 63));
    const err = await loadModelRegistry([TINY_DIR, broken], { from: 'MODELS' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelRegistryError);
    expect((err as Error).message).toMatch(/^MODELS: the model package .*broken cannot be served: invalid manifest.json: image.grid_w/);
    const tampered = tinyCopy('tampered', () => {});
    writeFileSync(join(tampered, 'tokenizer.json'), '{}');
    await expect(loadModelRegistry([tampered])).rejects.toThrow(
      /^MODELS: the model package .*tampered cannot be served: model package file tokenizer.json has/,
    );
  });

  it('opens one session per model, once, on first use (RuntimeSet)', async () => {
    const registry = await loadModelRegistry([TINY_DIR, styled]);
    const runtimes = new RuntimeSet(registry, { intraOpThreads: 1 });
    try {
      const a = await runtimes.get('tiny-styles');
      expect(await runtimes.get('tiny-styles')).toBe(a);
      expect(a.manifest.name).toBe('tiny-styles');
      const all = await runtimes.openAll();
      expect(all.map((r) => r.manifest.name)).toEqual(['tiny', 'tiny-styles']);
      expect(all[1]).toBe(a);
      await expect(runtimes.get('nope')).rejects.toThrow(UnknownModelError);
    } finally {
      await runtimes.close();
    }
  });
});

describe('drawPromptFor', () => {
  const prompts = { draw_prefix: 'draw ', draw_template: 'draw {caption} in {style} style', describe_prompt: 'describe the image' };
  it('fills the template with a style, and uses the prefix without one', () => {
    expect(drawPromptFor(prompts, 'snake', 'twitter')).toBe('draw snake in twitter style');
    expect(drawPromptFor(prompts, 'snake')).toBe('draw snake');
    expect(() => drawPromptFor({ draw_prefix: 'draw ', describe_prompt: 'x' }, 'snake', 'flat')).toThrow(/takes no style/);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { smallManifest as manifest, sha256 } from '../../test/support/manifest.js';
import { hasTiny, TINY_DIR } from '../../test/support/tiny-package.js';
import { loadPackage, ModelPackageError, parseManifest } from './manifest.js';
import { CONVERSATION_TASKS, declaredTasks } from './tasks.js';

const bodies = { 'model.onnx': 'not really a graph', 'tokenizer.json': '{"merges": []}' };

describe('manifest', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pkg-'));
    for (const [name, body] of Object.entries(bodies)) await writeFile(join(dir, name), body);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a good package and keeps unknown fields', async () => {
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest(bodies), extra: { kept: true } }));
    const pkg = await loadPackage(dir);
    expect(pkg.manifest.image.num_patches).toBe(64);
    expect((pkg.manifest as Record<string, unknown>)['extra']).toEqual({ kept: true });
  });

  it('names a missing field', () => {
    const bad = manifest(bodies);
    delete (bad['diffusion'] as Record<string, unknown>)['time_shift'];
    expect(() => parseManifest(bad)).toThrow(/diffusion\.time_shift/);
  });

  it('names an inconsistent image geometry', () => {
    const bad = manifest(bodies);
    (bad['image'] as Record<string, unknown>)['patch_dim'] = 190;
    expect(() => parseManifest(bad)).toThrow(/image\.patch_dim/);
  });

  it('refuses a graph without a contract input, and another chunk pattern', () => {
    const bad = manifest(bodies);
    const graph = bad['graph'] as { inputs: { name: string }[] };
    graph.inputs = graph.inputs.filter((t) => t.name !== 'attention_mask');
    expect(() => parseManifest(bad)).toThrow(/graph\.inputs: must list input attention_mask/);
    const other = manifest(bodies);
    (other['tokenizer'] as Record<string, unknown>)['chunk_pattern'] = '\\w+';
    expect(() => parseManifest(other)).toThrow(/tokenizer\.chunk_pattern/);
  });

  it('loads the fixture package packages/tiny', async () => {
    if (!hasTiny) return;
    const pkg = await loadPackage(TINY_DIR);
    expect(pkg.manifest.tokenizer.special_tokens.pad).toBeLessThan(pkg.manifest.tokenizer.vocab_size);
    // The fixture declares every task, so that multi-turn paths are testable with it.
    expect(declaredTasks(pkg.manifest)).toEqual(CONVERSATION_TASKS);
  });

  it('reads conversation.tasks, defaulting to draw and describe', () => {
    const conversation = { draw_prefix: 'draw ', describe_prompt: 'describe the image' };
    expect(declaredTasks(parseManifest(manifest(bodies)))).toEqual(['draw', 'describe']);
    expect(declaredTasks(parseManifest({ ...manifest(bodies), conversation }))).toEqual(['draw', 'describe']);
    const declared = parseManifest({ ...manifest(bodies), conversation: { ...conversation, tasks: ['draw', 'edit', 'multi_turn'] } });
    expect(declaredTasks(declared)).toEqual(['draw', 'edit', 'multi_turn']);
  });

  it('reads conversation.image_ends_answer as a boolean only', () => {
    const withFlag = (flag: unknown) => ({
      ...manifest(bodies),
      conversation: { draw_prefix: 'draw ', describe_prompt: 'd', image_ends_answer: flag },
    });
    expect(parseManifest(withFlag(true)).conversation?.image_ends_answer).toBe(true);
    expect(() => parseManifest(withFlag('yes'))).toThrow(/conversation\.image_ends_answer/);
  });

  it('refuses an unknown, repeated or empty task list', () => {
    const withTasks = (tasks: unknown) => ({ ...manifest(bodies), conversation: { draw_prefix: 'draw ', describe_prompt: 'd', tasks } });
    expect(() => parseManifest(withTasks(['draw', 'fly']))).toThrow(/conversation\.tasks\.1/);
    expect(() => parseManifest(withTasks(['draw', 'draw']))).toThrow(/conversation\.tasks: must not repeat a task/);
    expect(() => parseManifest(withTasks([]))).toThrow(/conversation\.tasks/);
  });

  it('refuses a file whose sha256 differs, naming it with expected and actual', async () => {
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest(bodies)));
    await writeFile(join(dir, 'model.onnx'), 'not really a grapH');
    const error = await loadPackage(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelPackageError);
    expect(String(error)).toContain('model.onnx');
    expect(String(error)).toContain(sha256(bodies['model.onnx']));
    expect(String(error)).toContain(sha256('not really a grapH'));
  });

  it('refuses a missing file', async () => {
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest({ ...bodies, 'golden.json': '{}' })));
    await expect(loadPackage(dir)).rejects.toThrow(/golden\.json is missing/);
  });

  it('refuses a folder without manifest.json', async () => {
    await expect(loadPackage(join(dir, 'nowhere'))).rejects.toThrow(/manifest\.json/);
  });
});

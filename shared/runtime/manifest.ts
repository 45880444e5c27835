/**
 * manifest.json of a model package (docs/model-package.md): the zod schema, and
 * loadPackage, which validates the manifest and checks every listed file's sha256 before a
 * runtime trusts the folder. Objects are loose: fields the runtime does not use are kept.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { GRAPH_INPUTS, GRAPH_OUTPUTS } from './graph-names.js';
import { readOmitted } from './omitted.js';
import { CONVERSATION_TASKS } from './tasks.js';
import { PRETOKENIZE_PATTERN, SPECIAL_TOKEN_NAMES } from './tokenizer.js';

const positiveInt = z.number().int().positive();
const tokenId = z.number().int().nonnegative();

const imageSchema = z.looseObject({
  height: positiveInt,
  width: positiveInt,
  channels: z.literal(3),
  patch_size: positiveInt,
  grid_h: positiveInt,
  grid_w: positiveInt,
  num_patches: positiveInt,
  patch_dim: positiveInt,
});

const specialTokensSchema = z.looseObject(
  Object.fromEntries(SPECIAL_TOKEN_NAMES.map((name) => [name, tokenId])) as Record<(typeof SPECIAL_TOKEN_NAMES)[number], typeof tokenId>,
);

const tokenizerSchema = z.looseObject({
  file: z.string().min(1),
  type: z.literal('byte-bpe'),
  vocab_size: positiveInt,
  // The one pattern this tokenizer implements; a package that splits otherwise is refused.
  chunk_pattern: z.literal(PRETOKENIZE_PATTERN).optional(),
  special_tokens: specialTokensSchema,
});

const tensorSpecSchema = z.looseObject({
  name: z.string().min(1),
  dtype: z.enum(['float32', 'int64']),
  shape: z.array(z.union([positiveInt, z.string()])),
});

const graphSchema = z.looseObject({
  file: z.string().min(1),
  num_layers: positiveInt,
  key_dim: positiveInt,
  value_dim: positiveInt,
  mask_value: z.number().max(-1e4).optional(),
  inputs: z.array(tensorSpecSchema),
  outputs: z.array(tensorSpecSchema),
  /**
   * Other graphs with the same inputs and outputs, by name (model/packaging/quantize.py writes
   * `int8`: dynamically quantized weights). A runtime picks one with MODEL_PRECISION.
   */
  variants: z
    .record(
      z.string().min(1),
      z.looseObject({
        file: z.string().min(1),
        denoise_file: z.string().min(1).optional(),
        /**
         * The variant's score against fp32 on the evaluation split (model/evaluation/eval_onnx.py
         * --record); `accepted` when no accuracy dropped more than 2 points.
         */
        quality: z.looseObject({ accepted: z.boolean() }).optional(),
      }),
    )
    .optional(),
  /**
   * The graph cut down to the `denoised` output (model/packaging/quantize.py): same inputs; a
   * denoising step runs on it and skips the logits and present keys/values it would discard.
   */
  denoise_file: z.string().min(1).optional(),
  /**
   * The denoise graphs hold other weights than the serving graphs: a few-step student that
   * denoises on the cache its teacher's serving graph builds (model/distill/split.py). Every
   * denoising step must run on a denoise graph, so each precision needs one.
   */
  split_weights: z.boolean().optional(),
});

/** The graph does the rotary arithmetic; the runtime only reads this for the record. */
const ropeSchema = z.looseObject({
  sections: z.union([positiveInt, z.array(positiveInt)]),
  /** Rotary distance from an image's start to the next image's start (positions.ts, imageStart); absent: 0, the running index. */
  image_gap: z.number().int().nonnegative().optional(),
});

const conversationSchema = z.looseObject({
  draw_prefix: z.string(),
  describe_prompt: z.string(),
  /** A draw prompt with a style, e.g. `draw {caption} in {style} style` (both placeholders required). */
  draw_template: z
    .string()
    .refine((t) => t.includes('{caption}'), 'must contain {caption}')
    .optional(),
  /** The styles draw_template's `{style}` understands. */
  styles: z.array(z.string().min(1)).optional(),
  /**
   * Every answer of this model ends at its image (its training answers never went on after
   * one, and the packaging checked that it does not): the worker ends the answer there
   * instead of reading the image back into the context to decode what follows, a network
   * evaluation of the whole image (docs/model-package.md). Absent: read back, decode on.
   */
  image_ends_answer: z.boolean().optional(),
  /** What the model was trained to do (./tasks.ts); absent: draw and describe. */
  tasks: z
    .array(z.enum(CONVERSATION_TASKS))
    .min(1)
    .refine((tasks) => new Set(tasks).size === tasks.length, 'must not repeat a task')
    .optional(),
});

/** A licence the package's weights or training data come under (what a user must honour). */
const licenseSchema = z.looseObject({
  /** What it covers, e.g. "Twemoji artwork" or "model weights". */
  name: z.string().min(1),
  /** SPDX identifier (`Apache-2.0`, `CC-BY-4.0`, `LicenseRef-...`). */
  spdx: z.string().min(1),
  /** Where the covered material came from (a package, a repository). */
  source: z.string().min(1),
  url: z.url().optional(),
  /** The attribution the licence asks for, to show as it is. */
  attribution: z.string().min(1).optional(),
});

/**
 * The step counts a package serves (./sampling.ts): an exact list (a few-step student: [1, 2])
 * or a largest count. Absent: any count the API allows, as before the field existed.
 */
const stepsSchema = z.union([
  z.strictObject({
    supported: z
      .array(positiveInt)
      .min(1)
      .refine((list) => new Set(list).size === list.length, 'must not repeat a count'),
  }),
  z.strictObject({ max: positiveInt }),
]);

const diffusionSchema = z.looseObject({
  sampler: z.literal('euler'),
  default_steps: positiveInt,
  default_guidance: z.number().nonnegative(),
  time_shift: z.number().positive(),
  guidance_interval: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]),
  steps: stepsSchema.optional(),
  /** fixed: default_guidance is distilled into the network, which runs no unconditional row. Absent: adjustable. */
  guidance: z.enum(['adjustable', 'fixed']).optional(),
  /**
   * The default guidance of a request for this many steps ("4": 3): a scale chosen for 10 steps
   * can overshoot over a few large ones (docs/api.md, "Steps and guidance"). A count it does not
   * name takes default_guidance; a request's own guidance always wins. Adjustable guidance only.
   */
  guidance_by_steps: z.record(z.string().regex(/^[1-9][0-9]*$/, 'keys are step counts'), z.number().nonnegative()).optional(),
});

const fileEntrySchema = z.looseObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256'),
  bytes: z.number().int().nonnegative(),
});

export const manifestSchema = z
  .looseObject({
    format: z.literal('unified-model-package'),
    format_version: z.literal(1),
    name: z.string().optional(),
    /** One or two sentences for people choosing a model (GET /v1/models). */
    description: z.string().optional(),
    licenses: z.array(licenseSchema).optional(),
    image: imageSchema,
    tokenizer: tokenizerSchema,
    graph: graphSchema,
    rope: ropeSchema,
    conversation: conversationSchema.optional(),
    diffusion: diffusionSchema,
    files: z.record(z.string(), fileEntrySchema),
    data_card: z.unknown().optional(),
  })
  .superRefine((m, ctx) => {
    const { image } = m;
    const check = (ok: boolean, path: (string | number)[], message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path, message });
    };
    check(image.height === image.grid_h * image.patch_size, ['image', 'grid_h'], 'must equal height / patch_size');
    check(image.width === image.grid_w * image.patch_size, ['image', 'grid_w'], 'must equal width / patch_size');
    check(image.num_patches === image.grid_h * image.grid_w, ['image', 'num_patches'], 'must equal grid_h * grid_w');
    check(
      image.patch_dim === image.patch_size * image.patch_size * image.channels,
      ['image', 'patch_dim'],
      'must equal patch_size^2 * channels',
    );
    const [lo, hi] = m.diffusion.guidance_interval;
    check(lo <= hi, ['diffusion', 'guidance_interval'], 'must be [lo, hi] with lo <= hi');
    const { steps, default_steps: defaultSteps } = m.diffusion;
    if (steps && 'supported' in steps)
      check(steps.supported.includes(defaultSteps), ['diffusion', 'steps', 'supported'], `must include default_steps (${defaultSteps})`);
    if (steps && 'max' in steps)
      check(defaultSteps <= steps.max, ['diffusion', 'steps', 'max'], `must be at least default_steps (${defaultSteps})`);
    if (m.diffusion.guidance_by_steps)
      check(
        m.diffusion.guidance !== 'fixed',
        ['diffusion', 'guidance_by_steps'],
        'needs adjustable guidance (fixed guidance has one value)',
      );
    for (const name of SPECIAL_TOKEN_NAMES) {
      const id = m.tokenizer.special_tokens[name];
      check(id < m.tokenizer.vocab_size, ['tokenizer', 'special_tokens', name], 'must be below vocab_size');
    }
    const inputs = m.graph.inputs.map((t) => t.name);
    const outputs = m.graph.outputs.map((t) => t.name);
    for (const name of GRAPH_INPUTS) check(inputs.includes(name), ['graph', 'inputs'], `must list input ${name}`);
    for (const name of GRAPH_OUTPUTS) check(outputs.includes(name), ['graph', 'outputs'], `must list output ${name}`);
    check(m.graph.file in m.files, ['files'], `must list the graph file ${m.graph.file}`);
    check(m.tokenizer.file in m.files, ['files'], `must list the tokenizer file ${m.tokenizer.file}`);
    if (m.graph.denoise_file !== undefined)
      check(m.graph.denoise_file in m.files, ['graph', 'denoise_file'], `must be listed in files (${m.graph.denoise_file})`);
    if (m.graph.split_weights === true)
      check(m.graph.denoise_file !== undefined, ['graph', 'denoise_file'], 'is required with split_weights (its denoising weights)');
    for (const [name, variant] of Object.entries(m.graph.variants ?? {})) {
      check(variant.file in m.files, ['graph', 'variants', name, 'file'], `must be listed in files (${variant.file})`);
      if (m.graph.split_weights === true)
        check(
          variant.denoise_file !== undefined,
          ['graph', 'variants', name, 'denoise_file'],
          'is required with split_weights (its denoising weights)',
        );
      if (variant.denoise_file !== undefined) {
        check(
          variant.denoise_file in m.files,
          ['graph', 'variants', name, 'denoise_file'],
          `must be listed in files (${variant.denoise_file})`,
        );
      }
    }
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestLicense = z.infer<typeof licenseSchema>;

export class ModelPackageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelPackageError';
  }
}

/** Parse a manifest, naming the offending field(s) on failure. */
export function parseManifest(json: unknown): Manifest {
  const result = manifestSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new ModelPackageError(`invalid manifest.json: ${problems.join('; ')}`);
}

export interface ModelPackage {
  readonly dir: string;
  readonly manifest: Manifest;
  /** Listed files the folder leaves out on purpose (omitted.ts): not checked, never opened. */
  readonly omitted: readonly string[];
}

/** Read, validate and verify a package folder: every listed file present with its sha256 and size. */
export async function loadPackage(dir: string): Promise<ModelPackage> {
  const manifestPath = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw new ModelPackageError(`cannot read ${manifestPath}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelPackageError(`${manifestPath} is not JSON: ${(error as Error).message}`);
  }
  const manifest = parseManifest(json);
  const omitted = await readOmitted(dir, manifest);
  for (const [name, entry] of Object.entries(manifest.files)) {
    if (!omitted.includes(name)) await verifyFile(dir, name, entry);
  }
  return { dir, manifest, omitted };
}

async function verifyFile(dir: string, name: string, expected: { sha256: string; bytes: number }): Promise<void> {
  const path = join(dir, name);
  const size = await stat(path).then(
    (s) => s.size,
    () => undefined,
  );
  if (size === undefined)
    throw new ModelPackageError(`model package file ${name} is missing (listed in manifest.json, not found at ${path})`);
  if (size !== expected.bytes) {
    throw new ModelPackageError(`model package file ${name} has ${size} bytes, manifest.json says ${expected.bytes}`);
  }
  const actual = await sha256File(path);
  if (actual !== expected.sha256) {
    throw new ModelPackageError(`model package file ${name} fails its checksum: expected sha256 ${expected.sha256}, got ${actual}`);
  }
}

/** Streamed, so that a large graph is never held twice in memory. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

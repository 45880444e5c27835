/**
 * Loads a model package with the TypeScript runtime, the way the edge and the workers do,
 * and runs both directions once: describe a blank white image, then draw a prompt in a few
 * denoising steps. Prints one JSON line. For a package you trained yourself:
 *
 *   npx tsx scripts/check-package.ts packages/my-model "draw a cat"
 */
import {
  createRuntime,
  DEFAULT_PROMPTS,
  describeContext,
  drawContext,
  rgbToPatches,
  sampleImage,
  uncondContext,
} from '../shared/runtime/index.js';

async function main(): Promise<void> {
  const [dir, prompt] = process.argv.slice(2);
  if (!dir) throw new Error('usage: check-package.ts <package folder> ["draw <caption>"]');
  const runtime = await createRuntime(dir, { precision: 'fp32' });
  const { manifest, tokenizer } = runtime;
  const prompts = manifest.conversation ?? DEFAULT_PROMPTS;
  const { width, height } = manifest.image;
  const white = rgbToPatches(new Uint8Array(width * height * 3).fill(255), manifest.image);
  const described = await runtime.decodeText(await runtime.prefill(describeContext(tokenizer, white, prompts)), {
    maxTokens: 16,
    temperature: 0,
    seed: 0,
  });
  const caption = (prompt ?? `${prompts.draw_prefix}something`).slice(prompts.draw_prefix.length);
  const cond = await runtime.prefill(drawContext(tokenizer, caption, prompts));
  const uncond = await runtime.prefill(uncondContext(tokenizer));
  const image = await sampleImage(runtime, cond, uncond, { steps: 2, seed: 1 });
  const finite = image.every(Number.isFinite);
  process.stdout.write(
    `${JSON.stringify({ name: manifest.name, describe: described.text, stop: described.stop, drawn_values: image.length, finite })}\n`,
  );
  await runtime.close();
  if (!finite) process.exitCode = 1;
}

await main();

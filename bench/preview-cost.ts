/**
 * Would intermediate previews be cheap? For one job on the shipped model, per denoising
 * step: the step itself, recovering the clean-image prediction x0 from the Euler update
 * (x_next = x0 + (t_next / t) (x_t - x0), so no graph change), encoding it as the worker
 * encodes outputs (shared/images/png.ts), and writing it to the local file store. Prints one
 * JSON object of medians (ms) and the PNG's size.
 *
 *   npx tsx bench/preview-cost.ts [--model packages/shapes64] [--steps 10] [--repeats 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodePng } from '../shared/images/png.js';
import { createRuntime, drawContext, uncondContext } from '../shared/runtime/index.js';
import { FileStore } from '../shared/store/file-store.js';

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** x0 from one Euler step: x_next = x0 + r (x_t - x0), r = t_next / t. */
export function recoverX0(x: Float32Array, next: Float32Array, t: number, tNext: number): Float32Array {
  const r = tNext / t;
  if (r === 0) return next;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (next[i]! - r * x[i]!) / (1 - r);
  return out;
}

const modelDir = resolve(arg('model', 'packages/shapes64'));
const steps = Number(arg('steps', '10'));
const repeats = Number(arg('repeats', '5'));
const runtime = await createRuntime(modelDir, { executionProvider: 'cpu', intraOpThreads: 1 });
const dir = mkdtempSync(join(tmpdir(), 'preview-cost-'));
const store = new FileStore({ root: dir });
const timings = { step: [] as number[], x0: [] as number[], encode: [] as number[], put: [] as number[] };
let pngBytes = 0;
try {
  const { diffusion, image } = runtime.manifest;
  const cond = await runtime.prefill(drawContext(runtime.tokenizer, 'a large red circle at the top left'));
  const uncond = await runtime.prefill(uncondContext(runtime.tokenizer));
  const grid = runtime.timeGrid(steps);
  for (let r = 0; r < repeats; r++) {
    let x = runtime.initialNoise(r);
    for (let i = 0; i < steps; i++) {
      const t = grid[i]!;
      const tNext = grid[i + 1]!;
      let started = performance.now();
      const [next] = await runtime.denoiseStep([{ cond, uncond, x, t, tNext, guidance: diffusion.default_guidance }]);
      timings.step.push(performance.now() - started);
      started = performance.now();
      const x0 = recoverX0(x, next!, t, tNext);
      timings.x0.push(performance.now() - started);
      started = performance.now();
      const png = encodePng(x0, image);
      timings.encode.push(performance.now() - started);
      pngBytes = png.byteLength;
      started = performance.now();
      await store.put(`previews/job/${i}.png`, png, { contentType: 'image/png' });
      timings.put.push(performance.now() - started);
      x = next!;
    }
  }
  const m = Object.fromEntries(Object.entries(timings).map(([k, v]) => [`${k}_ms`, Number(median(v).toFixed(3))]));
  const preview = m['x0_ms']! + m['encode_ms']! + m['put_ms']!;
  console.log(
    JSON.stringify({
      model: runtime.manifest.name,
      steps,
      repeats,
      ...m,
      preview_ms: Number(preview.toFixed(3)),
      preview_over_step: Number((preview / m['step_ms']!).toFixed(3)),
      png_bytes: pngBytes,
    }),
  );
} finally {
  await runtime.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}

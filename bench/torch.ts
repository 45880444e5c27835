/** The PyTorch reference step (bench/py/torch_step.py), fp32 and bf16 autocast, same prompt and jobs as the ORT step. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRuntime, drawContext, type Segment, uncondContext } from '../shared/runtime/index.js';
import { REPO, runPython } from './python.js';
import { progress } from './stats.js';
import { CAPTION, guidedStep } from './step.js';

export interface TorchSection {
  torch: string;
  threads: number;
  params: number;
  weights: string;
  /** mode -> jobs -> timing */
  modes: Record<string, Record<string, { median_ms: number; min_ms: number; reps: number }>>;
}

const ids = (segments: readonly Segment[]): number[] => segments.flatMap((s) => (s.type === 'text' ? [...s.ids] : []));

export async function torchSection(
  packageDir: string,
  jobCounts: readonly number[],
  timing: { minMs: number; minReps: number },
): Promise<TorchSection> {
  progress(`step: PyTorch eager fp32 and bf16 autocast, jobs ${jobCounts.join(', ')}`);
  const runtime = await createRuntime(packageDir);
  const config = (runtime.manifest['model'] as { config: Record<string, unknown> }).config;
  const { t, guidance } = guidedStep(runtime);
  const spec = {
    config,
    pad_id: runtime.tokenizer.specialTokens.pad,
    cond_ids: ids(drawContext(runtime.tokenizer, CAPTION)),
    uncond_ids: ids(uncondContext(runtime.tokenizer)),
    batches: jobCounts,
    t,
    guidance,
    min_ms: timing.minMs,
    min_reps: timing.minReps,
    modes: ['fp32', 'bf16'],
    threads: 0,
    // The trained weights when this package's checkpoint is here (the time does not depend on them).
    checkpoint:
      runtime.manifest.name === 'shapes64' && existsSync(join(REPO, 'model/runs/main/ckpt.pt'))
        ? join(REPO, 'model/runs/main/ckpt.pt')
        : undefined,
  };
  await runtime.close();
  const out = JSON.parse(await runPython(['bench/py/torch_step.py'], JSON.stringify(spec))) as Omit<TorchSection, 'weights'>;
  return { ...out, weights: spec.checkpoint ? 'checkpoint' : 'random (same config)' };
}

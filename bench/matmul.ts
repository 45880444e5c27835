/**
 * The machine's matrix-multiply ceiling, measured in onnxruntime-node in the same run as the
 * model: float32 MatMul and int8 MatMulInteger graphs (made by bench/py/matmul_models.py),
 * at the model's own dominant shape and at a large square shape.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { runPython } from './python.js';
import { progress, round, type TimeOptions, timeAsync } from './stats.js';

export interface MatmulResult {
  precision: 'fp32' | 'int8';
  m: number;
  k: number;
  n: number;
  medianMs: number;
  gflopsPerSecond: number;
}

export interface MatmulSection {
  results: MatmulResult[];
  /** Best GFLOP/s (GOP/s for int8) per precision: the ceiling the step is compared with. */
  ceiling: Record<'fp32' | 'int8', number>;
}

export async function matmulSection(shapes: readonly [number, number, number][], timing: TimeOptions): Promise<MatmulSection> {
  progress(`matmul ceiling: ${shapes.map((s) => s.join('x')).join(', ')} (fp32 MatMul, int8 MatMulInteger)`);
  const dir = await mkdtemp(join(tmpdir(), 'bench-matmul-'));
  try {
    const files = JSON.parse(await runPython(['bench/py/matmul_models.py', dir, ...shapes.map((s) => s.join(','))])) as {
      precision: 'fp32' | 'int8';
      m: number;
      k: number;
      n: number;
      file: string;
    }[];
    const results: MatmulResult[] = [];
    for (const f of files) {
      const session = await ort.InferenceSession.create(f.file, { graphOptimizationLevel: 'all' });
      const size = f.m * f.k;
      const a =
        f.precision === 'fp32'
          ? new ort.Tensor(
              'float32',
              Float32Array.from({ length: size }, (_, i) => Math.sin(i)),
              [f.m, f.k],
            )
          : new ort.Tensor(
              'uint8',
              Uint8Array.from({ length: size }, (_, i) => (i * 31) & 255),
              [f.m, f.k],
            );
      const r = await timeAsync(() => session.run({ A: a }), timing);
      await session.release();
      const flops = 2 * f.m * f.k * f.n;
      results.push({
        precision: f.precision,
        m: f.m,
        k: f.k,
        n: f.n,
        medianMs: round(r.median, 3),
        gflopsPerSecond: round(flops / (r.median * 1e6), 1),
      });
    }
    const best = (p: 'fp32' | 'int8') => Math.max(...results.filter((r) => r.precision === p).map((r) => r.gflopsPerSecond));
    return { results, ceiling: { fp32: best('fp32'), int8: best('int8') } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

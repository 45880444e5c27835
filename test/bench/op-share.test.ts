/** bench/py/op_share.py: a step's kernel time split by part of the model and operator, on packages/tiny. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const python = join(REPO, '.venv/bin/python');
const graph = join(REPO, 'packages/tiny/model.onnx');

describe.skipIf(!existsSync(python) || !existsSync(graph))('bench/py/op_share.py', () => {
  it('splits a guided step of 1 and 2 jobs between the pixel head, the blocks and the rest', () => {
    const run = spawnSync(python, ['bench/py/op_share.py', graph, '--jobs', '1', '2', '--reps', '2', '--threads', '1'], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as {
      steps: { jobs: number; rows: number; parts_percent: Record<string, number>; pixel_head_ops_percent: Record<string, number> }[];
    };
    expect(out.steps.map((s) => [s.jobs, s.rows])).toEqual([
      [1, 2],
      [2, 4],
    ]);
    for (const step of out.steps) {
      const total = Object.values(step.parts_percent).reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(99);
      expect(total).toBeLessThan(101);
      expect(Object.keys(step.parts_percent).sort()).toEqual(['blocks', 'other', 'pixel_head']);
      // The tiny fixture has a pixel head: its convolutions are found there.
      expect(step.pixel_head_ops_percent['Conv']).toBeGreaterThan(0);
    }
  });
});

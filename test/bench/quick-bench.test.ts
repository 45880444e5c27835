/**
 * `npm run bench -- --quick` (CI smoke): the benchmark runs end to end on packages/tiny and
 * its JSON has every section issue 5 asks for. Behaviour only: no timing is checked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const hasPython = existsSync(join(REPO, '.venv/bin/python'));
const hasTiny = existsSync(join(REPO, 'packages/tiny/manifest.json'));

describe.skipIf(!hasPython || !hasTiny)('npm run bench -- --quick', () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-quick-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes JSON, Markdown and a PNG with every section', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/main.ts', '--quick', '--model', 'tiny', `--out=${out}`], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 170_000,
      env: { ...process.env, OMP_NUM_THREADS: process.env['OMP_NUM_THREADS'] ?? '1' },
    });
    expect(run.status, run.stderr.slice(-3000)).toBe(0);
    expect(run.stdout).toContain('## Targets (issue 5)');
    const result = JSON.parse(readFileSync(join(out, 'bench-quick.json'), 'utf8'));
    expect(result.package.name).toBe('tiny');
    expect(result.command).toBe('npm run bench -- --quick --model tiny');
    expect(existsSync(join(out, 'bench-quick.md'))).toBe(true);
    expect(readFileSync(join(out, 'bench-quick.png')).subarray(1, 4).toString()).toBe('PNG');

    // Worker: both modes at every concurrency, the autotuned default, the max-batch run with memory.
    const runs = result.worker.runs as {
      mode: string;
      concurrency: number;
      imagesPerSecond: number;
      latencyP50: number;
      latencyP95: number;
      jobsPerCall: number;
      failed: number;
      peakRssMb?: number;
    }[];
    for (const c of result.options.concurrency as number[]) {
      for (const mode of ['one-at-a-time', 'continuous']) {
        const run = runs.find((r) => r.mode === mode && r.concurrency === c);
        expect(run, `${mode} at ${c}`).toBeDefined();
        expect(run!.imagesPerSecond).toBeGreaterThan(0);
        expect(run!.latencyP95).toBeGreaterThanOrEqual(run!.latencyP50);
        expect(run!.failed).toBe(0);
      }
    }
    expect(runs.find((r) => r.mode === 'one-at-a-time')!.jobsPerCall).toBe(1);
    expect(runs.some((r) => r.mode.startsWith('default'))).toBe(true);
    expect(runs.find((r) => r.peakRssMb !== undefined)!.peakRssMb).toBeGreaterThan(0);

    // Step: onnxruntime fp32 and int8 at 1 and 16 jobs; PyTorch fp32 and bf16 likewise.
    // (on the denoise-only graph the worker runs, and on the full graph for comparison).
    for (const precision of ['fp32', 'int8']) {
      const section = result.step.find((s: { precision: string }) => s.precision === precision);
      expect(section.graph).toBe('denoise');
      expect(section.batches.map((b: { jobs: number }) => b.jobs)).toEqual([1, 16]);
      expect(section.batches[0].gflopsPerSecond).toBeGreaterThan(0);
      expect(result.fullGraph.find((s: { precision: string }) => s.precision === precision).graph).toBe('full');
    }
    for (const mode of ['fp32', 'bf16']) expect(Object.keys(result.torch.modes[mode])).toEqual(['1', '16']);
    expect(result.matmul.ceiling.fp32).toBeGreaterThan(0);
    expect(result.matmul.ceiling.int8).toBeGreaterThan(0);

    // Context cache, edge overhead, metrics, GPU note.
    expect(result.context[0]).toMatchObject({ shortTokens: 8, longTokens: 64 });
    expect(result.context[0].ratio).toBeGreaterThan(0);
    expect(result.edge.connections).toBe(100);
    expect(result.edge.requests).toBeGreaterThan(0);
    expect(result.edge.overheadMs.p99).toBeGreaterThanOrEqual(result.edge.overheadMs.p50);
    for (const m of result.metrics) expect(m.missing, m.source).toEqual([]);
    expect(result.gpu).toHaveProperty('available');
    // Sampling through the API: each run says where one job alone spent its time, stretch by stretch.
    for (const r of result.sampling.runs as { aloneStretchesMs: Record<string, number> }[]) {
      expect(Object.keys(r.aloneStretchesMs)).toEqual(['edge', 'start', 'image', 'answer', 'receive']);
      for (const ms of Object.values(r.aloneStretchesMs)) expect(ms).toBeGreaterThanOrEqual(0);
    }
    expect(readFileSync(join(out, 'bench-quick.md'), 'utf8')).toContain('Where one job alone spends its time');
  }, 180_000);
});

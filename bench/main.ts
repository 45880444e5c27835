/**
 * `npm run bench`: issue 5's benchmark, every comparison in one run on this machine.
 *
 *   npm run bench                          the default model (MODELS' first, else packages/shapes64, else tiny), full sizes
 *   npm run bench -- --model emoji64       the package of that model name (MODELS, the shipped ones, packages/*)
 *   npm run bench -- --quick               CI smoke: packages/tiny, small sizes, seconds
 *   npm run bench -- --package=DIR --out=results --worker-precision=int8   (default: the package's default precision)
 *   npm run bench -- --sampling --steps=10,2 [--packages=DIR,DIR] [--rounds=N]   only issue 30's section: per package
 *                                          and step count, network evaluations per image, one job alone, 1/4/16 clients
 *                                          through the API; N rounds in alternating order, each beside the first listed
 *
 * Writes <out>/bench.json, bench.md and bench.png (bench-quick.* with --quick) and prints the
 * Markdown. Sections: matrix-multiply ceiling, the denoising step in onnxruntime-node (fp32,
 * int8) and in PyTorch eager (fp32, bf16 autocast), the context cache (8 vs 64 prompt
 * tokens), the worker under load (continuous batching vs one job at a time), the edge under
 * 100 connections, worker memory, the metrics, and quality from results/quality.json
 * (model/evaluation/eval_onnx.py) when it is there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPackage, type Precision, resolvePrecision } from '../shared/runtime/index.js';
import { edgeSection } from './edge-load.js';
import { matmulSection } from './matmul.js';
import { benchPackage } from './package.js';
import { REPO, runPython } from './python.js';
import { markdown } from './report.js';
import { samplingMarkdown, samplingSection } from './sampling.js';
import { progress, round, type TimeOptions } from './stats.js';
import { contextSection, stepSection } from './step.js';
import { torchSection } from './torch.js';
import type { BenchResult, MetricsCheck, QualityReport } from './types.js';
import { workerSection } from './worker-load.js';

export const REQUIRED_METRICS = [
  'denoise_calls_total',
  'denoise_rows_total',
  'images_total',
  'queue_wait_seconds',
  'job_latency_seconds',
  'active_jobs',
];

interface Plan {
  stepJobs: number[];
  stepTiming: TimeOptions;
  contextPairs: number;
  contextTiming: TimeOptions;
  torchTiming: { minMs: number; minReps: number };
  matmulShapes: [number, number, number][];
  matmulTiming: TimeOptions;
  concurrency: number[];
  workerBatch: number;
  maxBatch: number;
  autoAt: number;
  edgeConnections: number;
  edgeSeconds: number;
}

const FULL: Plan = {
  stepJobs: [1, 16],
  stepTiming: { minReps: 5, minMs: 1500 },
  contextPairs: 10,
  contextTiming: { minReps: 10, minMs: 3000 },
  torchTiming: { minMs: 1500, minReps: 5 },
  matmulShapes: [
    [2048, 256, 1152],
    [1024, 1024, 1024],
  ],
  matmulTiming: { minReps: 5, minMs: 1000 },
  concurrency: [1, 4, 16, 64],
  workerBatch: 16,
  maxBatch: 64,
  autoAt: 16,
  edgeConnections: 100,
  edgeSeconds: 10,
};

const QUICK: Plan = {
  stepJobs: [1, 16],
  stepTiming: { minReps: 2, minMs: 30 },
  contextPairs: 3,
  contextTiming: { minReps: 3, minMs: 20 },
  torchTiming: { minMs: 30, minReps: 2 },
  matmulShapes: [[256, 64, 256]],
  matmulTiming: { minReps: 2, minMs: 20 },
  concurrency: [1, 4],
  workerBatch: 4,
  maxBatch: 4,
  autoAt: 4,
  edgeConnections: 100,
  edgeSeconds: 1,
};

function metricNames(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

function checkMetrics(source: string, text: string): MetricsCheck {
  const names = metricNames(text);
  return { source, required: REQUIRED_METRICS, missing: REQUIRED_METRICS.filter((n) => !names.has(n)) };
}

/**
 * A copy of the package with both denoise graphs when it lacks one: the fp32 one alone when
 * it has its int8 variant (kept as shipped), else a fresh int8 variant (model/packaging/quantize.py).
 */
async function withInt8(dir: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const { manifest } = await loadPackage(dir);
  const int8 = manifest.graph.variants?.['int8']?.denoise_file !== undefined;
  if (int8 && manifest.graph.denoise_file) return { dir, cleanup: async () => {} };
  const copy = await mkdtemp(join(tmpdir(), 'bench-pkg-'));
  await cp(dir, copy, { recursive: true });
  if (int8) {
    progress(`${dir} has no fp32 denoise graph: adding it to a copy (model/packaging/quantize.py --fp32-denoise-only)`);
    await runPython(['-m', 'model.packaging.quantize', copy, '--fp32-denoise-only']);
  } else {
    progress(`${dir} has no int8 variant: adding one and the denoise graphs to a copy (model/packaging/quantize.py)`);
    await runPython(['-m', 'model.packaging.quantize', copy]);
  }
  return { dir: copy, cleanup: () => rm(copy, { recursive: true, force: true }) };
}

function readQuality(out: string, name: string): QualityReport | undefined {
  const path = join(out, 'quality.json');
  if (!existsSync(path)) return undefined;
  const q = JSON.parse(readFileSync(path, 'utf8')) as QualityReport;
  return q.package_name === name ? q : undefined;
}

/** Other processes using the CPU now (a shared machine skews absolute times): `ps`, best effort. */
function busyProcesses(): string[] {
  try {
    const out = execFileSync('ps', ['-eo', 'pcpu,pid,args', '--sort=-pcpu'], { encoding: 'utf8' });
    return out
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .filter((l) => l && Number(l.split(/\s+/)[0]) >= 20 && !l.includes(String(process.pid)))
      .map((l) => l.slice(0, 160));
  } catch {
    return [];
  }
}

/** The flags that reproduce this run (after `npm run bench`). */
function benchFlags(quick: boolean, model: string | undefined, pkg: string | undefined): string {
  const flags = [
    ...(quick ? ['--quick'] : []),
    ...(model !== undefined ? [`--model ${model}`] : []),
    ...(pkg !== undefined ? [`--package=${pkg}`] : []),
  ];
  return flags.length > 0 ? ` -- ${flags.join(' ')}` : '';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      package: { type: 'string' },
      model: { type: 'string' },
      out: { type: 'string', default: join(REPO, 'results') },
      'worker-precision': { type: 'string' },
      sampling: { type: 'boolean', default: false },
      steps: { type: 'string' },
      packages: { type: 'string' },
      rounds: { type: 'string' },
    },
  });
  const quick = values.quick!;
  const plan = quick ? QUICK : FULL;
  const packageDir = benchPackage({
    quick,
    repo: REPO,
    env: process.env,
    ...(values.model !== undefined ? { model: values.model } : {}),
    ...(values.package !== undefined ? { package: values.package } : {}),
  });
  const out = resolve(values.out!);
  await mkdir(out, { recursive: true });
  const steps = values.steps?.split(',').map(Number);
  const samplingPlan = {
    packages: values.packages?.split(',').map((d) => resolve(d)) ?? [packageDir],
    ...(steps ? { steps } : {}),
    ...(values.rounds !== undefined ? { rounds: Number(values.rounds) } : {}),
    clients: quick ? [1, 4] : [1, 4, 16],
    imagesPerLevel: quick ? 4 : 32,
    // A few-step image alone takes tens of ms, where a stray pause of the machine is as long: 24 for a steady median.
    aloneJobs: quick ? 3 : 24,
    maxBatch: plan.workerBatch,
  };
  if (values.sampling) {
    await samplingOnly(
      samplingPlan,
      out,
      quick,
      benchFlags(quick, values.model, values.package) +
        (values.steps ? ` --steps=${values.steps}` : '') +
        (values.packages ? ` --packages=${values.packages}` : '') +
        (values.rounds ? ` --rounds=${values.rounds}` : ''),
    );
    return;
  }
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const load = loadavg()[0]!;
  const busyAtStart = busyProcesses();
  progress(`${quick ? 'quick' : 'full'} benchmark of ${packageDir} (load average ${load.toFixed(2)} on ${cpus().length} CPUs)`);

  const pkg = await withInt8(packageDir);
  try {
    const { manifest } = await loadPackage(pkg.dir);
    // The worker and the edge run what the package serves by default (int8 where it passed its quality check).
    const workerPrecision = (values['worker-precision'] as Precision | undefined) ?? resolvePrecision(undefined, process.env, manifest);
    const matmul = await matmulSection(plan.matmulShapes, plan.matmulTiming);
    const step = [];
    for (const precision of ['fp32', 'int8'] as const) step.push(await stepSection(pkg.dir, precision, plan.stepJobs, plan.stepTiming));
    // The same steps on the full serving graph: what the denoise-only cut saves.
    const fullGraph = [];
    for (const precision of ['fp32', 'int8'] as const)
      fullGraph.push(await stepSection(pkg.dir, precision, plan.stepJobs, plan.stepTiming, 'full'));
    const context = [];
    for (const jobs of [1, plan.stepJobs[plan.stepJobs.length - 1]!])
      context.push(await contextSection(pkg.dir, 'fp32', jobs, plan.contextPairs, plan.contextTiming));
    const torch = await torchSection(pkg.dir, plan.stepJobs, plan.torchTiming);
    const worker = await workerSection(pkg.dir, workerPrecision, {
      concurrency: plan.concurrency,
      batch: plan.workerBatch,
      maxBatch: plan.maxBatch,
      autoAt: plan.autoAt,
    });
    const workerMetricsJson = worker.metricsJson;
    const edge = await edgeSection(pkg.dir, {
      connections: plan.edgeConnections,
      seconds: plan.edgeSeconds,
      workerMetrics: { json: async () => workerMetricsJson },
    });
    const sampling = await samplingSection(samplingPlan);
    const { metricsText: edgeMetricsText, ...edgeResult } = edge;
    const { metricsText: _w, metricsJson: _j, ...workerResult } = worker;
    void _w;
    void _j;
    const name = manifest.name ?? 'unnamed';
    const quality = readQuality(out, name);
    const ortVersion = (JSON.parse(await readFile(join(REPO, 'node_modules/onnxruntime-node/package.json'), 'utf8')) as { version: string })
      .version;
    const result: BenchResult = {
      mode: quick ? 'quick' : 'full',
      command: `npm run bench${benchFlags(quick, values.model, values.package)}`,
      startedAt,
      seconds: round((performance.now() - started) / 1000, 1),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? '?',
        memGb: round(totalmem() / 2 ** 30, 1),
        node: process.version,
        ort: ortVersion,
        busyAtStart,
        busyAtEnd: busyProcesses(),
        ...(load > 0.5 * cpus().length
          ? {
              loadNote: `The machine was busy when the run started (load average ${load.toFixed(2)} on ${cpus().length} CPUs): absolute times are pessimistic.`,
            }
          : {}),
      },
      package: { dir: packageDir, name, params: (manifest['model'] as { parameters?: number } | undefined)?.parameters },
      options: {
        stepJobs: plan.stepJobs,
        concurrency: plan.concurrency,
        workerBatch: plan.workerBatch,
        maxBatch: plan.maxBatch,
        autoAt: plan.autoAt,
        workerPrecision,
      },
      step,
      fullGraph,
      context,
      torch,
      matmul,
      worker: workerResult,
      edge: edgeResult,
      metrics: [
        checkMetrics('worker /metrics', worker.metricsText),
        checkMetrics('API /metrics with the worker merged (embedded start)', edgeMetricsText),
      ],
      ...(quality ? { quality } : {}),
      sampling,
      gpu: {
        available: false,
        reason: 'no GPU on this machine (the PyTorch step against batch size on a GPU is measured only where one is lent)',
      },
    };
    const base = join(out, quick ? 'bench-quick' : 'bench');
    await writeFile(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
    const md = `${markdown(result)}\n## Sampling through the API (issue 30)\n\n${samplingMarkdown(sampling)}`;
    await writeFile(`${base}.md`, md);
    try {
      await runPython(['bench/py/chart.py', `${base}.json`, `${base}.png`]);
    } catch (err) {
      progress(`chart failed: ${(err as Error).message}`);
    }
    process.stdout.write(md);
    progress(`wrote ${base}.json, ${base}.md, ${base}.png in ${result.seconds} s`);
  } finally {
    await pkg.cleanup();
  }
}

/** `--sampling`: issue 30's section alone (bench-sampling.json and .md), with the machine's load beside it. */
async function samplingOnly(options: Parameters<typeof samplingSection>[0], out: string, quick: boolean, flags: string): Promise<void> {
  const load = loadavg()[0]!;
  const busyAtStart = busyProcesses();
  const started = performance.now();
  const section = await samplingSection(options);
  const result = {
    command: `npm run bench -- --sampling${flags.replace(/^ -- /, ' ')}`,
    startedAt: new Date().toISOString(),
    seconds: round((performance.now() - started) / 1000, 1),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', load, busyAtStart, busyAtEnd: busyProcesses() },
    sampling: section,
  };
  const base = join(out, quick ? 'bench-sampling-quick' : 'bench-sampling');
  const md = `${samplingMarkdown(section)}\nLoad average at the start ${load.toFixed(2)} on ${cpus().length} CPUs; busy then: ${busyAtStart.join('; ') || 'nothing over 20 %'}.\n`;
  await writeFile(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(`${base}.md`, md);
  process.stdout.write(md);
  progress(`wrote ${base}.json and ${base}.md in ${result.seconds} s`);
}

await main();

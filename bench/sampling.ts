/**
 * Sampling through the public API (issue 30): for each package and each step count, the
 * embedded default as `npm start` runs it (edge/deps.ts's edge with its decode thread, a real
 * worker pool of one child process, SQLite queue and file store in a temporary DATA_DIR, the
 * workers waking waiting requests over IPC) and clients that POST /v1/generations with
 * `Prefer: wait` over loopback HTTP. Reports per image the network evaluations (batched calls)
 * and rows (unconditional rows included), the latency of one job alone (submit to image, the
 * median of sequential jobs), and throughput at 1, 4 and 16 concurrent clients. A few-step
 * student is compared beside the 10-step sampler by listing both step counts (and packages).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createApp } from '../edge/app.js';
import { buildDeps } from '../edge/deps.js';
import { startServer } from '../edge/server.js';
import { startWorkerPool } from '../gpu-worker/pool.js';
import { linkEdgeToPool } from '../scripts/pool-links.js';
import { loadConfig } from '../shared/config/index.js';
import { createLogger } from '../shared/logging/index.js';
import type { MetricsJson } from '../shared/metrics/index.js';
import {
  defaultGuidance,
  guidanceApplies,
  loadPackage,
  type Manifest,
  samplingOf,
  stepsSupported,
  timeGrid,
} from '../shared/runtime/index.js';
import { REPO } from './python.js';
import { mean, percentile, progress, round } from './stats.js';

const CAPTIONS = [
  'a small red circle at the top left',
  'a large blue square at the center',
  'a small green 7 at the bottom right',
  'a large yellow triangle at the top',
];

export interface SamplingLevel {
  clients: number;
  images: number;
  wallSeconds: number;
  imagesPerSecond: number;
  latencyP50: number;
  latencyP95: number;
  latencyMean: number;
  failed: number;
}

export interface SamplingRun {
  package: string;
  /** The package's folder as given (a teacher copied aside has the same manifest name). */
  packageDir: string;
  /** Which round measured it (--rounds: the package order alternates between rounds). */
  round: number;
  steps: number;
  guidance: number;
  guidanceMode: 'adjustable' | 'fixed';
  /** Sequential network calls an image needs (its steps). */
  evaluationsPerImage: number;
  /** Network rows an image costs: one a step, plus an unconditional row at each guided step. */
  rowsPerImage: number;
  unconditionalRowsPerImage: number;
  /** The worker's own count over the run (denoise_calls_total / images_total): calls shared by batched jobs count once. */
  measuredCallsPerImage: number;
  /** Median submit-to-image latency of one job alone (sequential jobs, one client). */
  aloneSeconds: number;
  /** Where one job alone spends that time: medians in ms of each stretch (see `Stretches`). */
  aloneStretchesMs: Stretches;
  levels: SamplingLevel[];
}

export interface SamplingSection {
  clients: number[];
  maxBatch: number;
  /** How the edge learns of completion (the embedded default: the workers tell it). */
  wake: string;
  /** Rounds over the packages, each in the order opposite to the one before. */
  rounds: number;
  runs: SamplingRun[];
  /** Every other sampler beside the first listed (the first package at its first step count), round by round. */
  beside: Beside[];
}

/** A ratio over the rounds: each round's own, then their median. */
export interface RatioOverRounds {
  each: number[];
  median: number;
}

export interface Beside {
  packageDir: string;
  package: string;
  steps: number;
  /** The baseline's one-job-alone latency over this one's (above 1: faster). */
  alone: RatioOverRounds;
  /** This one's throughput over the baseline's, at each client count. */
  throughput: { clients: number; ratio: RatioOverRounds }[];
}

export interface SamplingOptions {
  packages: string[];
  /**
   * Rounds over the packages (default 1), the order reversed each round: a package measured
   * second meets the heap and caches the first left in this process (it hosts the edge), and
   * one job alone varies by a third from run to run on two shared cores.
   */
  rounds?: number;
  /** Step counts; default: each package's default. */
  steps?: number[];
  clients: number[];
  /** Images per level: at least this many, each client the same number. */
  imagesPerLevel: number;
  aloneJobs: number;
  maxBatch: number;
}

/**
 * One job alone, cut at the moments the edge and the pool tell each other of (scripts/pool-links.ts):
 * - `edge`: POST sent to job queued (validation, the text decode up to `<boi>`, the record, the send);
 * - `start`: queued to the worker's first record write (receive, context read, the worker's
 *   prefill, the first denoising step: `running` is written after it; a one-step job's first
 *   write is its success, so all of it lands here and `image` is 0);
 * - `image`: that write to the worker's last (the other steps, PNG, image and record writes);
 * - `answer`: the last write to the answer in the client's hands (the wake, a record read, the response);
 * - `receive`: of `start`, the worker's own measure from the send to taking the job (queue_wait_seconds, mean).
 */
export interface Stretches {
  edge: number;
  start: number;
  image: number;
  answer: number;
  receive: number;
}

/** Rows an image costs with this sampler: each step's conditional row, and the unconditional one where guidance applies. */
export function rowsPerImage(manifest: Manifest, steps: number, guidance: number): { rows: number; unconditional: number } {
  const sampling = samplingOf(manifest);
  const grid = timeGrid(steps, manifest.diffusion.time_shift);
  let unconditional = 0;
  if (sampling.guidance === 'adjustable')
    for (let i = 0; i < steps; i += 1) if (guidanceApplies(grid[i]!, guidance, manifest.diffusion)) unconditional += 1;
  return { rows: steps + unconditional, unconditional };
}

/** A histogram's observations between two snapshots, as their mean (NaN without any). */
function histogramMean(after: MetricsJson, before: MetricsJson, name: string): number {
  const part = (json: MetricsJson, suffix: string): number =>
    json
      .filter((m) => m.name === name)
      .flatMap((m) => m.values as { metricName?: string; value: number }[])
      .filter((v) => v.metricName === `${name}${suffix}`)
      .reduce((sum, v) => sum + v.value, 0);
  const count = part(after, '_count') - part(before, '_count');
  return count > 0 ? (part(after, '_sum') - part(before, '_sum')) / count : Number.NaN;
}

function metricSum(json: MetricsJson, name: string): number {
  return json.filter((m) => m.name === name).reduce((sum, m) => sum + m.values.reduce((s, v) => s + v.value, 0), 0);
}

export async function samplingSection(options: SamplingOptions): Promise<SamplingSection> {
  const rounds = options.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds=${rounds}: a whole number of rounds, at least 1`);
  const runs: SamplingRun[] = [];
  for (let k = 0; k < rounds; k += 1) {
    const order = k % 2 === 0 ? options.packages : [...options.packages].reverse();
    for (const dir of order) runs.push(...(await benchPackageSampling(dir, k, options)));
  }
  return {
    clients: options.clients,
    maxBatch: options.maxBatch,
    wake: 'told over IPC both ways (edge -> workers: jobs queued; workers -> edge: records written), fallback reads every 100 ms (queue) and 250 ms (records)',
    rounds,
    runs,
    beside: besideBaseline(runs, options.packages[0]!),
  };
}

/** Each sampler against the baseline (`baselineDir` at its first step count) measured in the same round. */
export function besideBaseline(runs: readonly SamplingRun[], baselineDir: string): Beside[] {
  const firstRound = runs.filter((r) => r.round === runs[0]?.round);
  const baseSteps = firstRound.find((r) => r.packageDir === baselineDir)?.steps;
  if (baseSteps === undefined) return [];
  const isBase = (r: SamplingRun) => r.packageDir === baselineDir && r.steps === baseSteps;
  const others = firstRound.filter((r) => !isBase(r));
  const over = (each: number[]): RatioOverRounds => ({ each: each.map((x) => round(x, 2)), median: round(percentile(each, 50), 2) });
  return others.map((other) => {
    const pairs = [...new Set(runs.map((r) => r.round))].flatMap((k) => {
      const base = runs.find((r) => r.round === k && isBase(r));
      const run = runs.find((r) => r.round === k && r.packageDir === other.packageDir && r.steps === other.steps);
      return base && run ? [{ base, run }] : [];
    });
    const rate = (r: SamplingRun, clients: number) => r.levels.find((l) => l.clients === clients)?.imagesPerSecond ?? Number.NaN;
    return {
      packageDir: other.packageDir,
      package: other.package,
      steps: other.steps,
      alone: over(pairs.map(({ base, run }) => base.aloneSeconds / run.aloneSeconds)),
      throughput: other.levels.map(({ clients }) => ({
        clients,
        ratio: over(pairs.map(({ base, run }) => rate(run, clients) / rate(base, clients))),
      })),
    };
  });
}

async function benchPackageSampling(packageDir: string, roundIndex: number, options: SamplingOptions): Promise<SamplingRun[]> {
  const { manifest } = await loadPackage(packageDir);
  const name = manifest.name ?? packageDir;
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-sampling-'));
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    MODELS: packageDir,
    MODEL_DIR: undefined,
    WORKER_MAX_BATCH: String(options.maxBatch),
    WORKER_CONCURRENCY: '1',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    API_KEYS: undefined,
  };
  const config = loadConfig(env, { cwd: REPO });
  const logger = createLogger({ logLevel: 'warn' });
  progress(`sampling: ${name}: starting the embedded system (edge + one worker process, WORKER_MAX_BATCH=${options.maxBatch})`);
  const pool = startWorkerPool({ count: 1, env, logger });
  const deps = await buildDeps(config, { logger });
  // The moments a job alone passes (Stretches): told by the pool links, stamped on the way.
  let queuedAt = 0;
  // Per job, its first and latest record write by the worker.
  const writes = new Map<string, { first: number; last: number }>();
  const stamped = {
    onJobChange: (listener: (jobId: string) => void) =>
      pool.onJobChange((jobId) => {
        const now = performance.now();
        writes.set(jobId, { first: writes.get(jobId)?.first ?? now, last: now });
        listener(jobId);
      }),
    jobsQueued: () => {
      queuedAt = performance.now();
      pool.jobsQueued();
    },
  };
  const server = await startServer(createApp({ ...deps, ...linkEdgeToPool(stamped, deps.queue) }), config);
  try {
    await pool.started;
    if (pool.workers().length === 0) throw new Error('the worker did not start');
    const out: SamplingRun[] = [];
    let posted = 0; // images made by this worker so far
    // Each package at the listed step counts it serves (a student refuses 10; the teacher serves 1 and 2).
    const sampling = samplingOf(manifest);
    const listed = options.steps ?? [manifest.diffusion.default_steps];
    const skipped = listed.filter((steps) => !stepsSupported(sampling, steps));
    if (skipped.length > 0) progress(`sampling: ${name} does not serve ${skipped.join(', ')} steps: left out`);
    for (const steps of listed.filter((n) => stepsSupported(sampling, n))) {
      const guidance = defaultGuidance(manifest, steps); // what the server gives a request that names none
      const draw = (seed: number) => ({
        prompt: `${manifest.conversation?.draw_prefix ?? 'draw '}${CAPTIONS[seed % CAPTIONS.length]}`,
        steps,
        seed,
      });
      const stretches: Omit<Stretches, 'receive'>[] = [];
      const post = async (seed: number, timeline = false): Promise<number> => {
        const start = performance.now();
        const res = await fetch(`${server.url}/v1/generations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', prefer: 'wait=60' },
          body: JSON.stringify(draw(seed)),
        });
        const body = (await res.json()) as { status?: string; id?: string };
        const end = performance.now();
        if (res.status !== 201 || body.status !== 'succeeded')
          throw new Error(`POST /v1/generations answered ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
        posted += 1;
        const written = writes.get(body.id ?? '');
        if (timeline && written)
          stretches.push({
            edge: queuedAt - start,
            start: written.first - queuedAt,
            image: written.last - written.first,
            answer: end - written.last,
          });
        return (end - start) / 1000;
      };
      progress(`sampling: ${name}, ${steps} steps: warm-up, then ${options.aloneJobs} jobs alone`);
      for (let i = 0; i < 2; i += 1) await post(1000 + i);
      const before = await settledMetrics(pool, posted);
      const alone: number[] = [];
      for (let i = 0; i < options.aloneJobs; i += 1) alone.push(await post(i, true));
      const afterAlone = await settledMetrics(pool, posted);
      const calls = metricSum(afterAlone, 'denoise_calls_total') - metricSum(before, 'denoise_calls_total');
      const images = metricSum(afterAlone, 'images_total') - metricSum(before, 'images_total');
      const levels: SamplingLevel[] = [];
      for (const clients of options.clients) {
        const each = Math.max(1, Math.ceil(options.imagesPerLevel / clients));
        progress(`sampling: ${name}, ${steps} steps: ${clients} client(s) x ${each} image(s)`);
        const latencies: number[] = [];
        let failed = 0;
        const start = performance.now();
        await Promise.all(
          Array.from({ length: clients }, async (_, c) => {
            for (let k = 0; k < each; k += 1) {
              try {
                latencies.push(await post(c * 100 + k));
              } catch (err) {
                failed += 1;
                progress(`sampling: a request failed: ${(err as Error).message}`);
              }
            }
          }),
        );
        const wall = (performance.now() - start) / 1000;
        levels.push({
          clients,
          images: latencies.length,
          wallSeconds: round(wall, 3),
          imagesPerSecond: round(latencies.length / wall, 2),
          latencyP50: round(percentile(latencies, 50), 3),
          latencyP95: round(percentile(latencies, 95), 3),
          latencyMean: round(mean(latencies), 3),
          failed,
        });
      }
      const { rows, unconditional } = rowsPerImage(manifest, steps, guidance);
      const median = (stretch: Exclude<keyof Stretches, 'receive'>): number =>
        round(
          percentile(
            stretches.map((x) => x[stretch]),
            50,
          ),
          1,
        );
      out.push({
        package: name,
        packageDir,
        round: roundIndex,
        steps,
        guidance,
        guidanceMode: sampling.guidance,
        evaluationsPerImage: steps,
        rowsPerImage: rows,
        unconditionalRowsPerImage: unconditional,
        measuredCallsPerImage: images > 0 ? round(calls / images, 2) : Number.NaN,
        aloneSeconds: round(percentile(alone, 50), 3),
        aloneStretchesMs: {
          edge: median('edge'),
          start: median('start'),
          image: median('image'),
          answer: median('answer'),
          receive: round(1000 * histogramMean(afterAlone, before, 'queue_wait_seconds'), 1),
        },
        levels,
      });
    }
    return out;
  } finally {
    await server.close();
    await pool.stop();
    await deps.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The pool's metrics arrive about once a second: wait until they count every image made so far. */
async function settledMetrics(pool: { metrics: { json(): Promise<MetricsJson> } }, images: number): Promise<MetricsJson> {
  for (let i = 0; i < 50; i += 1) {
    const now = await pool.metrics.json();
    if (metricSum(now, 'images_total') >= images) return now;
    await new Promise((r) => setTimeout(r, 100));
  }
  return pool.metrics.json();
}

/** The section as Markdown: one row per package and step count. */
export function samplingMarkdown(s: SamplingSection): string {
  // With several rounds each row says which; with one the table is as it always was.
  const roundCell = (r: SamplingRun) => (s.rounds > 1 ? `| ${r.round + 1} ` : '');
  const roundHead = s.rounds > 1 ? '| round ' : '';
  const head = `${roundHead}| package | steps | guidance | evaluations / image | rows / image (uncond.) | measured calls / image | one job alone (s) | ${s.clients.map((c) => `${c} client${c > 1 ? 's' : ''} img/s (p50 s)`).join(' | ')} |`;
  const rule = `|${'---|'.repeat(7 + s.clients.length + (s.rounds > 1 ? 1 : 0))}`;
  const rows = s.runs.map((r) => {
    const levels = s.clients.map((c) => {
      const l = r.levels.find((x) => x.clients === c);
      return l ? `${l.imagesPerSecond} (${l.latencyP50})${l.failed ? `, ${l.failed} failed` : ''}` : '-';
    });
    return `${roundCell(r)}| ${r.package} | ${r.steps} | ${r.guidance} (${r.guidanceMode}) | ${r.evaluationsPerImage} | ${r.rowsPerImage} (${r.unconditionalRowsPerImage}) | ${r.measuredCallsPerImage} | ${r.aloneSeconds} | ${levels.join(' | ')} |`;
  });
  const stretches = [
    `${roundHead}| package | steps | guidance | edge: POST to queued (ms) | start: queued to first write (of it, receive) | image: first write to stored | answer: stored to client |`,
    `|${'---|'.repeat(7 + (s.rounds > 1 ? 1 : 0))}`,
    ...s.runs.map((r) => {
      const x = r.aloneStretchesMs;
      return `${roundCell(r)}| ${r.package} | ${r.steps} | ${r.guidance} (${r.guidanceMode}) | ${x.edge} | ${x.start} (${x.receive}) | ${x.image} | ${x.answer} |`;
    }),
  ];
  return [
    `Through the public API, embedded default (WORKER_MAX_BATCH=${s.maxBatch}; wake: ${s.wake}):`,
    '',
    head,
    rule,
    ...rows,
    '',
    'Where one job alone spends its time (medians):',
    '',
    ...stretches,
    '',
    ...besideMarkdown(s),
  ].join('\n');
}

/** The ratios to the baseline, each round's and their median (nothing with a single sampler). */
function besideMarkdown(s: SamplingSection): string[] {
  if (s.beside.length === 0) return [];
  const base = s.runs[0]!;
  const cell = (x: RatioOverRounds) => `**${x.median}x**${x.each.length > 1 ? ` (${x.each.join(', ')})` : ''}`;
  return [
    `Beside ${base.package} at ${base.steps} steps (${relative(REPO, base.packageDir)}), the same round's, median over ${s.rounds} round${s.rounds > 1 ? 's, the package order reversed each round' : ''}:`,
    '',
    `| package | steps | one job alone, faster by | ${s.clients.map((c) => `${c} client${c > 1 ? 's' : ''}, throughput`).join(' | ')} |`,
    `|${'---|'.repeat(3 + s.clients.length)}`,
    ...s.beside.map(
      (b) =>
        `| ${b.package} (${relative(REPO, b.packageDir)}) | ${b.steps} | ${cell(b.alone)} | ${s.clients
          .map((c) => {
            const t = b.throughput.find((x) => x.clients === c);
            return t ? cell(t.ratio) : '-';
          })
          .join(' | ')} |`,
    ),
    '',
  ];
}

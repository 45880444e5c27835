/**
 * The edge's own overhead on POST /v1/generations under 100 concurrent connections: the real
 * app (edge/app.ts, real runtime, file store + SQLite queue in a temporary folder) on a real
 * loopback HTTP server, loaded by autocannon in its own process.
 *
 * Model time is taken out per request without touching the product: every onnxruntime
 * session.run of this process is logged (start, end) and, since a run holds the event loop
 * and the app decodes one request at a time, a request's overhead is its server time (from
 * its headers parsed to its last byte written) minus the model time that overlapped it.
 * What is left is what the edge itself costs: parsing, validation, tokenizing, the job
 * record, the queue message, the response, and the wait for other requests' edge work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import * as ort from 'onnxruntime-node';
import { pino } from 'pino';
import { createApp } from '../edge/app.js';
import { JobRepository } from '../shared/jobs/repository.js';
import type { MetricsSource } from '../shared/metrics/index.js';
import { SqliteQueue } from '../shared/queue/sqlite-queue.js';
import { createRuntime } from '../shared/runtime/index.js';
import { JobRecord } from '../shared/schemas/job.js';
import { FileStore } from '../shared/store/file-store.js';
import { REPO } from './python.js';
import { runProcess } from './run-process.js';
import { CAPTION } from './step.js';
import { percentile, progress, round } from './stats.js';

export interface EdgeSection {
  /** The text side's graph (the package's default). */
  precision: string;
  connections: number;
  durationSeconds: number;
  requests: number;
  statusCounts: Record<string, number>;
  requestsPerSecond: number;
  /** Client-side latency (autocannon), model time included. */
  clientLatencyMs: { p50: number; p99: number };
  /** Server time minus overlapping model time, per request. */
  overheadMs: { p50: number; p99: number; mean: number };
  /** Model time per request (prefill + decode), for scale. */
  modelMsPerRequest: number;
  /**
   * Non-model time of the whole run per request: the edge's own work per request when the
   * server is saturated (overhead under load also counts waiting for other requests' work).
   */
  edgeMsPerRequest: number;
  /** /metrics of this app with a worker's metrics appended, as the embedded start serves it. */
  metricsText: string;
}

interface Interval {
  start: number;
  end: number;
}

/** Logs every session.run of this process (the edge's only model calls). */
function instrumentOrt(): { intervals: Interval[]; restore(): void } {
  const proto = (ort.InferenceSession as unknown as { prototype: { run: (...args: unknown[]) => Promise<unknown> } }).prototype;
  const original = proto.run;
  const intervals: Interval[] = [];
  proto.run = async function (this: unknown, ...args: unknown[]) {
    const start = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      intervals.push({ start, end: performance.now() });
    }
  };
  return { intervals, restore: () => void (proto.run = original) };
}

/** Sum of the (disjoint, start-sorted) intervals' overlap with [a, b]. */
function overlap(intervals: readonly Interval[], a: number, b: number): number {
  let lo = 0;
  let hi = intervals.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (intervals[mid]!.end <= a) lo = mid + 1;
    else hi = mid;
  }
  let total = 0;
  for (let i = lo; i < intervals.length && intervals[i]!.start < b; i += 1) {
    total += Math.min(b, intervals[i]!.end) - Math.max(a, intervals[i]!.start);
  }
  return total;
}

async function autocannon(url: string, connections: number, seconds: number, body: string): Promise<Record<string, unknown>> {
  const args = [join(REPO, 'node_modules/autocannon/autocannon.js'), '-c', String(connections), '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-b', body, '-j', '-n', url];
  const out = await runProcess(process.execPath, args);
  try {
    return JSON.parse(out) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`autocannon printed no JSON: ${(e as Error).message}: ${out.slice(0, 500)}`);
  }
}

export async function edgeSection(packageDir: string, options: { connections: number; seconds: number; workerMetrics?: MetricsSource }): Promise<EdgeSection> {
  progress(`edge: POST /v1/generations, ${options.connections} connections, ${options.seconds} s (autocannon)`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-edge-'));
  const runtime = await createRuntime(packageDir);
  const store = new FileStore({ root: join(dir, 'store') });
  const queue = new SqliteQueue({ path: join(dir, 'queue.db'), visibilityTimeoutSeconds: 30 });
  // Request logs at info, as served, written where nobody reads them.
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const app = createApp({
    runtime,
    store,
    queue,
    jobs: new JobRepository<JobRecord>(store, { schema: JobRecord }),
    logger,
    config: { apiKeys: [] },
    ...(options.workerMetrics ? { metrics: [options.workerMetrics] } : {}),
  });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: '127.0.0.1' }) as Server;
  const requests: Interval[] = [];
  let recording = false;
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (!recording) return;
    const start = performance.now();
    res.once('finish', () => requests.push({ start, end: performance.now() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/generations`;
  const body = JSON.stringify({ prompt: `draw ${CAPTION}`, max_tokens: 16, seed: 1 });
  const ortLog = instrumentOrt();
  try {
    // Warm-up: the first requests pay for JIT and lazy loads.
    await autocannon(url, 4, 1, body);
    ortLog.intervals.length = 0;
    recording = true;
    const result = await autocannon(url, options.connections, options.seconds, body);
    recording = false;
    const model = [...ortLog.intervals].sort((a, b) => a.start - b.start);
    const overheads = requests.map((r) => r.end - r.start - overlap(model, r.start, r.end));
    const modelTotal = model.reduce((n, i) => n + (i.end - i.start), 0);
    const wall = Math.max(...requests.map((r) => r.end)) - Math.min(...requests.map((r) => r.start));
    const latency = result['latency'] as Record<string, number>;
    const statusCounts: Record<string, number> = {};
    for (const [k, v] of Object.entries(result)) if (/^\dxx$/.test(k) && typeof v === 'number') statusCounts[k] = v;
    const metricsText = await (await app.request('/metrics')).text();
    return {
      precision: runtime.precision,
      connections: options.connections,
      durationSeconds: options.seconds,
      requests: requests.length,
      statusCounts,
      requestsPerSecond: round((result['requests'] as Record<string, number>)['average']!, 1),
      clientLatencyMs: { p50: latency['p50']!, p99: latency['p99']! },
      overheadMs: {
        p50: round(percentile(overheads, 50), 3),
        p99: round(percentile(overheads, 99), 3),
        mean: round(overheads.reduce((a, b) => a + b, 0) / Math.max(1, overheads.length), 3),
      },
      modelMsPerRequest: round(modelTotal / Math.max(1, requests.length), 3),
      edgeMsPerRequest: round((wall - modelTotal) / Math.max(1, requests.length), 3),
      metricsText,
    };
  } finally {
    ortLog.restore();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    });
    await runtime.close();
    await queue.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The edge's own overhead on POST /v1/generations under 100 concurrent connections: the real
 * app (edge/app.ts, file store + SQLite queue in a temporary folder) with its
 * text decode on the decode thread, as the Node server runs it (edge/deps.ts), on a real
 * loopback HTTP server, loaded by autocannon in its own process.
 *
 * Model time is taken out per request without touching the product: the decoder the app is
 * given records, for the request it serves (AsyncLocalStorage), the time from asking for
 * the decode to its answer: the wait for the model (other requests' decodes, one at a time)
 * plus its own decode. A request's overhead is its server time (from its headers parsed to
 * its last byte written) minus that. What is left is what the edge itself costs: parsing,
 * validation, tokenizing, the job record, the queue message, the response, and the wait for
 * other requests' edge work on the event loop.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createAdaptorServer } from '@hono/node-server';
import { pino } from 'pino';
import { createApp } from '../edge/app.js';
import { startDecodeThread } from '../edge/decode-thread/index.js';
import type { TextDecodeFn } from '../edge/text-decode.js';
import { JobRepository } from '../shared/jobs/repository.js';
import type { MetricsSource } from '../shared/metrics/index.js';
import { loadModelRegistry } from '../shared/models/index.js';
import { SqliteQueue } from '../shared/queue/sqlite-queue.js';
import { resolvePrecision } from '../shared/runtime/index.js';
import { JobRecord } from '../shared/schemas/job.js';
import { FileStore } from '../shared/store/file-store.js';
import { REPO } from './python.js';
import { runProcess } from './run-process.js';
import { percentile, progress, round } from './stats.js';
import { CAPTION } from './step.js';

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
  /** Server time minus the request's model time (its wait for the model and its decode). */
  overheadMs: { p50: number; p99: number; mean: number };
  /** The decode thread's busy time per request (prefill + decode), for scale. */
  modelMsPerRequest: number;
  /**
   * The event loop's busy time per request (Node's event-loop utilization over the run):
   * the edge's own work, the decode being on its thread.
   */
  edgeMsPerRequest: number;
  /** /metrics of this app with a worker's metrics appended, as the embedded start serves it. */
  metricsText: string;
}

interface Served {
  start: number;
  end: number;
  /** From asking for the decode to its answer (waiting for the model included). */
  modelMs: number;
}

async function autocannon(url: string, connections: number, seconds: number, body: string): Promise<Record<string, unknown>> {
  const args = [
    join(REPO, 'node_modules/autocannon/autocannon.js'),
    '-c',
    String(connections),
    '-d',
    String(seconds),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-b',
    body,
    '-j',
    '-n',
    url,
  ];
  const out = await runProcess(process.execPath, args);
  try {
    return JSON.parse(out) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`autocannon printed no JSON: ${(e as Error).message}: ${out.slice(0, 500)}`);
  }
}

export async function edgeSection(
  packageDir: string,
  options: { connections: number; seconds: number; workerMetrics?: MetricsSource },
): Promise<EdgeSection> {
  progress(`edge: POST /v1/generations, ${options.connections} connections, ${options.seconds} s (autocannon)`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-edge-'));
  const models = await loadModelRegistry([packageDir]);
  const precision = resolvePrecision(undefined, process.env, models.default.manifest, 'cpu');
  const thread = await startDecodeThread({ modelDirs: [packageDir], precision, logger: pino({ level: 'silent' }) });
  const store = new FileStore({ root: join(dir, 'store') });
  const queue = new SqliteQueue({ path: join(dir, 'queue.db'), visibilityTimeoutSeconds: 30 });
  // Request logs at info, as served, written where nobody reads them.
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const serving = new AsyncLocalStorage<{ modelMs: number }>();
  const decodeBusy: { start: number; end: number }[] = [];
  const timedDecode: TextDecodeFn = async (model, segments, options) => {
    const asked = performance.now();
    try {
      return await thread.decode(model, segments, options);
    } finally {
      const answered = performance.now();
      const request = serving.getStore();
      if (request) request.modelMs += answered - asked;
      // The thread decodes one at a time: its busy span is from the later of asking and its last answer.
      decodeBusy.push({ start: Math.max(asked, decodeBusy.at(-1)?.end ?? 0), end: answered });
    }
  };
  const app = createApp({
    models,
    store,
    queue,
    jobs: new JobRepository<JobRecord>(store, { schema: JobRecord }),
    logger,
    config: { apiKeys: [] },
    textDecoder: timedDecode,
    ...(options.workerMetrics ? { metrics: [options.workerMetrics] } : {}),
  });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: '127.0.0.1' }) as Server;
  const requests: Served[] = [];
  let recording = false;
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (!recording) return;
    const start = performance.now();
    const timing = { modelMs: 0 };
    // The app's handler runs next in this same 'request' emit, so it and its decode see `timing`.
    serving.enterWith(timing);
    res.once('finish', () => requests.push({ start, end: performance.now(), modelMs: timing.modelMs }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/generations`;
  const body = JSON.stringify({ prompt: `draw ${CAPTION}`, max_tokens: 16, seed: 1 });
  try {
    // Warm-up: the first requests pay for JIT and lazy loads.
    await autocannon(url, 4, 1, body);
    decodeBusy.length = 0;
    recording = true;
    const elu = performance.eventLoopUtilization();
    const result = await autocannon(url, options.connections, options.seconds, body);
    const loop = performance.eventLoopUtilization(elu);
    recording = false;
    const overheads = requests.map((r) => r.end - r.start - r.modelMs);
    const modelTotal = decodeBusy.reduce((n, i) => n + Math.max(0, i.end - i.start), 0);
    const latency = result['latency'] as Record<string, number>;
    const statusCounts: Record<string, number> = {};
    for (const [k, v] of Object.entries(result)) if (/^\dxx$/.test(k) && typeof v === 'number') statusCounts[k] = v;
    const metricsText = await (await app.request('/metrics')).text();
    return {
      precision,
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
      edgeMsPerRequest: round(loop.active / Math.max(1, requests.length), 3),
      metricsText,
    };
  } finally {
    await thread.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    });
    await queue.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

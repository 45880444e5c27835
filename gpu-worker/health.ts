/**
 * The worker's HTTP side (node:http). GET /healthz is liveness: 200 unless the engine's loop
 * has stopped going round (a process that loads its model is alive). GET /readyz is
 * readiness, the container's health check: 200 only while the worker can take jobs (model
 * loaded, loop going round, not stopping), else 503 naming why, in the edge's report shape.
 * GET /metrics: the Prometheus text.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE } from '../shared/metrics/index.js';
import type { ReadinessReport } from '../shared/readiness/index.js';

export interface HealthSource {
  /** 'ready' once the model is loaded and the loop runs. */
  state(): 'starting' | 'ready' | 'stopping';
  /** When the loop last went round (ms since epoch). */
  lastBeatAt(): number;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A loop that has not gone round for this long is stuck (a model call takes far less). */
export const STALL_MS = 60_000;

export async function startHealthServer(options: {
  port: number;
  host: string;
  health: HealthSource;
  metrics: { render(): Promise<string> };
  now?: () => number;
}): Promise<HealthServer> {
  const now = options.now ?? Date.now;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      const state = options.health.state();
      const stalled = state === 'ready' && now() - options.health.lastBeatAt() > STALL_MS;
      res
        .writeHead(stalled ? 503 : 200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: stalled ? 'stalled' : state === 'ready' ? 'ok' : state }));
    } else if (path === '/readyz') {
      const report = workerReadiness(options.health.state(), now() - options.health.lastBeatAt());
      res
        .writeHead(report.status === 'ready' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(report));
    } else if (path === '/metrics') {
      options.metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'not_found', message: 'GET /healthz, /readyz or /metrics' } }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Whether the worker takes jobs: its one check, 'engine', in the report shape /readyz of the edge uses. */
export function workerReadiness(state: ReturnType<HealthSource['state']>, sinceBeatMs: number): ReadinessReport {
  const message =
    state === 'starting'
      ? 'loading the models'
      : state === 'stopping'
        ? 'stopping: finishing or handing back its jobs'
        : sinceBeatMs > STALL_MS
          ? `the engine's loop has not gone round for ${Math.round(sinceBeatMs / 1000)} s`
          : undefined;
  return message === undefined
    ? { status: 'ready', missing: [], checks: { engine: { ok: true } } }
    : { status: 'not_ready', missing: [{ check: 'engine', message }], checks: { engine: { ok: false, message } } };
}

/**
 * The worker's HTTP side (node:http): GET /healthz answers 200 while the engine's loop goes
 * round (the container's health check), GET /metrics the Prometheus text.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE } from '../shared/metrics/index.js';

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

export async function startHealthServer(options: { port: number; host: string; health: HealthSource; metrics: { render(): Promise<string> }; now?: () => number }): Promise<HealthServer> {
  const now = options.now ?? Date.now;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      const state = options.health.state();
      const stalled = now() - options.health.lastBeatAt() > STALL_MS;
      const ok = state === 'ready' && !stalled;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : stalled && state === 'ready' ? 'stalled' : state }));
    } else if (path === '/metrics') {
      options.metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'GET /healthz or /metrics' } }));
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

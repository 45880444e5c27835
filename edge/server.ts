/**
 * The Node adapter: serves the app over HTTP. Without API_KEYS it refuses any address but
 * loopback, so an unauthenticated server is never reachable from the network.
 * Run directly (`npm run start:edge`), it builds its dependencies from the environment.
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import { type Config, configFromProcessEnv, isLoopbackHost } from '../shared/config/index.js';
import { createLogger } from '../shared/logging/index.js';
import { createApp } from './app.js';
import { buildDeps } from './deps.js';

export class UnsafeBindError extends Error {
  constructor(host: string) {
    super(
      `refusing to listen on HOST=${host} without API_KEYS: an unauthenticated server may only bind loopback ` +
        '(127.0.0.1, ::1, localhost). Set API_KEYS=<key>[,<key>...] or HOST=127.0.0.1.',
    );
    this.name = 'UnsafeBindError';
  }
}

export function assertSafeBind(config: Pick<Config, 'host' | 'apiKeys'>): void {
  if (config.apiKeys.length === 0 && !isLoopbackHost(config.host)) throw new UnsafeBindError(config.host);
}

export interface RunningServer {
  /** http://host:port, the base URL for clients. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  config: Pick<Config, 'host' | 'port' | 'apiKeys'>,
): Promise<RunningServer> {
  assertSafeBind(config);
  const server = createAdaptorServer({ fetch: app.fetch, hostname: config.host });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    // Idempotent: a second call waits for the first.
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Idle keep-alive sockets would hold close() open.
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      })),
  };
}

/** `npm run start:edge`: the edge alone, from the environment, until SIGINT/SIGTERM. */
export async function main(): Promise<void> {
  const config = configFromProcessEnv();
  const logger = createLogger(config, { name: 'edge' });
  assertSafeBind(config); // before loading a model only to refuse to serve it
  const deps = await buildDeps(config, { logger });
  const server = await startServer(createApp(deps), config);
  logger.info({ url: server.url, auth: config.apiKeys.length > 0 }, `edge listening on ${server.url} (docs at ${server.url}/docs)`);
  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await server.close();
    await deps.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`edge: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

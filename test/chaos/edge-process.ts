/**
 * The edge as a process of its own (edge/server.ts, as `npm run start:edge` runs it), on a
 * fixed loopback port so that clients keep their URL across a restart.
 */
import { createServer } from 'node:net';
import { spawnTsx, type TsxProcess, untilHealthy } from './tsx-process.js';

export type EdgeProcess = TsxProcess;

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts edge/server.ts with `env` and resolves once /healthz answers. */
export async function startEdgeProcess(env: Record<string, string>, url: string, timeoutMs = 120_000): Promise<EdgeProcess> {
  const edge = spawnTsx('edge/server.ts', env);
  await untilHealthy(edge, url, 'edge', timeoutMs);
  return edge;
}

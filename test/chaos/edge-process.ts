/**
 * The edge as a process of its own (edge/server.ts, as `npm run start:edge` runs it), on a
 * fixed loopback port so that clients keep their URL across a restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '../e2e/system.js';

export interface EdgeProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<unknown>;
}

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
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'edge/server.ts')], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`edge exited before it was ready:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`edge not ready after ${timeoutMs} ms:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => output, exited };
}

/**
 * The real system on loopback for end-to-end tests: the edge (edge/deps.ts, createApp and
 * the Node adapter edge/server.ts) on 127.0.0.1 in this process, and gpu-worker/main.ts as
 * child processes (killable), on one temporary DATA_DIR and a back end (backends.ts): the
 * embedded one (SQLite queue + file store) or the local S3/SQS servers. Nothing is stubbed:
 * the fixture package answers a draw prompt with `<boi>` by itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../edge/app.js';
import { type BuiltDeps, buildDeps } from '../../edge/deps.js';
import { startServer } from '../../edge/server.js';
import type { WorkerReadyMessage } from '../../gpu-worker/ipc.js';
import { loadConfig } from '../../shared/config/index.js';
import { createLogger } from '../../shared/logging/index.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TINY_DIR = join(REPO_ROOT, 'packages/tiny');
/** E2E_MODEL_DIR runs the same tests on another package (the trained one). */
export const MODEL_DIR = process.env['E2E_MODEL_DIR'] ?? TINY_DIR;
export const VISIBILITY_TIMEOUT_SECONDS = 2;

/** The environment every process of the system shares. */
export function systemEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    MODELS: MODEL_DIR,
    VISIBILITY_TIMEOUT_SECONDS: String(VISIBILITY_TIMEOUT_SECONDS),
    LOG_LEVEL: process.env['E2E_LOG_LEVEL'] ?? 'warn',
    ...extra,
  };
}

export interface Edge {
  url: string;
  deps: BuiltDeps;
  close(): Promise<void>;
}

/** `backendEnv`: the back end's variables (STORE, QUEUE, ...); none for the embedded default. */
export async function startEdge(dataDir: string, backendEnv: Record<string, string> = {}): Promise<Edge> {
  const config = loadConfig(systemEnv(dataDir, { ...backendEnv, PORT: '0', HOST: '127.0.0.1' }));
  const deps = await buildDeps(config, { logger: createLogger({ logLevel: 'silent' }), intraOpThreads: 1 });
  const server = await startServer(createApp(deps), config);
  return {
    url: server.url,
    deps,
    async close() {
      await server.close();
      await deps.close();
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  healthPort: number;
  maxBatch: number;
  /** stdout + stderr so far (JSON log lines). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** gpu-worker/main.ts in a child process; resolves once it says it takes jobs. */
export async function startWorkerProcess(dataDir: string, extra: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'gpu-worker/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      ...systemEnv(dataDir, { WORKER_HEALTH_PORT: '0', WORKER_MAX_BATCH: '4', WORKER_PROGRESS_INTERVAL_MS: '0', ...extra }),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = await Promise.race([
    new Promise<WorkerReadyMessage>((resolve) => child.on('message', (m: WorkerReadyMessage) => m.type === 'worker-ready' && resolve(m))),
    exited.then(({ code }) => {
      throw new Error(`worker exited (${code}) before it was ready:\n${output}`);
    }),
  ]);
  return { child, healthPort: ready.healthPort, maxBatch: ready.maxBatch, output: () => output, exited };
}

/** SIGTERM, then SIGKILL if it has not gone after `ms`. */
export async function stopProcess(p: { child: ChildProcess; exited: Promise<unknown> }, ms = 30_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  await p.exited;
  clearTimeout(timer);
}

export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Generation {
  id: string;
  status: string;
  progress: { step: number; steps: number };
  output: ({ type: 'text'; text: string } | { type: 'image'; url: string; width: number; height: number; mime_type: string })[];
  error?: { code: string; message: string };
}

export async function api<T = Generation>(
  base: string,
  path: string,
  init?: { method?: string; body?: unknown },
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method: init?.method ?? (init?.body === undefined ? 'GET' : 'POST'),
    ...(init?.body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export async function poll(
  base: string,
  id: string,
  until: (g: Generation) => boolean,
  timeoutMs = 30_000,
  everyMs = 20,
): Promise<Generation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api(base, `/v1/generations/${id}`);
    if (until(body)) return body;
    if (Date.now() > deadline) throw new Error(`timed out polling ${id}: last ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const isFinished = (g: Generation): boolean => ['succeeded', 'failed', 'canceled'].includes(g.status);

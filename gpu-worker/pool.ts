/**
 * A pool of worker processes for the embedded default (`npm start`): each is
 * gpu-worker/main.ts in its own process (real isolation: a crash or a SIGKILL takes one
 * worker, never the API), restarted when it dies, stopped with SIGTERM. Their metrics come
 * over IPC and are served, labelled by worker, by the parent's /metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logging/index.js';
import type { MetricsSource } from '../shared/metrics/index.js';
import { EXIT_CONFIG } from './exit-codes.js';
import { isWorkerMessage } from './ipc.js';
import { mergeWorkerMetrics } from './metrics-merge.js';
import { renderPoolMetrics } from './pool-metrics.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

export interface PoolOptions {
  count: number;
  /** Environment of the workers (the parent's, usually); the health port is picked per worker. */
  env: Record<string, string | undefined>;
  logger: Logger;
  /** How long a worker may take to load the model and measure its batch. */
  readyTimeoutMs?: number;
  /** How long a stopping worker may take before SIGKILL (its grace period plus margin). */
  stopTimeoutMs?: number;
}

export interface PoolWorker {
  readonly index: number;
  readonly pid: number;
  readonly healthPort: number;
  readonly maxBatch: number;
  /** Times it was started again after dying. */
  readonly restarts: number;
}

export interface WorkerPool {
  /** Resolves when every worker takes jobs; rejects if one cannot start. */
  readonly ready: Promise<void>;
  workers(): PoolWorker[];
  /** The workers' metrics, labelled worker="<index>" (at most a second old), and the pool's own. */
  readonly metrics: MetricsSource;
  /** SIGTERM to every worker (they finish or hand back their jobs), then wait for them. */
  stop(): Promise<void>;
}

interface Slot {
  index: number;
  child?: ChildProcess;
  info?: PoolWorker;
  restarts: number;
  metrics: string;
  startedAt: number;
}

export function startWorkerPool(options: PoolOptions): WorkerPool {
  const readyTimeoutMs = options.readyTimeoutMs ?? 300_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 60_000;
  const slots: Slot[] = Array.from({ length: options.count }, (_, index) => ({ index, restarts: 0, metrics: '', startedAt: 0 }));
  let stopping = false;

  const launch = (slot: Slot): Promise<void> => {
    const log = options.logger.child({ worker: slot.index });
    // Its own process group: a terminal's Ctrl-C reaches the parent only, which then stops
    // the workers once, gracefully. A parent that dies closes the IPC channel, and the
    // worker stops itself (main.ts listens for 'disconnect').
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
      cwd: REPO_ROOT,
      env: { ...options.env, WORKER_HEALTH_PORT: '0', WORKER_HEALTH_HOST: '127.0.0.1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    });
    slot.child = child;
    slot.info = undefined;
    slot.startedAt = Date.now();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`worker ${slot.index} was not ready after ${readyTimeoutMs} ms`));
        child.kill('SIGKILL');
      }, readyTimeoutMs);
      child.on('message', (message: unknown) => {
        if (!isWorkerMessage(message)) return;
        if (message.type === 'worker-metrics') slot.metrics = message.text;
        else {
          slot.info = { index: slot.index, pid: message.pid, healthPort: message.healthPort, maxBatch: message.maxBatch, restarts: slot.restarts };
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (slot.child !== child) return;
        slot.child = undefined;
        if (stopping) return;
        if (!slot.info) {
          reject(new Error(`worker ${slot.index} exited (${signal ?? code}) before it was ready`));
          return;
        }
        slot.info = undefined;
        if (code === EXIT_CONFIG) {
          log.error({ code }, 'worker exited with a configuration error; not restarting it');
          return;
        }
        // A worker that keeps dying right after its start backs off; one that ran a while restarts at once.
        const ranMs = Date.now() - slot.startedAt;
        slot.restarts += 1;
        const delayMs = ranMs > 30_000 ? 0 : Math.min(30_000, 500 * 2 ** Math.min(6, slot.restarts - 1));
        log.warn({ code, signal, restartInMs: delayMs }, 'worker died; its jobs come back to the queue after their visibility timeout; restarting it');
        setTimeout(() => {
          if (!stopping) launch(slot).catch((err: unknown) => log.error({ err }, 'worker restart failed'));
        }, delayMs).unref();
      });
    });
  };

  const ready = Promise.all(slots.map(launch)).then(() => undefined);
  ready.catch(() => {}); // the caller awaits it; a rejection must not go unhandled before that

  return {
    ready,
    workers: () => slots.flatMap((s) => (s.info ? [{ ...s.info, restarts: s.restarts }] : [])),
    metrics: {
      render: () =>
        mergeWorkerMetrics(slots.filter((s) => s.metrics).map((s) => ({ worker: String(s.index), text: s.metrics }))) +
        renderPoolMetrics(slots.map((s) => ({ index: s.index, pid: s.info?.pid, restarts: s.restarts }))),
    },
    async stop() {
      stopping = true;
      await Promise.all(
        slots.map(async (slot) => {
          const child = slot.child;
          if (!child || child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}

/**
 * A pool of worker processes for the embedded default (`npm start`): each is
 * gpu-worker/main.ts in its own process (real isolation: a crash or a SIGKILL takes one
 * worker, never the API), stopped with SIGTERM. A slot whose worker dies, whenever it dies
 * (before it is ready, while it loads, or after hours of work), is started again after a
 * capped backoff for as long as the pool runs; only a configuration error (EXIT_CONFIG),
 * which would fail the same way again, stops a slot. Their metrics come over IPC and are
 * served, labelled by worker, by the parent's /metrics; so does each job record they write
 * (`onJobChange`), which wakes the edge's waiting requests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logging/index.js';
import { type MetricsJson, type MetricsSource, withLabels } from '../shared/metrics/index.js';
import type { JobChangeListener } from '../shared/ports/job-changes.js';
import { type Backoff, DEFAULT_BACKOFF, restartDelayMs } from './backoff.js';
import { EXIT_CONFIG } from './exit-codes.js';
import { isWorkerMessage, type ParentMessage } from './ipc.js';
import { poolMetricsJson } from './pool-metrics.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

export interface PoolOptions {
  count: number;
  /** Environment of the workers (the parent's, usually); the health port is picked per worker. */
  env: Record<string, string | undefined>;
  logger: Logger;
  /** How long a worker may take to load the model and measure its batch before it is killed and started again. */
  readyTimeoutMs?: number;
  /** How long a stopping worker may take before SIGKILL (its grace period plus margin). */
  stopTimeoutMs?: number;
  /** Waits between restarts of a slot (default: 0.25 s doubling to 10 s, cleared after 30 s ready). */
  backoff?: Partial<Backoff>;
  /** Node's arguments for a worker (default: gpu-worker/main.ts through tsx); tests run a stand-in. */
  workerArgs?: readonly string[];
}

export interface PoolWorker {
  readonly index: number;
  readonly pid: number;
  readonly healthPort: number;
  readonly maxBatch: number;
  /** Times it was started again after dying. */
  readonly restarts: number;
}

/**
 * starting: a process is loading; ready: it takes jobs; waiting: it died and the slot
 * starts again after its backoff; stopped: a configuration error, or the pool stopped.
 */
export type SlotState = 'starting' | 'ready' | 'waiting' | 'stopped';

export interface SlotStatus {
  readonly index: number;
  readonly state: SlotState;
  /** The process of the slot while it starts or runs. */
  readonly pid?: number;
  readonly restarts: number;
  /** How the last worker of the slot ended ("SIGKILL", "exit 1"). */
  readonly lastExit?: string;
  /** Why a stopped slot is not started again. */
  readonly reason?: string;
}

export interface WorkerPool {
  /** Resolves once every slot has had a worker ready, or has stopped for a configuration error. Never rejects. */
  readonly started: Promise<void>;
  /** The workers that take jobs now. */
  workers(): PoolWorker[];
  /** Every slot, whatever its state. */
  status(): SlotStatus[];
  /** Called after every change of a slot's state; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Called with a job's id after a worker wrote its record (the edge wakes its waits); returns the unsubscribe. */
  onJobChange(listener: JobChangeListener): () => void;
  /** Tells every ready worker that the edge queued jobs, so that it receives now (ipc.ts, `jobs-queued`). */
  jobsQueued(): void;
  /** The workers' metrics (prom-client JSON), labelled worker="<index>" (at most a second old), and the pool's own. */
  readonly metrics: MetricsSource;
  /** SIGTERM to every worker (they finish or hand back their jobs), then wait for them. */
  stop(): Promise<void>;
}

interface Slot {
  index: number;
  state: SlotState;
  child?: ChildProcess;
  info?: PoolWorker;
  restarts: number;
  /** Deaths since the slot's last worker that stayed ready for backoff.resetAfterMs. */
  deaths: number;
  lastExit?: string;
  reason?: string;
  metrics: MetricsJson;
  /** The pending restart, ready timeout or backoff reset. */
  timer?: NodeJS.Timeout;
  /** Ready once, or stopped: counts towards `started`. */
  settled: boolean;
}

export function startWorkerPool(options: PoolOptions): WorkerPool {
  const readyTimeoutMs = options.readyTimeoutMs ?? 300_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 60_000;
  const backoff: Backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const workerArgs = options.workerArgs ?? ['--import', 'tsx', ENTRY];
  const slots: Slot[] = Array.from({ length: options.count }, (_, index) => ({
    index,
    state: 'starting',
    restarts: 0,
    deaths: 0,
    metrics: [],
    settled: false,
  }));
  const listeners = new Set<() => void>();
  const jobListeners = new Set<JobChangeListener>();
  let stopping = false;

  let resolveStarted!: () => void;
  const started = new Promise<void>((resolve) => (resolveStarted = resolve));
  const changed = (slot: Slot): void => {
    if (slot.state === 'ready' || slot.state === 'stopped') slot.settled = true;
    if (slots.every((s) => s.settled)) resolveStarted();
    for (const listener of listeners) listener();
  };
  const setTimer = (slot: Slot, ms: number, fn: () => void): void => {
    clearTimeout(slot.timer);
    // Unref'd: the pool never keeps a process alive by itself (the API server does).
    slot.timer = setTimeout(fn, ms).unref();
  };

  const launch = (slot: Slot): void => {
    if (stopping) return;
    const log = options.logger.child({ worker: slot.index });
    // Its own process group: a terminal's Ctrl-C reaches the parent only, which then stops
    // the workers once, gracefully. A parent that dies closes the IPC channel, and the
    // worker stops itself (main.ts listens for 'disconnect').
    const child = spawn(process.execPath, [...workerArgs], {
      cwd: REPO_ROOT,
      env: { ...options.env, WORKER_HEALTH_PORT: '0', WORKER_HEALTH_HOST: '127.0.0.1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    });
    slot.child = child;
    slot.info = undefined;
    slot.state = 'starting';
    changed(slot);
    setTimer(slot, readyTimeoutMs, () => {
      log.warn({ readyTimeoutMs }, 'worker not ready in time; killing it to start it again');
      child.kill('SIGKILL');
    });

    child.on('message', (message: unknown) => {
      if (!isWorkerMessage(message) || slot.child !== child) return;
      if (message.type === 'job-changed') {
        for (const listener of jobListeners) listener(message.jobId);
        return;
      }
      if (message.type === 'worker-metrics') {
        slot.metrics = withLabels(message.metrics, { worker: String(slot.index) });
        return;
      }
      slot.info = {
        index: slot.index,
        pid: message.pid,
        healthPort: message.healthPort,
        maxBatch: message.maxBatch,
        restarts: slot.restarts,
      };
      slot.state = 'ready';
      // A worker that stays up a while has recovered: its next death restarts it quickly.
      setTimer(slot, backoff.resetAfterMs, () => (slot.deaths = 0));
      if (slot.restarts > 0) log.info({ pid: message.pid, restarts: slot.restarts }, 'worker ready again');
      changed(slot);
    });

    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null, err?: Error): void => {
      if (ended) return;
      ended = true;
      if (slot.child !== child) return;
      clearTimeout(slot.timer);
      const wasReady = slot.info !== undefined;
      slot.child = undefined;
      slot.info = undefined;
      slot.lastExit = err ? `spawn error: ${err.message}` : (signal ?? `exit ${code}`);
      if (stopping) {
        slot.state = 'stopped';
        changed(slot);
        return;
      }
      if (code === EXIT_CONFIG) {
        // Starting it again would fail the same way; said once, here and in readiness.
        slot.state = 'stopped';
        slot.reason = `configuration error (exit ${EXIT_CONFIG}); see the worker's message above`;
        log.error({ code }, 'worker exited with a configuration error; not restarting it');
        changed(slot);
        return;
      }
      slot.deaths += 1;
      slot.restarts += 1;
      const delayMs = restartDelayMs(slot.deaths, backoff);
      slot.state = 'waiting';
      log.warn(
        { code, signal, restartInMs: delayMs, restarts: slot.restarts, ...(err ? { err } : {}) },
        wasReady
          ? 'worker died; its jobs come back to the queue after their visibility timeout; restarting it'
          : 'worker died before it was ready; restarting it',
      );
      setTimer(slot, delayMs, () => launch(slot));
      changed(slot);
    };
    child.once('exit', (code, signal) => onEnd(code, signal));
    // A process that could not be spawned at all emits 'error' and no 'exit'.
    child.once('error', (err) => {
      if (child.pid === undefined) onEnd(null, null, err);
    });
  };

  for (const slot of slots) launch(slot);

  return {
    started,
    workers: () => slots.flatMap((s) => (s.info ? [{ ...s.info, restarts: s.restarts }] : [])),
    status: () =>
      slots.map((s) => ({
        index: s.index,
        state: s.state,
        restarts: s.restarts,
        ...(s.child?.pid !== undefined ? { pid: s.child.pid } : {}),
        ...(s.lastExit !== undefined ? { lastExit: s.lastExit } : {}),
        ...(s.reason !== undefined ? { reason: s.reason } : {}),
      })),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onJobChange(listener) {
      jobListeners.add(listener);
      return () => jobListeners.delete(listener);
    },
    jobsQueued() {
      const message: ParentMessage = { type: 'jobs-queued' };
      for (const slot of slots) {
        // A channel closing under a dying worker is no error here: its jobs wait for the next worker.
        if (slot.state === 'ready' && slot.child?.connected) slot.child.send(message, () => {});
      }
    },
    metrics: {
      json: async () => [
        ...slots.flatMap((s) => s.metrics),
        ...(await poolMetricsJson(slots.map((s) => ({ index: s.index, pid: s.info?.pid, restarts: s.restarts })))),
      ],
    },
    async stop() {
      stopping = true;
      await Promise.all(
        slots.map(async (slot) => {
          clearTimeout(slot.timer);
          const child = slot.child;
          if (!child || child.exitCode !== null || child.signalCode !== null) {
            slot.state = 'stopped';
            return;
          }
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
          await exited;
          clearTimeout(timer);
        }),
      );
      listeners.clear();
      jobListeners.clear();
    },
  };
}

/**
 * The worker process: configuration, model, adapters, the engine, the health server and
 * the signals. SIGTERM/SIGINT: stop receiving, finish or hand back the held jobs within the
 * grace period, exit 0. Started by the container (Dockerfile) or by `npm start` as a child.
 */

import { openAdapters } from '../shared/adapters.js';
import { ConfigError, configFromProcessEnv } from '../shared/config/index.js';
import { createLogger } from '../shared/logging/index.js';
import { loadModelRegistry, type ModelRegistry, ModelRegistryError } from '../shared/models/index.js';
import { createRuntime, type OnnxModelRuntime } from '../shared/runtime/index.js';
import { measureAutoBatch } from './autotune.js';
import { EXIT_CONFIG } from './exit-codes.js';
import { startHealthServer } from './health.js';
import { isParentMessage, METRICS_PUSH_MS, tell } from './ipc.js';
import { createWorkerMetrics } from './metrics.js';
import type { ModelRunner } from './model-runner.js';
import { ExecutionProviderUnavailable, openWorkerRuntime } from './provider-check.js';
import { EcsAgentTaskProtection, ScaleInProtection } from './task-protection.js';
import { TellingStore } from './telling-store.js';
import { startWorker, type Worker } from './worker.js';
import { loadWorkerEnv } from './worker-env.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof configFromProcessEnv>;
  let env: ReturnType<typeof loadWorkerEnv>;
  try {
    config = configFromProcessEnv();
    env = loadWorkerEnv(process.env);
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const logger = createLogger(config, { name: 'worker' });
  for (const warning of config.warnings) logger.warn(warning);

  let state: 'starting' | 'ready' | 'stopping' = 'starting';
  let worker: Worker | undefined;
  const metrics = createWorkerMetrics();
  const health = await startHealthServer({
    port: env.healthPort,
    host: env.healthHost,
    metrics,
    health: { state: () => state, lastBeatAt: () => worker?.engine.lastBeatAt ?? Date.now() },
  });

  let registry: ModelRegistry;
  try {
    registry = await loadModelRegistry(config.modelDirs, { from: config.modelsFrom });
  } catch (err) {
    // A package that cannot be served is a configuration error, which the pool does not restart.
    if (!(err instanceof ModelRegistryError)) throw err;
    process.stderr.write(`${err.message}\n`);
    await health.close();
    process.exit(EXIT_CONFIG);
  }
  // The models first, every one of them: a worker that cannot run them (no usable CUDA) opens
  // no queue and holds no job, and the first job of a model never waits for its graph to load.
  const opened: { runtime: OnnxModelRuntime; runner: ModelRunner }[] = [];
  try {
    for (const model of registry.models) {
      opened.push(
        await openWorkerRuntime(model.dir, {
          executionProvider: config.executionProvider,
          name: model.name,
          open: (dir, options) => createRuntime(dir, { ...options, info: model }),
        }),
      );
    }
  } catch (err) {
    if (!(err instanceof ExecutionProviderUnavailable)) throw err;
    // Once, clearly, then a configuration exit: the pool does not restart it and ECS's
    // deployment circuit breaker rolls the deployment back instead of replacing it forever.
    logger.fatal({ executionProvider: err.executionProvider, models: registry.names }, err.message);
    await Promise.all(opened.map((o) => o.runtime.close()));
    await health.close();
    process.exit(EXIT_CONFIG);
  }
  const runners = opened.map((o) => o.runner);
  if (config.queue === 'sqs' && !config.sqsDlqUrl) {
    logger.fatal('SQS_DLQ_URL: required by the worker when QUEUE=sqs (it drains the dead letters)');
    await health.close();
    process.exit(EXIT_CONFIG);
  }
  const adapters = openAdapters(config);
  // A worker of `npm start`'s pool tells the edge beside it of each job record it writes.
  const store = process.send ? new TellingStore(adapters.store, (jobId) => tell({ type: 'job-changed', jobId })) : adapters.store;
  let maxBatch: number;
  if (config.workerMaxBatch === 'auto') {
    // One bound for the whole running set: the smallest batch any model needs for its best throughput.
    maxBatch = Infinity;
    for (const runner of runners) {
      const auto = await measureAutoBatch(runner);
      maxBatch = Math.min(maxBatch, auto.chosen);
      logger.info(
        {
          model: runner.name,
          chosen: auto.chosen,
          measurements: auto.measurements.map((m) => ({
            batch: m.batch,
            msPerCall: round(m.msPerCall),
            rowsPerSecond: round(m.rowsPerSecond),
          })),
        },
        'WORKER_MAX_BATCH=auto: measured',
      );
    }
  } else {
    maxBatch = config.workerMaxBatch;
  }

  const tp = env.taskProtection;
  const protection = tp
    ? new ScaleInProtection({
        port: new EcsAgentTaskProtection(tp.agentUri),
        expiresInMinutes: tp.expiresInMinutes,
        idleMs: tp.idleMs,
        logger: logger.child({ part: 'task-protection' }),
      })
    : undefined;
  worker = startWorker(
    { ...adapters, store, runners, logger, metrics, deadLetterWaitSeconds: env.deadLetterWaitSeconds, webhooks: config.webhooks },
    {
      maxBatch,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      progressIntervalMs: env.progressIntervalMs,
      cancelCheckMs: env.progressIntervalMs,
      maxImages: env.maxImages,
      ...(protection ? { onHeldChange: (held: number) => protection.update(held) } : {}),
    },
  );
  state = 'ready';
  logger.info(
    {
      models: registry.names,
      executionProvider: config.executionProvider,
      maxBatch,
      healthPort: health.port,
      queue: config.queue,
      store: config.store,
      taskProtection: protection !== undefined,
    },
    'worker ready',
  );
  tell({ type: 'worker-ready', healthPort: health.port, maxBatch, pid: process.pid });
  if (process.send) {
    setInterval(() => void metrics.json().then((json) => tell({ type: 'worker-metrics', metrics: json })), METRICS_PUSH_MS).unref();
    // SQLite's long poll only looks now and then: cut it short. SQS's returns as soon as a
    // message arrives, and cutting its request short could drop messages it was returning.
    if (config.queue === 'sqlite')
      process.on('message', (message: unknown) => {
        if (isParentMessage(message)) worker?.engine.jobsQueued();
      });
  }

  let signals = 0;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now (held messages come back after their visibility timeout)');
      process.exit(1);
    }
    state = 'stopping';
    logger.info({ signal, graceMs: env.shutdownGraceMs }, 'stopping');
    await worker?.stop(env.shutdownGraceMs);
    await protection?.close();
    await health.close();
    await adapters.close();
    await Promise.all(opened.map((o) => o.runtime.close()));
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', (s) => void stop(s));
  process.on('SIGINT', (s) => void stop(s));
  // A parent that goes away (npm start killed) takes its workers with it.
  process.on('disconnect', () => void stop('SIGTERM'));
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

await main();

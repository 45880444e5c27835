/**
 * `npm start`: the whole system on this machine, no cloud account. The edge (the HTTP API)
 * runs in this process; the workers run as child processes (gpu-worker/pool.ts), all on
 * DATA_DIR (default ./.data): a SQLite queue and a file store. The API's /metrics includes
 * the workers'. Ctrl-C (SIGINT) or SIGTERM stops everything: the API first, then the
 * workers, which finish or hand back their jobs.
 *
 *   npm start                    edge + WORKER_CONCURRENCY workers (default 1)
 *   npm start -- --worker-only   one worker, no API (same as gpu-worker/main.ts)
 */
import { createApp } from '../edge/app.js';
import { type BuiltDeps, buildDeps } from '../edge/deps.js';
import { readinessChecks } from '../edge/readiness/route.js';
import { assertSafeBind, type RunningServer, startServer } from '../edge/server.js';
import { type PoolWorker, startWorkerPool, type WorkerPool } from '../gpu-worker/pool.js';
import { poolReadinessCheck } from '../gpu-worker/pool-readiness.js';
import { type Config, ConfigError, configFromProcessEnv, FALLBACK_MODEL_DIR } from '../shared/config/index.js';
import { createLogger } from '../shared/logging/index.js';
import { ModelRegistryError } from '../shared/models/index.js';
import { type ReadinessWatch, watchReadiness } from '../shared/readiness/index.js';
import { linkEdgeToPool } from './pool-links.js';

function readConfig(): Config {
  try {
    return configFromProcessEnv();
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
    process.exit(2);
  }
}

/** Where to send requests, for a person reading the terminal. */
export function banner(url: string, config: Config, workers: readonly PoolWorker[]): string {
  const fixture = (dir: string) => (dir === FALLBACK_MODEL_DIR ? '  (the test fixture: no shipped package is there yet)' : '');
  const models = config.modelDirs.map(
    (dir, i) => `${i === 0 ? '  Models    ' : '            '}${dir}${i === 0 ? '  (default)' : ''}${fixture(dir)}`,
  );
  const auth = config.apiKeys.length > 0 ? " -H 'authorization: Bearer <API key>'" : '';
  const batches = workers.map((w) => `pid ${w.pid}, max batch ${w.maxBatch}, metrics :${w.healthPort}/metrics`).join('; ');
  const missing = config.workerConcurrency - workers.length;
  const notRunning = missing > 0 ? `${batches ? '; ' : ''}${missing} not running (the [readiness] lines say why)` : '';
  return [
    '',
    `Unified text-and-image model API is up.`,
    `  API       ${url}`,
    `  Docs      ${url}/docs   (OpenAPI: ${url}/openapi.json)`,
    `  Health    ${url}/healthz   Ready: ${url}/readyz   Metrics: ${url}/metrics   Models: ${url}/v1/models`,
    ...models,
    `  Data      ${config.dataDir}`,
    `  Workers   ${workers.length}: ${batches}${notRunning}`,
    '',
    'Draw a picture:',
    `  curl -s ${url}/v1/generations -H 'content-type: application/json'${auth} -d '{"prompt":"draw a red circle at the top left"}'`,
    `  curl -s ${url}/v1/generations/<id>      # poll until "succeeded", then fetch output[].url`,
    'Or from the terminal:',
    `  npm run cli -- draw "a red circle at the top left" -o circle.png --url ${url}`,
    `  npm run cli -- describe circle.png --url ${url}`,
    `  npm run cli -- models --url ${url}      # the models served; choose one with --model NAME`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config, { name: 'start' });
  try {
    assertSafeBind(config);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  // Workers load their model while the edge loads its own.
  const pool: WorkerPool = startWorkerPool({ count: config.workerConcurrency, env: process.env, logger });
  let deps: BuiltDeps | undefined;
  let server: RunningServer | undefined;
  let watch: ReadinessWatch | undefined;
  let stopping = false;
  const stop = async (signal: string, code = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: API first, then the workers');
    watch?.stop();
    await server?.close().catch(() => {});
    await pool.stop();
    await deps?.close();
    logger.info('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  try {
    deps = await buildDeps(config, { logger: logger.child({ part: 'edge' }) });
    // The workers are part of readiness here: without one, a queued job would wait for ever.
    const readiness = [...(deps.readiness ?? []), poolReadinessCheck(pool)];
    // The edge and the workers tell each other of queued jobs and written records (pool-links.ts).
    const links = linkEdgeToPool(pool, deps.queue);
    server = await startServer(createApp({ ...deps, ...links, metrics: [pool.metrics], readiness }), config);
    // A line whenever readiness changes, and why it is not ready: a worker still loading, one
    // that keeps dying, a configuration error that stopped it, a store or queue gone.
    watch = watchReadiness(readinessChecks({ ...deps, readiness }), (line) => process.stdout.write(`[readiness] ${line}\n`));
    pool.onChange(() => watch?.poke());
  } catch (err) {
    // A model package that cannot be served is the configuration's fault: say so plainly, exit 2.
    if (err instanceof ModelRegistryError) process.stderr.write(`${err.message}\n`);
    else logger.fatal({ err }, 'could not start');
    await stop('startup failure', err instanceof ModelRegistryError ? 2 : 1);
    return;
  }
  await pool.started;
  process.stdout.write(banner(server.url, config, pool.workers()));
}

if (process.argv.includes('--worker-only')) await import('../gpu-worker/main.js');
else await main();

/**
 * `npm run chaos`: the chaos runs on both back ends, or one: the generations run (run.ts:
 * every kind of generation, worker kills, an edge restart) and the pool run (pool-run.ts:
 * `npm start`'s pool under start-up kills and a burst, with a readiness probe).
 *
 *   npm run chaos [-- --backend=embedded|aws|both --runs=generations,pool --generations=200 --kills=4
 *                     --workers=2 --clients=8 --seed=1 --burst-seconds=60 --job-every-ms=500]
 *
 * The AWS back end uses the local S3/SQS servers (started here when LOCAL_SERVERS=1 or
 * already running; see infra/local/servers.sh). Writes results/chaos-<backend>.json and
 * results/chaos-pool-<backend>.json and exits non-zero when an invariant is broken.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveAwsEnv } from '../adapters/aws-env.js';
import { awsBackend, type Backend, embeddedBackend } from '../e2e/backends.js';
import { REPO_ROOT } from '../e2e/system.js';
import { POOL_MAX_RECEIVE_COUNT, runPoolChaos } from './pool-run.js';
import { runChaos } from './run.js';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;

const which = arg('backend', 'both');
const options = {
  generations: Number(arg('generations', '200')),
  kills: Number(arg('kills', '4')),
  workers: Number(arg('workers', '2')),
  clients: Number(arg('clients', '8')),
  seed: Number(arg('seed', '1')),
  edgeRestart: arg('edge-restart', '1') === '1',
  hookFailEvery: Number(arg('hook-fail-every', '0')),
};
const runs = arg('runs', 'generations,pool').split(',');
const poolOptions = {
  workers: options.workers,
  seed: options.seed,
  burstSeconds: Number(arg('burst-seconds', '60')),
  jobEveryMs: Number(arg('job-every-ms', '500')),
};

const backends: (() => Promise<Backend | null>)[] = [];
if (which === 'embedded' || which === 'both') backends.push(async () => embeddedBackend());
if (which === 'aws' || which === 'both') {
  backends.push(async () => {
    const env = await resolveAwsEnv('chaos on S3/SQS');
    // The pool run's queue takes more receives than its kills (pool-run.ts); the generations run only needs some.
    return env ? awsBackend(env, runs.includes('pool') ? { maxReceiveCount: POOL_MAX_RECEIVE_COUNT } : {}) : null;
  });
}

for (const make of backends) {
  const backend = await make();
  if (!backend) {
    process.stdout.write('skipped the AWS back end: no local S3/SQS servers (LOCAL_SERVERS=1 starts them)\n');
    process.exitCode = 1;
    continue;
  }
  try {
    mkdirSync(join(REPO_ROOT, 'results'), { recursive: true });
    if (runs.includes('generations')) await generations(backend);
    if (runs.includes('pool')) await pool(backend);
  } finally {
    await backend.close();
  }
}

async function generations(backend: Backend): Promise<void> {
  const report = await runChaos({
    ...options,
    backend,
    log: (line) => process.stdout.write(`${line}\n`),
    logFile: join(REPO_ROOT, `results/chaos-${backend.name}.log`),
  });
  writeFileSync(join(REPO_ROOT, `results/chaos-${backend.name}.json`), `${JSON.stringify({ options, ...report }, null, 2)}\n`);
  process.stdout.write(
    `${backend.name}: ${report.generations} generations (${JSON.stringify(report.kinds)}) -> ${JSON.stringify(report.statuses)}; ` +
      `${report.kills} worker kills, ${report.edgeRestarts} edge restart(s), ${report.redelivered} jobs redelivered to another worker (${report.redeliveredMulti} of them answers of several images), ${report.unloggedWins} wins without a log line; ` +
      `webhooks ${report.webhooks.delivered}/${report.webhooks.expected} delivered and verified (${report.webhooks.failedAttempts} failed attempts retried); ` +
      `${report.imagesHashed} images hashed twice; ${report.seconds} s; violations: ${report.violations.length}\n`,
  );
  for (const v of report.violations) process.stdout.write(`  VIOLATION ${v}\n`);
  if (report.violations.length > 0) process.exitCode = 1;
}

async function pool(backend: Backend): Promise<void> {
  const r = await runPoolChaos({
    ...poolOptions,
    backend,
    log: (line) => process.stdout.write(`${line}\n`),
    logFile: join(REPO_ROOT, `results/chaos-pool-${backend.name}.log`),
  });
  writeFileSync(join(REPO_ROOT, `results/chaos-pool-${backend.name}.json`), `${JSON.stringify({ options: poolOptions, ...r }, null, 2)}\n`);
  const phases = Object.entries(r.readiness).map(
    ([name, p]) =>
      `${name} ${p.notReady}x503 (workers) ${p.otherNotReady}x503 (other) ${p.ready}x200${p.readyAfter ? ', back to 200' : ''}`,
  );
  process.stdout.write(
    `${backend.name} pool: start-up kills ${JSON.stringify(r.startupKills)}, burst kills ${r.burstKills}; the pool logged ${r.diedBeforeReady} deaths before ready and ${r.diedReady} after, ${r.restarts} restarts; ` +
      `${r.jobs} jobs -> ${JSON.stringify(r.statuses)}, ${r.redelivered} redelivered, ${r.imagesHashed} images hashed twice; readiness: ${phases.join(', ')}; ${r.seconds} s; violations: ${r.violations.length}\n`,
  );
  for (const v of r.violations) process.stdout.write(`  VIOLATION ${v}\n`);
  if (r.violations.length > 0) process.exitCode = 1;
}

/**
 * The pool's chaos run (issue 28 item 3): `npm start`'s system (the edge and its pool of
 * worker processes, test/chaos/system-process.ts) on a back end, jobs sent all along, and:
 *  1. start-up kills: the first workers SIGKILLed while they load; then, once ready, every
 *     worker SIGKILLed and each replacement SIGKILLed again while it starts;
 *  2. a burst: a SIGKILL every 1-3 s for `burstSeconds` of whatever process serves a slot,
 *     loading or ready (every 4th kill takes every slot's, so that none is ready); then quiet.
 * A readiness probe (GET /readyz every 100 ms) must say 503, naming the workers, after the
 * start-up kills and in the burst, come back to 200 after each, and not name the workers
 * once quiet (503s for a slow store or queue are counted, readiness-probe.ts).
 * Afterwards the pool is whole (every slot ready, served by a process never killed, one
 * restart a kill: no slot given up), every job succeeded once (burst-jobs.ts), the queues
 * drained, and no worker process outlives the system.
 */
import { writeFileSync } from 'node:fs';
import type { Backend } from '../e2e/backends.js';
import { systemEnv, tempDataDir } from '../e2e/system.js';
import { logLines } from '../log-lines.js';
import { processAlive } from '../support/process-alive.js';
import { type Job, jobKind, madeOnce, runJob } from './burst-jobs.js';
import { prng, sleep } from './client.js';
import { undrained } from './drain.js';
import { freePort } from './edge-process.js';
import { type PhaseReadiness, startReadinessProbe } from './readiness-probe.js';
import { type SystemProcess, startSystemProcess } from './system-process.js';

/** Receives before the run's queue dead-letters a message: more than the run's kills (see runPoolChaos). */
export const POOL_MAX_RECEIVE_COUNT = 50;

export interface PoolChaosOptions {
  backend: Backend;
  workers: number;
  /** How long the kills of the burst go on. */
  burstSeconds: number;
  /** A job is sent every this many ms (on average) from the start-up kills to the burst's end. */
  jobEveryMs: number;
  seed: number;
  log?: (line: string) => void;
  logFile?: string;
}

export interface PoolChaosReport {
  backend: string;
  workers: number;
  /** Kills of the start-up phase: of first workers loading, of ready workers, of replacements starting. */
  startupKills: { firstLoading: number; ready: number; replacementsStarting: number };
  burstKills: number;
  /** Deaths the pool logged as before `ready` and after it, over the whole run. */
  diedBeforeReady: number;
  diedReady: number;
  restarts: number;
  jobs: number;
  statuses: Record<string, number>;
  redelivered: number;
  imagesHashed: number;
  readiness: Record<string, PhaseReadiness>;
  seconds: number;
  violations: string[];
}

async function until(what: string, timeoutMs: number, test: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

export async function runPoolChaos(o: PoolChaosOptions): Promise<PoolChaosReport> {
  if (o.backend.maxReceiveCount < POOL_MAX_RECEIVE_COUNT && o.backend.name === 'aws') {
    throw new Error(`the pool run wants a queue of maxReceiveCount ${POOL_MAX_RECEIVE_COUNT}: awsBackend(env, { maxReceiveCount })`);
  }
  const log = o.log ?? (() => {});
  const rand = prng(o.seed);
  const started = Date.now();
  const data = tempDataDir();
  const url = `http://127.0.0.1:${await freePort()}`;
  const violations: string[] = [];
  const killed = new Set<number>();
  const seen = new Set<number>();
  const startupKills = { firstLoading: 0, ready: 0, replacementsStarting: 0 };
  let burstKills = 0;
  /** SIGKILL; false when the process had gone already (then it is not counted). */
  const kill = (pid: number): boolean => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return false;
    }
    killed.add(pid);
    return true;
  };
  // Visibility 6 s, as the generations run: killed workers' jobs come back within seconds.
  // The queue takes more receives than the run kills workers: a worker holds up to 4 jobs, and
  // three kills of the workers that held one job are three receives, which on the default count
  // rightly dead-letter it as a message that kills its workers (the e2e suite tests that path).
  // This run is about the pool healing, so every job must come through.
  const env = systemEnv(data.dir, {
    ...o.backend.env,
    PORT: url.split(':')[2]!,
    HOST: '127.0.0.1',
    WORKER_CONCURRENCY: String(o.workers),
    WORKER_MAX_BATCH: '4',
    WORKER_PROGRESS_INTERVAL_MS: '0',
    WORKER_DEAD_LETTER_WAIT_SECONDS: '1',
    VISIBILITY_TIMEOUT_SECONDS: '6',
    QUEUE_MAX_RECEIVE_COUNT: String(POOL_MAX_RECEIVE_COUNT),
    LOG_LEVEL: 'info',
  });
  const system: SystemProcess = startSystemProcess(env, url);
  const probe = startReadinessProbe(url);
  const livePids = async (): Promise<number[]> => {
    const pids = (await system.workerPids()).filter((p) => !killed.has(p));
    for (const p of pids) seen.add(p);
    return pids;
  };
  const whole = async (): Promise<boolean> => {
    const { ready } = await system.pool();
    return ready.length === o.workers && ready.every((p) => !killed.has(p)) && probe.latest()?.status === 200;
  };
  const jobs: Job[] = [];
  let sending = false;
  let settleBy = Infinity;
  const running: Promise<void>[] = [];
  try {
    // 1. Start-up kills. The first workers, while they load (the pool has never had them ready).
    await until('the first workers to start', 60_000, async () => (await livePids()).length === o.workers);
    await sleep(300 + rand() * 500);
    for (const pid of await livePids()) if (kill(pid)) startupKills.firstLoading += 1;
    await system.answering();
    await until('the pool to be whole after the first kills', 180_000, whole);
    log(
      `pool chaos on ${o.backend.name}: ${o.workers} workers at ${url}, ready after ${startupKills.firstLoading} kills of loading workers`,
    );

    // Jobs from here to the burst's end, so that kills land on work in flight.
    sending = true;
    const sender = (async () => {
      for (let i = 0; sending; i++) {
        const job: Job = { kind: jobKind(rand()) };
        jobs.push(job);
        running.push(runJob(url, job, i, () => settleBy, violations));
        await sleep(o.jobEveryMs * (0.5 + rand()));
      }
    })();
    await sleep(2_000);

    // Every worker, ready; then each replacement while it starts.
    probe.phase('startup-kills');
    for (const pid of await livePids()) if (kill(pid)) startupKills.ready += 1;
    await until('the replacements to start', 60_000, async () => (await livePids()).length === o.workers);
    await sleep(200 + rand() * 800);
    const { ready } = await system.pool();
    for (const pid of await livePids()) {
      if (ready.includes(pid)) continue; // came up faster than the kill: not a start-up kill
      if (kill(pid)) startupKills.replacementsStarting += 1;
    }
    await until('the pool to be whole after the start-up kills', 180_000, whole);
    log(
      `start-up kills: ${startupKills.ready} ready workers, then ${startupKills.replacementsStarting} replacements while they started; whole again`,
    );

    // 2. The burst.
    probe.phase('burst');
    const burstEnds = Date.now() + o.burstSeconds * 1000;
    for (let round = 1; Date.now() < burstEnds; round++) {
      await sleep(1_000 + rand() * 2_000);
      const pids = await livePids();
      if (pids.length === 0) continue; // every slot waits out its backoff
      const victims = round % 4 === 0 ? pids : [pids[Math.floor(rand() * pids.length)]!];
      for (const pid of victims) if (kill(pid)) burstKills += 1;
    }
    sending = false;
    await sender;
    log(`burst: ${burstKills} kills in ${o.burstSeconds} s, ${jobs.length} jobs sent`);
    probe.phase('recovery');
    await until('the pool to be whole after the burst', 180_000, whole);
    probe.phase('quiet');
    settleBy = Date.now() + 300_000;
    await Promise.all(running);
    await sleep(3_000); // quiet: readiness must hold

    // --- invariants ---------------------------------------------------------------------
    const pool = await system.pool();
    if (pool.ready.length !== o.workers || pool.ready.some((p) => killed.has(p)))
      violations.push(`the pool is not whole: ready ${JSON.stringify(pool.ready)}`);
    if (pool.restarts !== killed.size) violations.push(`${killed.size} kills but ${pool.restarts} restarts`);
    if (startupKills.replacementsStarting === 0) violations.push('no replacement was killed while it started');
    const made = await madeOnce(url, o.backend, data.dir, jobs, system.output());
    violations.push(...made.violations, ...(await undrained(o.backend, data.dir)));
    const readiness = await probe.stop();
    for (const phase of ['startup-kills', 'burst'])
      if (!readiness[phase]?.notReady) violations.push(`readiness never said 503 in the ${phase} phase`);
    for (const phase of ['start', 'startup-kills', 'recovery'])
      if (!readiness[phase]?.readyAfter)
        violations.push(`readiness did not come back to 200 after the ${phase} phase's last 503 naming the workers`);
    if (readiness['quiet']?.notReady)
      violations.push(`readiness named the workers in ${readiness['quiet'].notReady} 503s once quiet: ${readiness['quiet'].firstNotReady}`);
    const deaths = logLines(system.output()).map((l) => String(l['msg'] ?? ''));
    await system.stop();
    const outlived = [...seen].filter(processAlive);
    if (outlived.length > 0) violations.push(`worker processes outlived the system: ${outlived.join(', ')}`);

    const statuses: Record<string, number> = {};
    for (const j of jobs) if (j.final) statuses[j.final.status] = (statuses[j.final.status] ?? 0) + 1;
    return {
      backend: o.backend.name,
      workers: o.workers,
      startupKills,
      burstKills,
      diedBeforeReady: deaths.filter((m) => m.startsWith('worker died before it was ready')).length,
      diedReady: deaths.filter((m) => m.startsWith('worker died;')).length,
      restarts: pool.restarts,
      jobs: jobs.length,
      statuses,
      redelivered: made.redelivered,
      imagesHashed: made.imagesHashed,
      readiness,
      seconds: Math.round((Date.now() - started) / 1000),
      violations,
    };
  } finally {
    sending = false;
    settleBy = 0;
    await probe.stop();
    await Promise.allSettled(running);
    if (o.logFile) writeFileSync(o.logFile, system.output());
    await system.stop();
    data.remove();
  }
}

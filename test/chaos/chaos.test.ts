/**
 * The CI variant of `npm run chaos`: 20 generations, one worker SIGKILL, one edge restart,
 * on the embedded back end (and on the local S3/SQS servers when they are there), with
 * every invariant of run.ts checked; and the pool run (pool-run.ts) with a 10 s burst.
 */
import { describe, expect, it } from 'vitest';
import { resolveAwsEnv } from '../adapters/aws-env.js';
import { awsBackend, embeddedBackend } from '../e2e/backends.js';
import { POOL_MAX_RECEIVE_COUNT, runPoolChaos } from './pool-run.js';
import { runChaos } from './run.js';

/** Every 4th webhook delivery is refused by the receiver: the completed events must arrive by their retries. */
const small = { generations: 20, kills: 1, workers: 2, clients: 4, seed: 7, edgeRestart: true, settleMs: 120_000, hookFailEvery: 4 };

describe('chaos, 20 generations and one kill', () => {
  it('on the embedded back end: everything terminal, made once, webhooks delivered, nothing left', async () => {
    const report = await runChaos({ ...small, backend: embeddedBackend() });
    expect(report.violations, JSON.stringify(report)).toEqual([]);
    expect(report.kills).toBe(1);
    expect(report.edgeRestarts).toBe(1);
    expect(Object.values(report.statuses).reduce((a, b) => a + b, 0)).toBe(20);
    expect(report.kinds.multi).toBeGreaterThan(0);
    expect(report.webhooks.refusedByReceiver).toBeGreaterThan(0);
    expect(report.webhooks.failedAttempts).toBeGreaterThan(0);
  }, 400_000);

  it('on the local S3/SQS servers', async (ctx) => {
    const env = await resolveAwsEnv('chaos on S3/SQS');
    if (!env) ctx.skip();
    const backend = await awsBackend(env!);
    try {
      const report = await runChaos({ ...small, backend });
      expect(report.violations, JSON.stringify(report)).toEqual([]);
      expect(report.kills).toBe(1);
    } finally {
      await backend.close();
    }
  }, 400_000);
});

/** A short burst: the invariants are the full run's, the pool of two workers the same. */
const pool = { workers: 2, burstSeconds: 10, jobEveryMs: 1_000, seed: 7 };

describe("npm start's pool under start-up kills and a burst, readiness probed", () => {
  it('on the embedded back end: 503 then 200 around the kills, the pool whole, every job made once', async () => {
    const report = await runPoolChaos({ ...pool, backend: embeddedBackend() });
    expect(report.violations, JSON.stringify(report)).toEqual([]);
    expect(report.startupKills.replacementsStarting).toBeGreaterThan(0);
    expect(report.burstKills).toBeGreaterThan(0);
    expect(report.statuses).toEqual({ succeeded: report.jobs });
  }, 400_000);

  it('on the local S3/SQS servers', async (ctx) => {
    const env = await resolveAwsEnv('chaos on S3/SQS');
    if (!env) ctx.skip();
    const backend = await awsBackend(env!, { maxReceiveCount: POOL_MAX_RECEIVE_COUNT });
    try {
      const report = await runPoolChaos({ ...pool, backend });
      expect(report.violations, JSON.stringify(report)).toEqual([]);
      expect(report.statuses).toEqual({ succeeded: report.jobs });
    } finally {
      await backend.close();
    }
  }, 400_000);
});

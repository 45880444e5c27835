/**
 * The worker's own settings, beside the shared configuration (shared/config): read once
 * from the environment through zod, with an error that names the variable.
 */
import { z } from 'zod';

const int = (min: number, max: number) =>
  z.string().regex(/^\d+$/, `expected a whole number from ${min} to ${max}`).transform(Number).pipe(z.number().int().min(min).max(max));

export const WorkerEnvSchema = z.object({
  /** GET /healthz and /metrics; 0 picks a free port (reported to a parent process). */
  WORKER_HEALTH_PORT: int(0, 65_535).default(9091),
  /** Loopback by default; a container's health check runs inside it. */
  WORKER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  /** SIGTERM: how long running jobs may take to finish before their messages are handed back. */
  WORKER_SHUTDOWN_GRACE_SECONDS: int(0, 3600).default(20),
  /** Least time between two progress writes (and cancel checks) of one job. */
  WORKER_PROGRESS_INTERVAL_MS: int(0, 60_000).default(250),
  /** Images one answer may hold. */
  WORKER_MAX_IMAGES: int(1, 16).default(4),
  /**
   * Long-poll wait of the dead-letter drain. 20 s (SQS's maximum) costs nothing on SQS; a
   * server that does not wake a long poll for a redriven message (ElasticMQ) sees a dead
   * letter only at its next poll, so tests shorten it.
   */
  WORKER_DEAD_LETTER_WAIT_SECONDS: int(0, 20).default(20),
  /** Set by ECS in every task: the worker then holds task scale-in protection while busy. */
  ECS_AGENT_URI: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  /** ExpiresInMinutes of the protection (renewed at half of it while busy). */
  WORKER_PROTECTION_MINUTES: int(1, 2880).default(30),
  /** Idle time before the protection is dropped (debounce between jobs). */
  WORKER_PROTECTION_IDLE_SECONDS: int(0, 3600).default(10),
});

export interface WorkerEnv {
  healthPort: number;
  healthHost: string;
  shutdownGraceMs: number;
  progressIntervalMs: number;
  maxImages: number;
  deadLetterWaitSeconds: number;
  /** Present inside an ECS task (ECS_AGENT_URI). */
  taskProtection?: { agentUri: string; expiresInMinutes: number; idleMs: number };
}

export function loadWorkerEnv(env: Record<string, string | undefined>): WorkerEnv {
  const ours = Object.fromEntries(Object.keys(WorkerEnvSchema.shape).flatMap((k) => (env[k] ? [[k, env[k]]] : [])));
  const parsed = WorkerEnvSchema.safeParse(ours);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${String(i.path[0])}: ${i.message}`);
    throw new Error(`invalid worker configuration:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  return {
    healthPort: e.WORKER_HEALTH_PORT,
    healthHost: e.WORKER_HEALTH_HOST,
    shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_SECONDS * 1000,
    progressIntervalMs: e.WORKER_PROGRESS_INTERVAL_MS,
    maxImages: e.WORKER_MAX_IMAGES,
    deadLetterWaitSeconds: e.WORKER_DEAD_LETTER_WAIT_SECONDS,
    ...(e.ECS_AGENT_URI
      ? {
          taskProtection: {
            agentUri: e.ECS_AGENT_URI,
            expiresInMinutes: e.WORKER_PROTECTION_MINUTES,
            idleMs: e.WORKER_PROTECTION_IDLE_SECONDS * 1000,
          },
        }
      : {}),
  };
}

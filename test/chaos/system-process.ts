/**
 * `npm start`'s system (scripts/start.ts: the edge and its pool of worker processes, the
 * pool's readiness in /readyz) as a process of its own, on a fixed loopback port. Its
 * workers are found as its child processes (`ps`), so that one can be killed while it
 * loads, before the pool has a pid to report for it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { spawnTsx, type TsxProcess, untilHealthy } from './tsx-process.js';

const run = promisify(execFile);
const WORKER_ENTRY = 'gpu-worker/main.ts';

export interface SystemProcess extends TsxProcess {
  /** Resolves once /healthz answers (the edge listens; its workers may still load). */
  answering(timeoutMs?: number): Promise<void>;
  /** Live worker processes of the pool (loading or ready). */
  workerPids(): Promise<number[]>;
  /** The workers that take jobs, by slot, and each slot's restarts, as the pool reports them in /metrics. */
  pool(): Promise<{ ready: number[]; restarts: number }>;
  /** SIGTERM (the API first, then the workers, which hand back their jobs), then wait. */
  stop(): Promise<void>;
}

/** Starts scripts/start.ts with `env`; `answering` waits for /healthz (the workers may still load). */
export function startSystemProcess(env: Record<string, string>, url: string): SystemProcess {
  const system = spawnTsx('scripts/start.ts', env);
  const { child } = system;
  return {
    ...system,
    answering: (timeoutMs = 120_000) => untilHealthy(system, url, "npm start's process", timeoutMs),
    async workerPids() {
      const { stdout } = await run('ps', ['-A', '-o', 'pid=,ppid=,args=']);
      return stdout
        .split('\n')
        .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null && Number(m[2]) === child.pid && m[3]!.includes(WORKER_ENTRY))
        .map((m) => Number(m[1]));
    },
    async pool() {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const ready = [...metrics.matchAll(/^worker_up\{worker="\d+",pid="(\d+)"\} 1$/gm)].map((m) => Number(m[1]));
      const restarts = [...metrics.matchAll(/^worker_restarts_total\{worker="\d+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      return { ready, restarts };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await system.exited;
      clearTimeout(timer);
    },
  };
}

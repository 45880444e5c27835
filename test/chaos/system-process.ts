/**
 * `npm start`'s system (scripts/start.ts: the edge and its pool of worker processes, the
 * pool's readiness in /readyz) as a process of its own, on a fixed loopback port. Its
 * workers are found as its child processes (`ps`), so that one can be killed while it
 * loads, before the pool has a pid to report for it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../e2e/system.js';
import { sleep } from './client.js';

const run = promisify(execFile);
const WORKER_ENTRY = 'gpu-worker/main.ts';

export interface SystemProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<unknown>;
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
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/start.ts')], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child,
    output: () => output,
    exited,
    async answering(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`npm start's process exited before it answered:\n${output}`);
        try {
          if ((await fetch(`${url}/healthz`)).ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`npm start's process not answering after ${timeoutMs} ms:\n${output}`);
        await sleep(100);
      }
    },
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
      await exited;
      clearTimeout(timer);
    },
  };
}

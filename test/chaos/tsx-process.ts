/**
 * A repository script as a process of its own under tsx (the edge, `npm start`'s system), its
 * output kept for error messages, and the wait for its /healthz.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../e2e/system.js';
import { sleep } from './client.js';

export interface TsxProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<unknown>;
}

/** Starts `script` (a path from the repository root) with only PATH, HOME and `env`. */
export function spawnTsx(script: string, env: Record<string, string>): TsxProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, script)], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, output: () => output, exited };
}

/** Resolves once `url`/healthz answers; throws, with the output, if the process exits first or time runs out. */
export async function untilHealthy(proc: TsxProcess, url: string, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`${name} exited before it answered:\n${proc.output()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} not answering after ${timeoutMs} ms:\n${proc.output()}`);
    await sleep(100);
  }
}

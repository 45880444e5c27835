/** Runs the project's Python (the venv) for the parts of the benchmark that need it. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from './run-process.js';

export const REPO = fileURLToPath(new URL('..', import.meta.url));

export function pythonPath(): string {
  const fromEnv = process.env['PYTHON'];
  if (fromEnv) return fromEnv;
  const venv = join(REPO, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

/** Runs a Python script with stdin, returns stdout; rejects with stderr's tail on failure. */
export function runPython(args: readonly string[], stdin = '', env: Record<string, string> = {}): Promise<string> {
  return runProcess(pythonPath(), args, { cwd: REPO, env: { ...process.env, ...env }, stdin });
}

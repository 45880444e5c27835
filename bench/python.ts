/** Runs the project's Python (the venv) for the parts of the benchmark that need it. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('..', import.meta.url));

export function pythonPath(): string {
  const fromEnv = process.env['PYTHON'];
  if (fromEnv) return fromEnv;
  const venv = join(REPO, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

/** Runs a Python script with stdin, returns stdout; rejects with stderr's tail on failure. */
export function runPython(args: readonly string[], stdin = '', env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonPath(), [...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${pythonPath()} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
    });
    child.stdin.end(stdin);
  });
}

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs a fixture script under tsx, as a separate Node process. */
export function spawnFixture(name: string, args: string[]): ChildProcess {
  const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Reads the child's stdout line by line: each `next()` resolves with the next line, or
 * rejects (with the child's stderr) when it exits first or nothing comes within `timeoutMs`.
 */
export function lineReader(child: ChildProcess, timeoutMs = 30_000): { next(): Promise<string> } {
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  let exited: number | null | undefined;
  let wake: (() => void) | undefined;
  child.stdout?.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    wake?.();
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('exit', (code) => {
    exited = code;
    wake?.();
  });
  return {
    async next() {
      const deadline = Date.now() + timeoutMs;
      while (lines.length === 0) {
        if (exited !== undefined) throw new Error(`child exited (${exited}) before printing a line: ${stderr}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no line from child within ${timeoutMs} ms: ${stderr}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, left);
        });
      }
      return lines.shift()!;
    },
  };
}

import { describe, expect, it } from 'vitest';
import type { CheckResult } from './report.js';
import { watchReadiness } from './watch.js';

describe('watchReadiness', () => {
  it('reports the line when it changes and only then, poked or on its interval', async () => {
    let result: CheckResult = { ok: false, message: 'no worker ready: worker 0 starting' };
    const lines: string[] = [];
    const watch = watchReadiness([{ name: 'workers', run: () => result }], (line) => lines.push(line), 20);
    const until = async (n: number) => {
      while (lines.length < n) await new Promise((r) => setTimeout(r, 5));
    };
    await until(1);
    watch.poke();
    watch.poke();
    await new Promise((r) => setTimeout(r, 100)); // several intervals: the same line is not repeated
    expect(lines).toEqual(['not ready: workers: no worker ready: worker 0 starting']);
    result = { ok: true };
    watch.poke();
    await until(2);
    result = { ok: true, message: '1 of 2 workers ready; worker 1 stopped: configuration error (exit 2)' };
    await until(3);
    watch.stop();
    expect(lines).toEqual([
      'not ready: workers: no worker ready: worker 0 starting',
      'ready',
      'ready (workers: 1 of 2 workers ready; worker 1 stopped: configuration error (exit 2))',
    ]);
  });
});

/**
 * The CLI and a model's sampling: `models` shows the steps and guidance each model takes, and
 * a draw with steps or guidance the model cannot do reports the server's 400 with its code and
 * message (the server names the model and what it takes). No job is made.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../edge/app.js';
import { type RunningServer, startServer } from '../edge/server.js';
import type { OnnxModelRuntime } from '../shared/runtime/index.js';
import { type TestDeps, TINY_DIR, testDeps, tinyRuntime } from '../test/support/edge-deps.js';
import { DeclaredRuntime } from '../test/support/student-runtime.js';
import { samplingLine } from './commands.js';
import { main } from './main.js';

describe('cli and what a model samples with', () => {
  let runtime: OnnxModelRuntime;
  let deps: TestDeps;
  let server: RunningServer;
  let dir: string;

  beforeAll(async () => {
    runtime = await tinyRuntime();
    deps = testDeps([
      { dir: TINY_DIR, runtime },
      { dir: TINY_DIR, runtime: new DeclaredRuntime(runtime) },
    ]);
    server = await startServer(createApp(deps), { host: '127.0.0.1', port: 0, apiKeys: [] });
    dir = mkdtempSync(join(tmpdir(), 'cli-sampling-'));
  });
  afterAll(async () => {
    await server?.close();
    await deps?.cleanup();
    await runtime?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await main([...argv, '--url', server.url], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s), isTTY: false },
      env: {},
      pollIntervalMs: 20,
    });
    return { code, stdout, stderr };
  }

  it("lists each model's steps and guidance", async () => {
    const { code, stdout } = await run(['models']);
    expect(code).toBe(0);
    expect(stdout).toContain('  sampling  1 to 100 steps (default 4), guidance adjustable (default 2.5)');
    expect(stdout).toContain('  sampling  1 or 2 steps (default 1), guidance fixed at 2.5');
  });

  it('says the guidance a model chose for some step counts', () => {
    const line = samplingLine({
      default_steps: 10,
      max_steps: 100,
      guidance: 'adjustable',
      default_guidance: 6,
      guidance_by_steps: { '1': 2, '4': 3 },
    });
    expect(line).toBe('1 to 100 steps (default 10), guidance adjustable (default 6; 2 at 1 step; 3 at 4 steps)');
  });

  it('reports the 400 for steps or guidance the model cannot do, and nothing is queued', async () => {
    const steps = await run(['draw', 'a cat', '--model', 'student', '--steps', '10', '-o', join(dir, 'a.png')]);
    expect(steps.code).toBe(1);
    expect(steps.stderr).toContain(
      'the server answered 400 unsupported_steps: steps: student samples with 1 or 2 steps (default 1), not 10',
    );
    const guidance = await run(['draw', 'a cat', '--model', 'student', '--guidance', '6', '-o', join(dir, 'b.png')]);
    expect(guidance.stderr).toContain('the server answered 400 unsupported_guidance: guidance: student has its guidance fixed at 2.5');
    expect((await deps.queue.stats()).visible).toBe(0);
  });
});

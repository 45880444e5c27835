/**
 * The worker image's install steps against the committed lock files, without Docker: every
 * `npm ci` that gpu-worker/Dockerfile runs is run here as written, in a folder holding only
 * package.json and package-lock.json (the build context's), with --dry-run and --offline
 * added (nothing is written, nothing is fetched: setup.sh's own `npm ci` filled the cache).
 * `npm ci` refuses a lock file that is out of step with package.json, which is what broke
 * the image before; setup.sh and CI install with the same command.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../adapters/tmp-dir.js';

const REPO = resolve(import.meta.dirname, '../..');
const DOCKERFILE = readFileSync(join(REPO, 'gpu-worker/Dockerfile'), 'utf8');

/** The `npm ci ...` commands of the Dockerfile's RUN instructions (continuations joined). */
function npmCiCommands(dockerfile: string): string[][] {
  const joined = dockerfile.replace(/\\\n/g, ' ');
  const commands: string[][] = [];
  for (const line of joined.split('\n')) {
    if (!/^\s*RUN\s/.test(line)) continue;
    for (const part of line.replace(/^\s*RUN\s+/, '').split('&&')) {
      const words = part.trim().split(/\s+/);
      if (words[0] === 'npm' && words[1] === 'ci') commands.push(words.slice(1));
    }
  }
  return commands;
}

/** The environment without the npm_* variables an `npm test` parent sets (its prefix, its lifecycle): the child is a fresh npm. */
function withoutNpmVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));
}

/** Runs `npm <args> --dry-run --offline` in a folder with copies of `dir`'s manifest and lock file. */
function dryRun(dir: string, args: readonly string[]): { status: number | null; output: string; added: string[] } {
  const tmp = tempDir('npm-ci');
  try {
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(dir, file), join(tmp.dir, file));
    const result = spawnSync('npm', [...args, '--dry-run', '--offline'], {
      cwd: tmp.dir,
      encoding: 'utf8',
      env: { ...withoutNpmVariables(process.env), ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false' },
      timeout: 120_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    const added = [...output.matchAll(/^add (\S+) \S+$/gm)].map((m) => m[1]!);
    return { status: result.status, output, added };
  } finally {
    tmp.remove();
  }
}

describe('the worker image install steps (npm ci against the lock file)', () => {
  const commands = npmCiCommands(DOCKERFILE);

  it('the Dockerfile installs with npm ci, once with and once without the dev dependencies', () => {
    expect(commands).toHaveLength(2);
    expect(commands.filter((c) => c.includes('--omit=dev'))).toHaveLength(1);
  });

  it.each(commands.map((c) => [c.join(' '), c] as const))('`npm %s` accepts the committed lock file', (_name, args) => {
    const { status, output, added } = dryRun(REPO, args);
    expect(status, output).toBe(0);
    // What the image needs at run time is in either install; the test tools only in the build's.
    expect(added).toEqual(expect.arrayContaining(['onnxruntime-node', 'better-sqlite3', 'pino', 'zod']));
    if (args.includes('--omit=dev')) expect(added).not.toContain('vitest');
    else expect(added).toEqual(expect.arrayContaining(['esbuild', 'tsx']));
  });

  it("infra's lock file passes npm ci too (setup.sh installs it the same way)", () => {
    const { status, output } = dryRun(join(REPO, 'infra'), ['ci', '--ignore-scripts']);
    expect(status, output).toBe(0);
  });

  it('setup.sh installs with npm ci, as CI and the Dockerfile do', () => {
    const setup = readFileSync(join(REPO, 'scripts/setup.sh'), 'utf8');
    const installs = setup.split('\n').filter((l) => /^\s*(\(cd infra && )?npm (ci|install)\b/.test(l));
    expect(installs.length).toBeGreaterThan(0);
    for (const line of installs) expect(line).toMatch(/npm ci\b/);
  });

  it('esbuild, which builds the bundle, is a declared dev dependency', () => {
    const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(manifest.devDependencies['esbuild']).toBeDefined();
    expect(
      execFileSync(process.execPath, ['-e', "console.log(require('esbuild').version)"], { cwd: REPO, encoding: 'utf8' }).trim(),
    ).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

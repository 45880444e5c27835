/**
 * What the Lambda test needs besides the bundle: the emulator binary (built from its Go
 * module by install-rie.sh, which scripts/setup.sh runs; built here when missing) and the
 * runtime interface client (the dev dependency aws-lambda-ric). Only a machine without Go
 * skips the test: everything else missing is a failure that says what to run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const INSTALL_RIE = join(REPO_ROOT, 'test', 'lambda', 'install-rie.sh');

/** Why the test cannot run here, or undefined when it can. */
export function skipReason(): string | undefined {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status === 0) return undefined;
  const built = join(REPO_ROOT, '.cache', 'lambda-rie', 'bin', 'aws-lambda-rie');
  if (existsSync(built)) return undefined;
  return 'Go is not installed, so the Lambda Runtime Interface Emulator (a Go module) cannot be built: install Go and run scripts/setup.sh';
}

/** The emulator binary, built by install-rie.sh when it is missing or of another version. */
export function rieBinary(): string {
  const out = execFileSync('bash', [INSTALL_RIE], { encoding: 'utf8', timeout: 10 * 60_000, stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

/** aws-lambda-ric's folder, found as Node finds the package (it is started by path, never imported). */
export function ricDirectory(): string {
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve('aws-lambda-ric/package.json');
  } catch {
    throw new Error('aws-lambda-ric is not installed: run `npm ci` (scripts/setup.sh) at the repository root');
  }
  return dirname(manifest);
}

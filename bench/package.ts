/**
 * Which package `npm run bench` measures: `--model NAME` (a package the server would serve,
 * by its manifest name: MODELS, or the shipped packages, or any folder under packages/),
 * `--package DIR`, or the default (the default served model; packages/tiny with --quick).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadConfig } from '../shared/config/index.js';

export interface BenchPackageOptions {
  model?: string;
  package?: string;
  quick: boolean;
  repo: string;
  env: Record<string, string | undefined>;
}

/** Every package folder that could be asked for by name: the configured ones first, then packages/*. */
export function candidatePackages(repo: string, env: Record<string, string | undefined>): string[] {
  let configured: string[] = [];
  try {
    configured = loadConfig(env, { cwd: repo }).modelDirs;
  } catch {
    // A broken MODELS still leaves the packages in the repository to choose from.
  }
  const root = join(repo, 'packages');
  const inRepo = existsSync(root)
    ? readdirSync(root)
        .map((d) => join(root, d))
        .filter((d) => existsSync(join(d, 'manifest.json')))
    : [];
  return [...new Set([...configured, ...inRepo].map((d) => resolve(d)))];
}

/** A package's model name: its manifest's `name`, else its folder's (as the model registry names it). */
function nameOf(dir: string): string {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { name?: unknown };
  return typeof manifest.name === 'string' ? manifest.name : basename(dir);
}

export function benchPackage(options: BenchPackageOptions): string {
  if (options.model !== undefined && options.package !== undefined) throw new Error('bench: give --model NAME or --package DIR, not both');
  if (options.package !== undefined) return resolve(options.package);
  const candidates = candidatePackages(options.repo, options.env);
  if (options.model !== undefined) {
    const found = candidates.find((dir) => nameOf(dir) === options.model);
    if (!found) throw new Error(`bench: no package named ${options.model}; there are: ${candidates.map(nameOf).join(', ')}`);
    return found;
  }
  if (options.quick) return join(options.repo, 'packages/tiny');
  return loadConfig(options.env, { cwd: options.repo }).modelDirs[0]!;
}

/**
 * Bundles the worker (gpu-worker/main.ts and the shared code it imports) into one ES module,
 * the file the image runs, and the image's smoke checks beside it:
 * `tsx gpu-worker/bundle.ts [outdir]` writes dist/worker.mjs and dist/smoke.mjs (with maps).
 * Our code is bundled; every npm package stays external and must come from the image's
 * production node_modules, so each one the bundle imports must be a runtime dependency in
 * package.json (checked here: a dev dependency would work in a checkout and fail in the image).
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Output name (without .mjs) -> entry point. */
export const ENTRIES = { worker: 'gpu-worker/main.ts', smoke: 'gpu-worker/smoke.ts' } as const;
export const DEFAULT_OUTDIR = 'dist';

export interface WorkerBundle {
  /** The files written, by entry: worker -> <outdir>/worker.mjs. */
  readonly files: Record<keyof typeof ENTRIES, string>;
  /** npm packages the bundle imports at run time, sorted. */
  readonly packages: readonly string[];
}

export class BundleDependencyError extends Error {
  constructor(readonly undeclared: readonly string[]) {
    super(`the worker bundle imports ${undeclared.join(', ')}, not in package.json "dependencies" (the image installs only those)`);
    this.name = 'BundleDependencyError';
  }
}

export async function bundleWorker(outdir: string = DEFAULT_OUTDIR, root: string = REPO_ROOT): Promise<WorkerBundle> {
  const out = resolve(root, outdir);
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, entry]) => [name, join(root, entry)])),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    sourcemap: true,
    outdir: out,
    outExtension: { '.js': '.mjs' },
    metafile: true,
    logLevel: 'warning',
  });
  const packages = new Set<string>();
  for (const input of Object.values(result.metafile.inputs)) {
    for (const imported of input.imports) {
      if (imported.external && !isBuiltin(imported.path)) packages.add(packageName(imported.path));
    }
  }
  const declared = runtimeDependencies(root);
  const undeclared = [...packages].filter((name) => !declared.has(name)).sort();
  if (undeclared.length > 0) throw new BundleDependencyError(undeclared);
  const files = Object.fromEntries(Object.keys(ENTRIES).map((name) => [name, join(out, `${name}.mjs`)])) as Record<
    keyof typeof ENTRIES,
    string
  >;
  return { files, packages: [...packages].sort() };
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!);
}

function runtimeDependencies(root: string): Set<string> {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return new Set(Object.keys(manifest.dependencies ?? {}));
}

// Run as a script (the Dockerfile): build, print what it imports, fail on an undeclared package.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const bundle = await bundleWorker(process.argv[2] ?? DEFAULT_OUTDIR);
  process.stdout.write(`${Object.values(bundle.files).join(', ')}: import ${bundle.packages.join(', ')}\n`);
}

/**
 * Bundles the edge for AWS Lambda (Node.js, x86_64) into one folder:
 *
 *   index.mjs                     edge/lambda.ts and every pure-JS dependency (esbuild, ESM)
 *   node_modules/onnxruntime-node package.json, dist/, and only bin/napi-v* /linux/x64
 *                                 (the CPU binding and libonnxruntime; no CUDA/TensorRT providers)
 *   node_modules/onnxruntime-common
 *   node_modules/sharp, @img/sharp-linux-x64, @img/sharp-libvips-linux-x64 and sharp's
 *                                 pure-JS dependencies (input images: libvips, glibc x64)
 *   <model folder>/ ...           every model package it serves, with only what the edge reads:
 *                                 manifest.json, the tokenizer and the one graph the edge runs
 *                                 on the CPU (prefill and text decode; edge-package.ts); the
 *                                 worker's graphs (the denoise-only cut, the other precision)
 *                                 and the metadata files are named in omitted.json instead, which
 *                                 the loader honours (it checks every file kept against its sha256)
 *   dist/                         the playground page (edge/playground/build.ts), which the
 *                                 bundled edge finds beside index.mjs
 *
 * onnxruntime-node stays outside the bundle because it loads its native binding through a
 * computed path (`../bin/napi-v6/${platform}/${arch}/...`) that a bundler cannot follow;
 * the other platforms' binaries (~260 MB) are left behind. sharp likewise loads its binding
 * (`@img/sharp-<platform>-<arch>`) by a computed name, so it travels as files too, with
 * only the linux/x64 glibc build that Lambda's x86_64 runtime needs (~19 MB).
 *
 * Used by the CDK app (local bundling of the Lambda asset) and from the command line:
 *   npx tsx scripts/bundle-edge.ts [--out .build/edge] [--models packages/shapes64,packages/emoji64]
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { buildPlayground } from '../../edge/playground/build.js';
import { copyEdgePackage } from './edge-package.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EDGE_ENTRY = 'edge/lambda.ts';
/** Lambda's limit on a function's unzipped code (and layers). */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

/** Packages kept as files in node_modules instead of being bundled. */
const EXTERNAL_PACKAGES = ['onnxruntime-node', 'onnxruntime-common', 'sharp'];
/** sharp and what it loads at run time on Lambda (linux, x64, glibc). */
const SHARP_PACKAGES = ['sharp', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64', '@img/colour', 'detect-libc', 'semver'];

export interface BundleEdgeOptions {
  /** Repository root (holds edge/, shared/, node_modules/, packages/). */
  readonly repoRoot?: string;
  /** Output folder; emptied first. */
  readonly outDir: string;
  /** Model package folders relative to the repository root, the default first. */
  readonly models?: readonly string[];
  readonly minify?: boolean;
}

export interface BundleReport {
  readonly outDir: string;
  readonly totalBytes: number;
  /** Native binaries in the bundle, relative to outDir. */
  readonly nativeFiles: string[];
  readonly models: readonly string[];
  /** Bytes of each model package in the bundle, by folder. */
  readonly modelBytes: Readonly<Record<string, number>>;
  /** Files each package's manifest lists that the bundle leaves out (its omitted.json), by folder. */
  readonly omittedFiles: Readonly<Record<string, readonly string[]>>;
}

export function bundleEdge(options: BundleEdgeOptions): BundleReport {
  const repoRoot = path.resolve(options.repoRoot ?? REPO_ROOT);
  const models = options.models ?? ['packages/shapes64'];
  if (models.length === 0) throw new Error('bundle-edge: no model package to bundle');
  const outDir = path.resolve(options.outDir);
  const entry = path.join(repoRoot, EDGE_ENTRY);
  if (!fs.existsSync(entry)) {
    throw new Error(`bundle-edge: ${entry} does not exist; the edge's Lambda entry (exporting "handler") is needed`);
  }
  for (const modelDir of models) {
    const modelSrc = path.join(repoRoot, modelDir);
    if (!fs.existsSync(path.join(modelSrc, 'manifest.json'))) {
      throw new Error(`bundle-edge: no model package at ${modelSrc} (manifest.json missing); export or fetch it first`);
    }
  }

  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });

  buildSync({
    absWorkingDir: repoRoot,
    entryPoints: [entry],
    outfile: path.join(outDir, 'index.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    mainFields: ['module', 'main'],
    external: EXTERNAL_PACKAGES,
    minify: options.minify ?? false,
    keepNames: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'error',
    // CommonJS dependencies inside an ES module still call require() and read __dirname.
    banner: {
      js: [
        "import { createRequire as __createRequire } from 'node:module';",
        "import { fileURLToPath as __fileURLToPath } from 'node:url';",
        "import { dirname as __pathDirname } from 'node:path';",
        'const require = __createRequire(import.meta.url);',
        'const __filename = __fileURLToPath(import.meta.url);',
        'const __dirname = __pathDirname(__filename);',
      ].join('\n'),
    },
  });

  // edge/playground/serve.ts looks for `./dist/` beside its module, which is index.mjs here.
  buildPlayground(path.join(outDir, 'dist'));
  copyOnnxRuntime(repoRoot, path.join(outDir, 'node_modules'));
  copySharp(repoRoot, path.join(outDir, 'node_modules'));
  const omitted: Record<string, string[]> = {};
  for (const modelDir of models) omitted[modelDir] = copyEdgePackage(path.join(repoRoot, modelDir), path.join(outDir, modelDir));

  const files = listFiles(outDir);
  const size = (f: string) => fs.statSync(path.join(outDir, f)).size;
  return {
    outDir,
    totalBytes: files.reduce((sum, f) => sum + size(f), 0),
    nativeFiles: files.filter(isNative),
    models,
    modelBytes: Object.fromEntries(models.map((m) => [m, files.filter((f) => f.startsWith(`${m}/`)).reduce((sum, f) => sum + size(f), 0)])),
    omittedFiles: omitted,
  };
}

/** onnxruntime-node with the linux/x64 CPU binaries only, and onnxruntime-common. */
function copyOnnxRuntime(repoRoot: string, nodeModules: string): void {
  const ortSrc = packageDir(repoRoot, 'onnxruntime-node');
  const ortDst = path.join(nodeModules, 'onnxruntime-node');
  copyTree(ortSrc, ortDst, (rel) => {
    if (rel === 'package.json' || rel === 'LICENSE' || rel === 'README.md') return true;
    if (rel.startsWith('dist/')) return rel.endsWith('.js') || rel.endsWith('.json');
    // bin/napi-v6/linux/x64/{onnxruntime_binding.node, libonnxruntime.so.1}; not the
    // libonnxruntime_providers_{cuda,tensorrt,shared}.so that a CUDA install adds.
    const m = /^bin\/napi-v\d+\/linux\/x64\/([^/]+)$/.exec(rel);
    return m !== null && !m[1]!.startsWith('libonnxruntime_providers_');
  });
  const commonSrc = packageDir(repoRoot, 'onnxruntime-common');
  copyTree(
    commonSrc,
    path.join(nodeModules, 'onnxruntime-common'),
    (rel) => rel === 'package.json' || (rel.startsWith('dist/') && (rel.endsWith('.js') || rel.endsWith('.json'))),
  );
  const binaries = listFiles(ortDst).filter(isNative);
  if (!binaries.some((f) => f.endsWith('onnxruntime_binding.node'))) {
    throw new Error(`bundle-edge: ${ortSrc} has no bin/napi-v*/linux/x64/onnxruntime_binding.node`);
  }
}

/** sharp's runtime files: its dist/ and the linux/x64 binding and libvips, no sources or install scripts. */
function copySharp(repoRoot: string, nodeModules: string): void {
  for (const name of SHARP_PACKAGES) {
    copyTree(
      packageDir(repoRoot, name),
      path.join(nodeModules, name),
      (rel) => name !== 'sharp' || rel === 'package.json' || rel === 'LICENSE' || rel.startsWith('dist/'),
    );
  }
  const binding = listFiles(path.join(nodeModules, '@img/sharp-linux-x64')).filter(isNative);
  if (binding.length === 0) throw new Error('bundle-edge: @img/sharp-linux-x64 has no native binding');
}

/** The package's folder, found as Node finds it: node_modules of the root or of a folder above. */
function packageDir(repoRoot: string, name: string): string {
  for (let dir = repoRoot; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`bundle-edge: ${name} is not installed in ${repoRoot}/node_modules (run npm ci at the root)`);
}

function copyTree(src: string, dst: string, keep: (relative: string) => boolean): void {
  for (const rel of listFiles(src)) {
    if (!keep(rel)) continue;
    const to = path.join(dst, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(src, rel), to);
  }
}

/** Regular files under dir, relative, with forward slashes; dot-files and folders skipped. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  walk('');
  return out.sort();
}

export function isNative(file: string): boolean {
  return /\.(node|so(\.\d+)*|dylib|dll)$/.test(file);
}

function parseArgs(argv: string[]): { out: string; models: string[] | undefined } {
  let out = path.join(REPO_ROOT, 'infra', '.build', 'edge');
  let models: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = path.resolve(argv[++i] ?? '');
    else if (argv[i] === '--models' || argv[i] === '--model')
      models = (argv[++i] ?? '')
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean);
    else throw new Error(`bundle-edge: unknown argument ${argv[i]}`);
  }
  return { out, models };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = parseArgs(process.argv.slice(2));
  const report = bundleEdge({ outDir: args.out, ...(args.models ? { models: args.models } : {}) });
  const mb = (report.totalBytes / 1024 / 1024).toFixed(1);
  console.log(`edge bundle: ${report.outDir}, ${mb} MB unzipped (limit 250 MB)`);
  for (const f of report.nativeFiles) console.log(`  native: ${f}`);
}

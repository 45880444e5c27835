/**
 * Builds the playground into edge/playground/dist/: src/main.ts bundled and minified by
 * esbuild (a few kB, no framework), index.html and playground.css copied. Run by
 * scripts/setup.sh (so `npm start` and `npm test` have it) and `npm run build`; the Lambda
 * bundle (infra/scripts/bundle-edge.ts) calls buildPlayground into its own folder.
 *
 *   npx tsx edge/playground/build.ts [--out DIR]
 */
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const PLAYGROUND_DIST_DIR = join(HERE, 'dist');

export interface PlaygroundBuild {
  outDir: string;
  /** Bytes of each built file. */
  sizes: Record<string, number>;
}

/** Synchronous, so that the Lambda bundler (itself synchronous) can call it. */
export function buildPlayground(outDir: string = PLAYGROUND_DIST_DIR): PlaygroundBuild {
  mkdirSync(outDir, { recursive: true });
  buildSync({
    entryPoints: [join(HERE, 'src/main.ts')],
    outfile: join(outDir, 'playground.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'error',
  });
  copyFileSync(join(HERE, 'index.html'), join(outDir, 'index.html'));
  copyFileSync(join(HERE, 'playground.css'), join(outDir, 'playground.css'));
  const sizes = Object.fromEntries(['index.html', 'playground.js', 'playground.css'].map((f) => [f, statSync(join(outDir, f)).size]));
  return { outDir, sizes };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const at = process.argv.indexOf('--out');
  const outDir = at > 0 ? resolve(process.argv[at + 1] ?? '') : PLAYGROUND_DIST_DIR;
  const { sizes } = buildPlayground(outDir);
  const listed = Object.entries(sizes)
    .map(([f, n]) => `${f} ${(n / 1024).toFixed(1)} kB`)
    .join(', ');
  console.log(`playground: ${outDir} (${listed})`);
}

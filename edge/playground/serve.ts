/**
 * The playground, served by the edge: GET / (the page) and its two assets under
 * /playground/. The files are built by edge/playground/build.ts (scripts/setup.sh runs it;
 * `npm run build` by hand) and read once when the app is created; a checkout that has not
 * built them answers GET / with a page saying how.
 */

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';
import type { EdgeEnv } from '../env.js';

/** Beside this module; in the Lambda bundle (one index.mjs), `dist/` beside the bundle. */
export const DEFAULT_PLAYGROUND_DIR = fileURLToPath(new URL('./dist/', import.meta.url));

export const PLAYGROUND_FILES = {
  'index.html': 'text/html; charset=utf-8',
  'playground.js': 'text/javascript; charset=utf-8',
  'playground.css': 'text/css; charset=utf-8',
} as const;
type PlaygroundFile = keyof typeof PLAYGROUND_FILES;

/**
 * Only this origin's scripts and styles; images also from data:/blob: (the gallery, inputs)
 * and https (presigned S3 URLs); fetches to this origin and https (S3 images).
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: https:",
  "connect-src 'self' https:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: string;
  etag: string;
}

function load(dir: string): Map<PlaygroundFile, Asset> | null {
  const assets = new Map<PlaygroundFile, Asset>();
  for (const name of Object.keys(PLAYGROUND_FILES) as PlaygroundFile[]) {
    const path = join(dir, name);
    if (!existsSync(path)) return null;
    const body = readFileSync(path, 'utf8');
    assets.set(name, { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return assets;
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Playground not built</title>
<body style="font:16px system-ui;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>The playground is not built</h1><p>Run <code>npm run build</code> (or <code>npm start</code>, which builds it), then reload.
The API works without it: <a href="./docs">./docs</a>.</p></body></html>`;

export function registerPlayground(app: Hono<EdgeEnv>, dir: string = DEFAULT_PLAYGROUND_DIR): void {
  const assets = load(dir);
  const send = (c: Context, name: PlaygroundFile): Response => {
    const asset = assets?.get(name);
    if (!asset) return c.html(NOT_BUILT, 503, { 'Cache-Control': 'no-store' });
    const headers = {
      'Content-Type': PLAYGROUND_FILES[name],
      // Revalidated on every load: the files change with the build, their names do not.
      'Cache-Control': 'no-cache',
      ETag: asset.etag,
      'X-Content-Type-Options': 'nosniff',
      ...(name === 'index.html' ? { 'Content-Security-Policy': CSP, 'Referrer-Policy': 'no-referrer' } : {}),
    };
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
    return c.body(asset.body, 200, headers);
  };
  app.get('/', (c) => send(c, 'index.html'));
  app.get('/playground/playground.js', (c) => send(c, 'playground.js'));
  app.get('/playground/playground.css', (c) => send(c, 'playground.css'));
}

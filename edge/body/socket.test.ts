/**
 * Bodies as the Node server receives them, over a real socket: read from the request's own
 * chunks, parsed on the body thread, the same answer as in process (app.request); a body
 * over the limit refused from its Content-Length before it is sent; a chunked body (no
 * length) still read and counted; and the threads beside the event loop niced.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging/index.js';
import { Generation } from '../../shared/schemas/index.js';
import type { TestDeps } from '../../test/support/edge-deps.js';
import { dataUrl, jpegBytes, pngBytes } from '../../test/support/images.js';
import { tinyFixture } from '../../test/support/tiny-fixture.js';
import { createApp, MAX_BODY_BYTES } from '../app.js';
import { type RunningServer, startServer } from '../server.js';
import { type BodyParser, startBodyThread } from './index.js';
import { niceAllButEventLoop } from './priority.js';

const tiny = tinyFixture();
let bodies: BodyParser;
beforeAll(() => {
  bodies = startBodyThread({ logger: createLogger({ logLevel: 'silent' }) });
});
afterAll(async () => {
  await bodies.close();
});

/** A 300 KB PNG of noise: over the 256 KB the event loop parses itself. */
const noise = (x: number, y: number, c: number) => Math.floor(Math.abs(Math.sin(x * 12.9898 + y * 78.233 + c) * 43758.5453)) % 256;
const noisy = pngBytes(400, 300, (x, y) => [noise(x, y, 0), noise(x, y, 1), noise(x, y, 2), 255]);
const jpeg = jpegBytes(40, 30, [0, 200, 0]);

async function serve(): Promise<{ deps: TestDeps; server: RunningServer }> {
  const deps = tiny.deps({ textDecoder: tiny.decodeTo('', 'boi'), bodyParser: bodies });
  return { deps, server: await startServer(createApp(deps), { host: '127.0.0.1', port: 0, apiKeys: [] }) };
}

/** The stored input images of a created generation. */
async function inputs(deps: TestDeps, res: Response): Promise<Buffer[]> {
  expect(res.status).toBe(202);
  const record = (await deps.jobs.get(Generation.parse(await res.json()).id))!;
  const keys = record.context.flatMap((s) => (s.type === 'image' ? [s.key] : []));
  return Promise.all(keys.map(async (key) => Buffer.from((await deps.store.get(key))!.body)));
}

/** A raw request: headers as given, the body written in `parts` (chunked when there is no Content-Length). */
function raw(url: string, headers: Record<string, string>, parts: Uint8Array[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/generations`, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const part of parts) req.write(part);
    req.end();
  });
}

describe('bodies over a socket', () => {
  it('reads a large JSON body and a multipart form from the socket as app.request reads them', async () => {
    const { deps, server } = await serve();
    try {
      const body = JSON.stringify({ prompt: 'describe the image', images: [dataUrl('image/png', noisy), dataUrl('image/jpeg', jpeg)] });
      const viaSocket = await inputs(
        deps,
        await fetch(`${server.url}/v1/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
      );
      const inProcess = await inputs(
        deps,
        await createApp(deps).request('/v1/generations', { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
      );
      expect(viaSocket).toHaveLength(2);
      expect(viaSocket).toEqual(inProcess);
      const form = new FormData();
      form.append('prompt', 'describe the image');
      form.append('images', new File([Buffer.from(noisy)], 'noise.png'));
      form.append('images', new File([Buffer.from(jpeg)], 'green.jpg'));
      expect(await inputs(deps, await fetch(`${server.url}/v1/generations`, { method: 'POST', body: form }))).toEqual(viaSocket);
    } finally {
      await server.close();
    }
  });

  it('refuses a body over the limit from its Content-Length, before any of it is sent', async () => {
    const { deps, server } = await serve();
    try {
      // Nothing of the body is written: the answer comes from the header alone.
      const res = await raw(server.url, { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) }, []).catch(
        (err: unknown) => err,
      );
      expect(res).toMatchObject({ status: 413, body: expect.stringContaining('payload_too_large') });
      expect(await deps.queue.stats()).toEqual({ visible: 0, inFlight: 0 });
    } finally {
      await server.close();
    }
  });

  it('reads a chunked body (no length) and refuses one that grows over the limit', async () => {
    const { deps, server } = await serve();
    try {
      const body = new TextEncoder().encode(JSON.stringify({ prompt: 'describe the image', images: [dataUrl('image/png', noisy)] }));
      const parts = [body.subarray(0, 1000), body.subarray(1000, 200_000), body.subarray(200_000)];
      const ok = await raw(server.url, { 'content-type': 'application/json' }, parts);
      expect(ok.status).toBe(202);
      const big = new Uint8Array(MAX_BODY_BYTES + 1).fill(0x20);
      const over = await raw(server.url, { 'content-type': 'application/json' }, [big.subarray(0, 1 << 20), big.subarray(1 << 20)]).catch(
        (err: unknown) => err,
      );
      expect(over).toMatchObject({ status: 413 });
      expect(await deps.queue.stats()).toEqual({ visible: 1, inFlight: 0 });
    } finally {
      await server.close();
    }
  });
});

/** Each thread's niceness, by thread id (Linux). */
function niceness(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return out;
}

describe('niceAllButEventLoop', () => {
  const base = getPriority();
  it.skipIf(!existsSync('/proc/self/task') || base >= 19)(
    'nices every thread of the process but the main one and the text decode',
    async () => {
      const started = (code: string) => {
        const worker = new Worker(
          `${code}; setInterval(() => {}, 1000); require('node:worker_threads').parentPort.postMessage(require('node:fs').readlinkSync('/proc/thread-self'))`,
          { eval: true },
        );
        return new Promise<{ worker: Worker; tid: number }>((resolve) =>
          worker.once('message', (self: string) => resolve({ worker, tid: Number(self.split('/').pop()) })),
        );
      };
      const plain = await started('');
      const decode = await started("require('node:fs').writeFileSync('/proc/thread-self/comm', 'edge-decode')");
      try {
        const target = base + 1;
        expect(niceAllButEventLoop(target)).toBeGreaterThan(0);
        const after = niceness();
        expect(after.get(process.pid)).toBe(base);
        expect(after.get(decode.tid)).toBe(base);
        expect(after.get(plain.tid)).toBe(target);
        for (const [tid, nice] of after) if (tid !== process.pid && tid !== decode.tid) expect(nice).toBeGreaterThanOrEqual(target);
        // A second sweep finds nothing new to change.
        expect(niceAllButEventLoop(target)).toBe(0);
      } finally {
        await Promise.all([plain.worker.terminate(), decode.worker.terminate()]);
      }
    },
  );
});

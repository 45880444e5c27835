/**
 * Where large JSON bodies are parsed. The Node server uses a worker thread: a 9 MB body of
 * four data URLs cost the event loop tens of milliseconds of JSON.parse and base64 (more on
 * a loaded machine), during which no health check or poll was answered. Under Lambda (one
 * request an instance) and in tests the same parse runs in this thread.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../shared/logging/index.js';
import type { InlineImage } from './inline-images.js';
import { parseLargeJson, type ParsedBody } from './parse.js';
import { FromThread, type ParseRequest } from './protocol.js';

export type { ParsedBody } from './parse.js';
export { inlineKey, looksLikeDataUrl, type InlineImage, type InlineImages } from './inline-images.js';

/** Bodies up to this size are parsed on the event loop (under a millisecond); larger ones by the parser. */
export const LARGE_BODY_BYTES = 256 * 1024;

export interface BodyParser {
  /** `images`: decode the data URLs of a POST /v1/generations body into inline images. */
  parse(bytes: Uint8Array, options: { images: boolean }): Promise<ParsedBody>;
  close(): Promise<void>;
}

export class BodyThreadError extends Error {
  override readonly name = 'BodyThreadError';
}

export const eventLoopBodyParser: BodyParser = {
  parse: async (bytes, options) => parseLargeJson(bytes, options),
  close: async () => {},
};

interface Pending {
  resolve(body: ParsedBody): void;
  reject(err: Error): void;
}

/**
 * One thread, started at once (it loads in seconds: not on a client's time) and again when
 * a body comes after it died (the bodies it held fail: a 500, nothing half-done, as no work
 * had started on them). The bytes are moved to the thread, not copied.
 */
export function startBodyThread(options: { logger: Logger }): BodyParser {
  const pending = new Map<number, Pending>();
  let worker: Worker | undefined;
  let nextId = 1;
  let closed = false;

  const spawn = (): Worker => {
    const w = new Worker(new URL('./boot.mjs', import.meta.url));
    w.unref(); // an idle parser keeps no process alive
    w.on('message', (raw: unknown) => {
      const m = FromThread.safeParse(raw);
      if (!m.success) return options.logger.error({ message: raw }, 'body thread sent an unknown message');
      const p = pending.get(m.data.id);
      if (!p) return;
      pending.delete(m.data.id);
      const reply = m.data;
      if (reply.type === 'parsed') p.resolve({ ok: true, text: reply.text, images: reply.images as [string, InlineImage][] });
      else if (reply.type === 'invalid') p.resolve({ ok: false });
      else p.reject(new BodyThreadError(reply.message));
    });
    w.on('error', (err) => options.logger.error({ err }, 'body thread failed'));
    w.once('exit', (code) => {
      if (worker === w) worker = undefined;
      const err = new BodyThreadError(`the body thread exited (code ${code})`);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      if (!closed) options.logger.warn({ code }, 'body thread exited; the next large body starts a new one');
    });
    return w;
  };

  worker = spawn();
  return {
    parse(bytes, opts) {
      if (closed) return Promise.reject(new BodyThreadError('the body parser is closed'));
      const id = nextId++;
      const answer = new Promise<ParsedBody>((resolve, reject) => pending.set(id, { resolve, reject }));
      const request: ParseRequest = { type: 'parse', id, bytes, images: opts.images };
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      (worker ??= spawn()).postMessage(request, own ? [bytes.buffer as ArrayBuffer] : []);
      return answer;
    },
    async close() {
      closed = true;
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}

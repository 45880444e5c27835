/**
 * Where request bodies are parsed and their images read. The Node server uses a worker
 * thread: a 9 MB body of four data URLs cost the event loop tens of milliseconds of joining,
 * JSON.parse and base64, a multipart form of the same images as much in undici's parser, and
 * each image some milliseconds of sharp's calls and the PNG encode (more on a loaded machine),
 * during which no health check or poll was answered. Under Lambda (one request an instance)
 * and in tests the same work runs in this thread.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../shared/logging/index.js';
import type { ImageGeometry } from '../../shared/runtime/index.js';
import { ApiError } from '../errors.js';
import type { InputImage } from '../images/index.js';
import type { InlineImage } from './inline-images.js';
import { parseForm, type ParsedForm } from './parse-form.js';
import { parseLargeJson, type ParsedBody } from './parse.js';
import { FromThread, type ToThread } from './protocol.js';
import { joinChunks } from './read.js';

export type { ParsedBody } from './parse.js';
export type { ParsedForm } from './parse-form.js';
export type { FormEntry, FormFile } from './protocol.js';
export { inlineKey, looksLikeDataUrl, type InlineImage, type InlineImages } from './inline-images.js';
export { joinChunks, readBodyChunks } from './read.js';
export { bodyLimit } from './limit.js';

/** Bodies up to this size are parsed on the event loop (under a millisecond); larger ones by the parser. */
export const LARGE_BODY_BYTES = 256 * 1024;

export interface BodyParser {
  /** A JSON body; `images`: decode the data URLs of a POST /v1/generations body into inline images. */
  parse(chunks: Uint8Array[], options: { images: boolean }): Promise<ParsedBody>;
  /** A multipart form, its files read as inline images. */
  parseForm(chunks: Uint8Array[], contentType: string): Promise<ParsedForm>;
  close(): Promise<void>;
}

export class BodyThreadError extends Error {
  override readonly name = 'BodyThreadError';
}

export const eventLoopBodyParser: BodyParser = {
  parse: async (chunks, options) => parseLargeJson(joinChunks(chunks), options),
  parseForm: (chunks, contentType) => parseForm(joinChunks(chunks), contentType),
  close: async () => {},
};

interface Pending {
  resolve(reply: FromThread): void;
  reject(err: Error): void;
}

/** What may be sent: a request without its id. */
type Request = ToThread extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

/**
 * One thread, started at once (it loads in seconds: not on a client's time) and again when
 * a body comes after it died (the bodies it held fail: a 500, nothing half-done, as no work
 * had started on them). Bodies and images are moved to the thread, not copied.
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
      if (m.data.type === 'error') p.reject(new BodyThreadError(m.data.message));
      else p.resolve(m.data);
    });
    w.on('error', (err) => options.logger.error({ err }, 'body thread failed'));
    w.once('exit', (code) => {
      if (worker === w) worker = undefined;
      const err = new BodyThreadError(`the body thread exited (code ${code})`);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      if (!closed) options.logger.warn({ code }, 'body thread exited; the next body starts a new one');
    });
    return w;
  };

  const send = (request: Request, transfer: ArrayBuffer[] = []): Promise<FromThread> => {
    if (closed) return Promise.reject(new BodyThreadError('the body parser is closed'));
    const id = nextId++;
    const answer = new Promise<FromThread>((resolve, reject) => pending.set(id, { resolve, reject }));
    (worker ??= spawn()).postMessage({ ...request, id }, transfer);
    return answer;
  };

  /**
   * An image's reader: its bytes are moved to the thread for each read and come back with the
   * answer, so reads of one image take turns (a request may name the same image twice).
   */
  const reader = (image: Extract<InlineImage, { ok: true }>) => {
    let bytes = image.bytes;
    let turn: Promise<unknown> = Promise.resolve();
    const read = async (geometry: ImageGeometry): Promise<InputImage> => {
      const { width, height, patch_size } = geometry;
      const reply = await send({ type: 'prepare', bytes, mime: image.mime, geometry: { width, height, patch_size } }, owned([bytes]));
      if (reply.type !== 'prepared' && reply.type !== 'refused') throw new BodyThreadError(`unexpected ${reply.type} for an image`);
      bytes = reply.bytes;
      if (reply.type === 'refused') throw new ApiError(reply.code, reply.message);
      return { patches: reply.patches, png: reply.png };
    };
    return (geometry: ImageGeometry): Promise<InputImage> => {
      const answer = turn.then(() => read(geometry));
      turn = answer.catch(() => undefined);
      return answer;
    };
  };
  const withPrepare = (image: InlineImage): InlineImage => (image.ok ? { ...image, prepare: reader(image) } : image);

  worker = spawn();
  return {
    async parse(chunks, opts) {
      const reply = await send({ type: 'parse', chunks, images: opts.images }, owned(chunks));
      if (reply.type === 'invalid') return { ok: false };
      if (reply.type !== 'parsed') throw new BodyThreadError(`unexpected ${reply.type} for a JSON body`);
      return { ok: true, text: reply.text, images: reply.images.map(([key, image]) => [key, withPrepare(image)]) };
    },
    async parseForm(chunks, contentType) {
      const reply = await send({ type: 'form', chunks, contentType }, owned(chunks));
      if (reply.type === 'bad-form') return { ok: false, message: reply.message };
      if (reply.type !== 'form') throw new BodyThreadError(`unexpected ${reply.type} for a form`);
      return { ok: true, entries: reply.entries.map(([name, v]) => [name, typeof v === 'string' ? v : { ...v, image: withPrepare(v.image) }]) };
    },
    async close() {
      closed = true;
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}

/** The chunks' buffers that each chunk has to itself: those are moved; the rest are copied. */
function owned(chunks: readonly Uint8Array[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const c of chunks) if (c.byteOffset === 0 && c.byteLength === c.buffer.byteLength) out.add(c.buffer as ArrayBuffer);
  return [...out];
}

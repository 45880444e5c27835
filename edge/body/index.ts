/**
 * Where request bodies are parsed and their images read. The Node server uses a worker
 * thread: a 9 MB body of four data URLs cost the event loop tens of milliseconds of joining,
 * JSON.parse and base64, a multipart form of the same images as much in undici's parser, and
 * each image some milliseconds of sharp's calls and the PNG encode (more on a loaded machine),
 * during which no health check or poll was answered. Under Lambda (one request an instance)
 * and in tests the same work runs in this thread.
 */
import type { Logger } from '../../shared/logging/index.js';
import type { ImageGeometry } from '../../shared/runtime/index.js';
import { ApiError } from '../errors.js';
import type { InputImage } from '../images/index.js';
import { BodyThreadError, openChannel } from './channel.js';
import type { InlineImage } from './inline-images.js';
import { type ParsedBody, parseLargeJson } from './parse.js';
import { type ParsedForm, parseForm } from './parse-form.js';
import { joinChunks } from './read.js';

export type { InlineImage, InlineImages } from './inline-images.js';
export { bodyLimit } from './limit.js';
export type { ParsedBody } from './parse.js';
export type { ParsedForm } from './parse-form.js';
export type { FormEntry, FormFile } from './protocol.js';
export { joinChunks, readBodyChunks } from './read.js';

/** Bodies up to this size are parsed on the event loop (under a millisecond); larger ones by the parser. */
export const LARGE_BODY_BYTES = 256 * 1024;

export interface BodyParser {
  /** A JSON body; `images`: decode the data URLs of a POST /v1/generations body into inline images. */
  parse(chunks: Uint8Array[], options: { images: boolean }): Promise<ParsedBody>;
  /** A multipart form, its files read as inline images. */
  parseForm(chunks: Uint8Array[], contentType: string): Promise<ParsedForm>;
  close(): Promise<void>;
}

export const eventLoopBodyParser: BodyParser = {
  parse: async (chunks, options) => parseLargeJson(joinChunks(chunks), options),
  parseForm: (chunks, contentType) => parseForm(joinChunks(chunks), contentType),
  close: async () => {},
};

/**
 * Two threads: one joins and parses bodies, the other reads their images (sharp, the PNG,
 * the patches). On one thread a body's JSON.parse held up the callbacks of the images
 * already decoding, and requests took longer than with the images read from the event loop.
 * Bodies and images are moved to the threads, not copied.
 */
export function startBodyThread(options: { logger: Logger }): BodyParser {
  const bodies = openChannel({ logger: options.logger, name: 'edge-body' });
  const images = openChannel({ logger: options.logger, name: 'edge-images' });

  /**
   * An image's reader: its bytes are moved to the thread for each read and come back with the
   * answer, so reads of one image take turns (a request may name the same image twice).
   */
  const reader = (image: Extract<InlineImage, { ok: true }>) => {
    let bytes = image.bytes;
    let turn: Promise<unknown> = Promise.resolve();
    const read = async (geometry: ImageGeometry): Promise<InputImage> => {
      const { width, height, patch_size } = geometry;
      const reply = await images.send(
        { type: 'prepare', bytes, mime: image.mime, geometry: { width, height, patch_size } },
        owned([bytes]),
      );
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

  return {
    async parse(chunks, opts) {
      const reply = await bodies.send({ type: 'parse', chunks, images: opts.images }, owned(chunks));
      if (reply.type === 'invalid') return { ok: false };
      if (reply.type !== 'parsed') throw new BodyThreadError(`unexpected ${reply.type} for a JSON body`);
      return { ok: true, text: reply.text, images: reply.images.map(([key, image]) => [key, withPrepare(image)]) };
    },
    async parseForm(chunks, contentType) {
      const reply = await bodies.send({ type: 'form', chunks, contentType }, owned(chunks));
      if (reply.type === 'bad-form') return { ok: false, message: reply.message };
      if (reply.type !== 'form') throw new BodyThreadError(`unexpected ${reply.type} for a form`);
      return {
        ok: true,
        entries: reply.entries.map(([name, v]) => [name, typeof v === 'string' ? v : { ...v, image: withPrepare(v.image) }]),
      };
    },
    async close() {
      await Promise.all([bodies.close(), images.close()]);
    },
  };
}

/** The chunks' buffers that each chunk has to itself: those are moved; the rest are copied. */
function owned(chunks: readonly Uint8Array[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const c of chunks) if (c.byteOffset === 0 && c.byteLength === c.buffer.byteLength) out.add(c.buffer as ArrayBuffer);
  return [...out];
}

/**
 * A body thread (./index.ts): joins and parses the bodies it is sent (JSON, multipart), or
 * reads their images to the model's size (sharp, the PNG, the patches), so that none of it
 * runs on the event loop. Buffers go back moved, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ApiError } from '../errors.js';
import { prepareInputBytes } from '../images/index.js';
import { parseLargeJson } from './parse.js';
import { parseForm } from './parse-form.js';
import { nameThisThread, niceAllButEventLoop, type ThreadName } from './priority.js';
import { type FromThread, ToThread } from './protocol.js';
import { joinChunks } from './read.js';

const port = parentPort;
if (!port) throw new Error('edge/body/thread.ts runs as a worker thread');

/** At most one sweep a second: threads appear as work starts (sharp's on its first image). */
const SWEEP_MS = 1000;
let swept = -Infinity;
nameThisThread((workerData as { name?: ThreadName } | undefined)?.name ?? 'edge-body');
const sweep = () => {
  if (performance.now() - swept < SWEEP_MS) return;
  swept = performance.now();
  niceAllButEventLoop();
};
sweep();

port.on('message', (raw: unknown) => {
  const request = ToThread.safeParse(raw);
  if (!request.success) return;
  void answer(request.data)
    .finally(sweep)
    .then(
      (reply) => port.postMessage(reply, transferables(reply)),
      (err: unknown) =>
        port.postMessage({
          type: 'error',
          id: request.data.id,
          message: err instanceof Error ? err.message : String(err),
        } satisfies FromThread),
    );
});

async function answer(request: ToThread): Promise<FromThread> {
  const { id } = request;
  switch (request.type) {
    case 'parse': {
      const parsed = parseLargeJson(joinChunks(request.chunks), { images: request.images });
      return parsed.ok ? { type: 'parsed', id, text: parsed.text, images: parsed.images } : { type: 'invalid', id };
    }
    case 'form': {
      const parsed = await parseForm(joinChunks(request.chunks), request.contentType);
      return parsed.ok ? { type: 'form', id, entries: parsed.entries } : { type: 'bad-form', id, message: parsed.message };
    }
    case 'prepare': {
      const { bytes } = request;
      try {
        const { patches, png } = await prepareInputBytes(bytes, request.mime, 0, request.geometry);
        return { type: 'prepared', id, bytes, patches, png };
      } catch (err) {
        if (err instanceof ApiError) return { type: 'refused', id, bytes, code: err.code, message: err.message };
        throw err;
      }
    }
  }
}

/** Each buffer that is its own (small ones share Node's pool: those are copied, not moved). */
function transferables(reply: FromThread): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const own = <T extends Uint8Array | Float32Array>(bytes: T): T => {
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const mine = (whole ? bytes : bytes.slice()) as T;
    if (!out.includes(mine.buffer as ArrayBuffer)) out.push(mine.buffer as ArrayBuffer);
    return mine;
  };
  if (reply.type === 'prepared') {
    reply.patches = own(reply.patches);
    reply.png = own(reply.png);
  }
  if (reply.type === 'prepared' || reply.type === 'refused') reply.bytes = own(reply.bytes);
  const images =
    reply.type === 'parsed'
      ? reply.images.map(([, image]) => image)
      : reply.type === 'form'
        ? reply.entries.flatMap(([, v]) => (typeof v === 'string' ? [] : [v.image]))
        : [];
  for (const image of images) if (image.ok) image.bytes = own(image.bytes);
  return out;
}

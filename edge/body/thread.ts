/** The body thread (./index.ts): parses what it is sent, one body at a time, and hands the bytes back without copying them. */
import { parentPort } from 'node:worker_threads';
import { parseLargeJson } from './parse.js';
import { ParseRequest, type FromThread } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('edge/body/thread.ts runs as a worker thread');

port.on('message', (raw: unknown) => {
  const request = ParseRequest.safeParse(raw);
  if (!request.success) return;
  const { id, bytes, images } = request.data;
  let reply: FromThread;
  try {
    const parsed = parseLargeJson(bytes, { images });
    reply = parsed.ok ? { type: 'parsed', id, text: parsed.text, images: parsed.images } : { type: 'invalid', id };
  } catch (err) {
    reply = { type: 'error', id, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, reply.type === 'parsed' ? transferables(reply) : []);
});

/** Each decoded image's own buffer (small ones share Node's pool: those are copied, not moved). */
function transferables(reply: Extract<FromThread, { type: 'parsed' }>): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const [, image] of reply.images) {
    if (!image.ok) continue;
    const { bytes } = image;
    if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) image.bytes = bytes.slice();
    out.push(image.bytes.buffer as ArrayBuffer);
  }
  return out;
}

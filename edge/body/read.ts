/**
 * A request body as the socket delivered it: its chunks, neither joined nor copied. Under
 * the Node server they are taken from the IncomingMessage itself: Request.arrayBuffer() would
 * run every chunk of a 9 MB body through a web stream and then copy it into one buffer, tens
 * of milliseconds of event loop a large request. Elsewhere (Lambda, app.request in tests) and
 * when something has already started reading the stream, the web body is read whole.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

export async function readBodyChunks(c: Context): Promise<Uint8Array[]> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming && untouched(incoming)) return collect(incoming);
  return [new Uint8Array(await c.req.arrayBuffer())];
}

/** Nothing has read it or attached to it (the adapter's web stream would have). */
function untouched(incoming: IncomingMessage): boolean {
  return typeof incoming.on === 'function' && incoming.readableFlowing === null && !incoming.readableDidRead && !incoming.readableEnded;
}

function collect(incoming: IncomingMessage): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const done = (settle: () => void) => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      settle();
    };
    const onData = (chunk: Buffer) => void chunks.push(chunk);
    const onEnd = () => done(() => resolve(chunks));
    const onError = (err: Error) => done(() => reject(err));
    // A client that goes away mid-body: 'close' without 'end'.
    const onClose = () =>
      done(() => (incoming.readableEnded ? resolve(chunks) : reject(new Error('the client closed the connection before the body ended'))));
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** The chunks as one buffer (on the body thread, or for a body small enough to join anywhere). */
export function joinChunks(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

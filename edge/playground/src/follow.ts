/**
 * Follows a generation until it ends: the server's events stream where it has one
 * (GET /v1/generations/{id}/events, `generation` events), else polling. A 404 from the
 * events route means this server has none: the page polls from then on.
 * fetch, not EventSource: EventSource cannot send the API key.
 */
import type { ApiClient } from './api.js';
import { problemOf } from './api.js';
import { Generation, isTerminal } from './schemas.js';

const POLL_MS = 300;
let eventsUnavailable = false;

export async function follow(api: ApiClient, id: string, onUpdate: (g: Generation) => void, signal: AbortSignal): Promise<Generation> {
  if (!eventsUnavailable) {
    const last = await viaEvents(api, id, onUpdate, signal);
    if (last && isTerminal(last.status)) return last;
  }
  return viaPolling(api, id, onUpdate, signal);
}

/** The generation's last state from the stream, or null when the stream is unavailable. */
async function viaEvents(api: ApiClient, id: string, onUpdate: (g: Generation) => void, signal: AbortSignal): Promise<Generation | null> {
  let res: Response;
  try {
    res = await api.fetch(`/v1/generations/${encodeURIComponent(id)}/events`, { headers: { accept: 'text/event-stream' }, signal });
  } catch (err) {
    if (signal.aborted) throw err;
    return null;
  }
  if (res.status === 404 || res.status === 405) {
    eventsUnavailable = true;
    return null;
  }
  if (!res.ok) throw await problemOf(res);
  if (!res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return null;
  let last: Generation | null = null;
  for await (const event of sseEvents(res.body, signal)) {
    if (event.event !== 'generation') continue;
    const parsed = Generation.safeParse(JSON.parse(event.data));
    if (!parsed.success) continue;
    last = parsed.data;
    onUpdate(last);
    if (isTerminal(last.status)) break;
  }
  return last;
}

async function viaPolling(api: ApiClient, id: string, onUpdate: (g: Generation) => void, signal: AbortSignal): Promise<Generation> {
  for (;;) {
    const g = await api.json(Generation, `/v1/generations/${encodeURIComponent(id)}`, { signal });
    onUpdate(g);
    if (isTerminal(g.status)) return g;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, POLL_MS);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }
}

interface SseEvent {
  event: string;
  data: string;
}

/** Server-sent events from a byte stream (the text/event-stream format: fields, blank line ends an event). */
export async function* sseEvents(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const onAbort = () => void reader.cancel().catch(() => {});
  signal.addEventListener('abort', onAbort, { once: true });
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') {
          if (data.length > 0) yield { event, data: data.join('\n') };
          event = 'message';
          data = [];
        } else if (line.startsWith(':')) continue;
        else {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}

/** Server-sent events on the wire (https://html.spec.whatwg.org/multipage/server-sent-events.html). */

export interface SseEvent {
  event: string;
  id: string;
  /** JSON has no raw newlines, so it is one `data:` line. */
  data: string;
}

/**
 * One event as text, for the buffered (Lambda) answer, which is a body and not a stream; the
 * stream writes the same event through Hono's writeSSE (its fields in another order, which
 * SSE clients do not read: an event is dispatched at the blank line).
 */
export function formatEvent(e: SseEvent): string {
  return `event: ${e.event}\nid: ${e.id}\ndata: ${e.data}\n\n`;
}

/** How long a client waits before it reconnects (EventSource reads it). */
export function formatRetry(ms: number): string {
  return `retry: ${ms}\n\n`;
}

/** A comment line: keeps proxies and load balancers from closing an idle stream. */
export const HEARTBEAT = ': heartbeat\n\n';

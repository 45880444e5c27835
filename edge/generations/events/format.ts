/** Server-sent events on the wire (https://html.spec.whatwg.org/multipage/server-sent-events.html). */

export interface SseEvent {
  event: string;
  id: string;
  /** JSON has no raw newlines, so it is one `data:` line. */
  data: string;
}

export function formatEvent(e: SseEvent): string {
  return `event: ${e.event}\nid: ${e.id}\ndata: ${e.data}\n\n`;
}

/** How long a client waits before it reconnects (EventSource reads it). */
export function formatRetry(ms: number): string {
  return `retry: ${ms}\n\n`;
}

/** A comment line: keeps proxies and load balancers from closing an idle stream. */
export const HEARTBEAT = ': heartbeat\n\n';

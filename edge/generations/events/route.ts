/**
 * GET /v1/generations/{id}/events: the generation as server-sent events. Each event is
 * `generation`, carrying the whole generation as GET returns it, at every change (queued
 * with its place in line, running, each denoising step written, the final state); the
 * stream ends after a terminal state. A `: heartbeat` comment every 15 s keeps idle
 * connections open. Event ids name states, so a client that reconnects with
 * `Last-Event-ID` gets only what changed; reconnecting after the terminal event gets 204,
 * which tells EventSource to stop.
 *
 * 'buffered' mode is for Lambda, whose responses cannot stream through the HTTP API: the
 * same route waits (up to `bufferedWaitMs`) for the next change, answers with the events so
 * far and a `retry:` hint, and EventSource reconnects with Last-Event-ID: long polling in
 * the same wire format, so one client works with both.
 */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { JobRepository } from '../../../shared/jobs/repository.js';
import type { JobChanges } from '../../../shared/ports/job-changes.js';
import type { JobQueue } from '../../../shared/ports/queue.js';
import type { ObjectStore } from '../../../shared/ports/store.js';
import type { JobRecord } from '../../../shared/schemas/job.js';
import { generationView } from '../../../shared/schemas/view.js';
import { webhookDeliveries } from '../../../shared/webhooks/log.js';
import { formatEvent, formatRetry, HEARTBEAT, type SseEvent } from './format.js';
import { type GenerationState, watchGeneration } from './watch.js';

export interface EventsOptions {
  mode: 'stream' | 'buffered';
  /** The longest pause between reads of the record (the cap of the read schedule, or the notified adapter's fallback). */
  pollMs: number;
  /** A comment this often while nothing changes (stream mode). */
  heartbeatMs: number;
  /** The reconnect delay a client is told (`retry:`). */
  retryMs: number;
  /** Buffered mode: how long an answer waits for a change before it answers with none. */
  bufferedWaitMs: number;
}

export const DEFAULT_EVENTS: EventsOptions = { mode: 'stream', pollMs: 250, heartbeatMs: 15_000, retryMs: 1_000, bufferedWaitMs: 10_000 };

export interface EventsDeps {
  jobs: JobRepository<JobRecord>;
  queue: JobQueue;
  urls: Pick<ObjectStore, 'urlFor'>;
  /** Where a generation's webhook delivery log is read (the view shows its attempts). */
  store?: Pick<ObjectStore, 'get'>;
  /** The model a record older than several models ran on. */
  defaultModel: string;
  options: EventsOptions;
  /** When to read the record again. */
  changes: JobChanges;
}

/** Answers for generation `current` (already found and owned by the caller's tenant). */
export async function generationEvents(c: Context, deps: EventsDeps, current: GenerationState): Promise<Response> {
  const lastEventId = c.req.header('last-event-id');
  if (current.terminal && current.id === lastEventId) return c.body(null, 204);
  const { options } = deps;
  const toEvent = async (s: GenerationState): Promise<SseEvent> => ({
    event: 'generation',
    id: s.id,
    data: JSON.stringify(
      await generationView(s.record, deps.urls, deps.defaultModel, {
        queuePosition: s.queuePosition,
        ...(deps.store ? await webhookDeliveries(deps.store, s.record) : {}),
      }),
    ),
  });
  const id = current.record.id;

  if (options.mode === 'buffered') {
    const signal = AbortSignal.timeout(options.bufferedWaitMs);
    let body = formatRetry(options.retryMs);
    for await (const state of watchGeneration(deps.jobs, deps.queue, id, { changes: deps.changes, signal })) {
      if (state.id === lastEventId) continue;
      body += formatEvent(await toEvent(state));
      break; // the first change answers; the client is back within retryMs for the next
    }
    return c.body(body, 200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
  }

  return streamSSE(c, async (stream) => {
    const done = new AbortController();
    stream.onAbort(() => done.abort());
    // A comment and a retry-only frame have no data line, which writeSSE always writes: raw.
    const heartbeat = setInterval(() => void stream.write(HEARTBEAT), options.heartbeatMs);
    try {
      await stream.write(formatRetry(options.retryMs));
      for await (const state of watchGeneration(deps.jobs, deps.queue, id, { changes: deps.changes, signal: done.signal })) {
        if (state.id === lastEventId) continue;
        await stream.writeSSE(await toEvent(state));
      }
    } finally {
      clearInterval(heartbeat);
    }
  });
}

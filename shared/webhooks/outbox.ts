/**
 * Puts a job's webhook events on the durable queue. The job's own message is deleted only
 * after this returns, so a crash in between brings the job message back and the event is
 * queued then (at least once; receivers dedupe on webhook-id, which stays the same).
 * `completed` and `start` are queued once per job: the delivery log remembers them.
 */
import type { JobQueue } from '../ports/queue.js';
import type { ObjectStore } from '../ports/store.js';
import { readDeliveryLog, updateDeliveryLog } from './log.js';
import { encodeWebhookMessage, webhookIdFor } from './message.js';
import { StoredWebhook, type WebhookEvent } from './schema.js';

export interface OutboxDeps {
  queue: Pick<JobQueue, 'send'>;
  store: Pick<ObjectStore, 'get' | 'put'>;
  now?: () => number;
}

/** The part of a job record this reads (any record version: the webhook field is checked here). */
export interface WebhookSubject {
  id: string;
  request_id?: unknown;
  webhook?: unknown;
}

/** Whether the record asks for `event`; the webhook settings when it does. */
export function wants(record: WebhookSubject, event: WebhookEvent): StoredWebhook | null {
  const parsed = StoredWebhook.safeParse(record.webhook);
  return parsed.success && parsed.data.events.includes(event) ? parsed.data : null;
}

/** Queues `event` if the record asks for it; true when a message was sent. */
export async function queueWebhookEvent(
  deps: OutboxDeps,
  record: WebhookSubject,
  event: WebhookEvent,
  step?: number,
  image?: number,
): Promise<boolean> {
  if (!wants(record, event)) return false;
  const webhookId = webhookIdFor(record.id, event, step, image);
  const once = event !== 'progress';
  if (once && (await readDeliveryLog(deps.store, record.id))?.queued.includes(webhookId)) return false;
  const now = (deps.now ?? Date.now)();
  const requestId = typeof record.request_id === 'string' && record.request_id.length > 0 ? record.request_id : 'webhook';
  await deps.queue.send(
    encodeWebhookMessage({
      type: 'webhook',
      jobId: record.id,
      requestId,
      event,
      webhookId,
      attempt: 1,
      firstQueuedAt: now,
      notBefore: now,
    }),
  );
  if (once)
    await updateDeliveryLog(deps.store, record.id, (log) =>
      log.queued.includes(webhookId) ? null : { ...log, queued: [...log.queued, webhookId] },
    );
  return true;
}

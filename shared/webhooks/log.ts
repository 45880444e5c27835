/**
 * The delivery log of a job's webhook, an object of its own at `webhooks/<jobId>.json`
 * (the job record is final once terminal, and a completed event is delivered after that):
 * every attempt, and the ids of events already put on the queue. Written with conditional
 * requests (create-only, then If-Match with a retry on a lost race), as job records are.
 */
import { z } from 'zod';
import { JobId } from '../jobs/record.js';
import type { ObjectStore } from '../ports/store.js';
import { conditionalUpdate } from '../store/conditional-update.js';
import { readJsonObject } from '../store/json-object.js';
import { WebhookDelivery } from './schema.js';

/** Attempts kept per job (oldest dropped first): a progress webhook to a dead receiver must not grow it forever. */
export const MAX_DELIVERIES_KEPT = 100;

export const DeliveryLog = z
  .object({
    job_id: JobId,
    /** webhook-ids whose first message is on the queue (so a redelivered job does not queue them again). */
    queued: z.array(z.string()),
    deliveries: z.array(WebhookDelivery),
  })
  .strict();
export type DeliveryLog = z.infer<typeof DeliveryLog>;

export function deliveryLogKey(jobId: string): string {
  return `webhooks/${JobId.parse(jobId)}.json`;
}

/** The view's extra for a record with a webhook: its delivery attempts (nothing for a record without one). */
export async function webhookDeliveries(
  store: Pick<ObjectStore, 'get'>,
  record: { id: string; webhook?: unknown },
): Promise<{ webhookDeliveries?: WebhookDelivery[] }> {
  if (record.webhook === undefined) return {};
  return { webhookDeliveries: (await readDeliveryLog(store, record.id))?.deliveries ?? [] };
}

export async function readDeliveryLog(store: Pick<ObjectStore, 'get'>, jobId: string): Promise<DeliveryLog | null> {
  return (await readJsonObject(store, deliveryLogKey(jobId), DeliveryLog))?.value ?? null;
}

/**
 * Applies `mutate` (pure; may run again after a lost race) to the log, creating it when
 * missing. Null: leave it. After 20 lost races, UpdateConflictError (a PreconditionFailedError).
 */
export async function updateDeliveryLog(
  store: Pick<ObjectStore, 'get' | 'put'>,
  jobId: string,
  mutate: (log: DeliveryLog) => DeliveryLog | null,
): Promise<DeliveryLog> {
  const update = { key: deliveryLogKey(jobId), schema: DeliveryLog, maxAttempts: 20 };
  return conditionalUpdate(store, update, (stored) => {
    const current: DeliveryLog = stored ?? { job_id: jobId, queued: [], deliveries: [] };
    const next = mutate(structuredClone(current));
    if (next === null) return { result: current };
    const valid = DeliveryLog.parse({ ...next, deliveries: next.deliveries.slice(-MAX_DELIVERIES_KEPT) });
    return { write: valid, result: valid };
  });
}

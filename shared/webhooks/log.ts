/**
 * The delivery log of a job's webhook, an object of its own at `webhooks/<jobId>.json`
 * (the job record is final once terminal, and a completed event is delivered after that):
 * every attempt, and the ids of events already put on the queue. Written with conditional
 * requests (create-only, then If-Match with a retry on a lost race), as job records are.
 */
import { z } from 'zod';
import { JobId } from '../jobs/record.js';
import { PreconditionFailedError, type ObjectStore } from '../ports/store.js';
import { sleep } from '../queue/sleep.js';
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

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The view's extra for a record with a webhook: its delivery attempts (nothing for a record without one). */
export async function webhookDeliveries(store: Pick<ObjectStore, 'get'>, record: { id: string; webhook?: unknown }): Promise<{ webhookDeliveries?: WebhookDelivery[] }> {
  if (record.webhook === undefined) return {};
  return { webhookDeliveries: (await readDeliveryLog(store, record.id))?.deliveries ?? [] };
}

export async function readDeliveryLog(store: Pick<ObjectStore, 'get'>, jobId: string): Promise<DeliveryLog | null> {
  const object = await store.get(deliveryLogKey(jobId));
  return object ? DeliveryLog.parse(JSON.parse(decoder.decode(object.body))) : null;
}

/** Applies `mutate` (pure; may run again after a lost race) to the log, creating it when missing. Null: leave it. */
export async function updateDeliveryLog(store: Pick<ObjectStore, 'get' | 'put'>, jobId: string, mutate: (log: DeliveryLog) => DeliveryLog | null): Promise<DeliveryLog> {
  const key = deliveryLogKey(jobId);
  for (let attempt = 1; ; attempt += 1) {
    const object = await store.get(key);
    const current: DeliveryLog = object ? DeliveryLog.parse(JSON.parse(decoder.decode(object.body))) : { job_id: jobId, queued: [], deliveries: [] };
    const next = mutate(structuredClone(current));
    if (next === null) return current;
    const valid = DeliveryLog.parse({ ...next, deliveries: next.deliveries.slice(-MAX_DELIVERIES_KEPT) });
    try {
      await store.put(key, encoder.encode(JSON.stringify(valid)), { contentType: 'application/json', ...(object ? { ifMatch: object.etag } : { ifNoneMatch: '*' as const }) });
      return valid;
    } catch (err) {
      if (!(err instanceof PreconditionFailedError) || attempt >= 20) throw err;
      await sleep(Math.random() * Math.min(100, 5 * 2 ** attempt));
    }
  }
}

/**
 * The queue message of one webhook event: ids and timing only, never the payload (built
 * from the job record when it is delivered). A retry is a new message with `attempt + 1`
 * and `notBefore` in the future; it rides the durable job queue, so it survives restarts.
 */
import { z } from 'zod';
import { JobId } from '../jobs/record.js';
import { WebhookEvent } from './schema.js';

export const WebhookMessage = z
  .object({
    type: z.literal('webhook'),
    jobId: JobId,
    requestId: z.string().min(1).max(256),
    event: WebhookEvent,
    webhookId: z.string().min(1).max(256),
    attempt: z.number().int().min(1).max(1000),
    /** When the first attempt was queued (ms since epoch): retries stop 24 h after it. */
    firstQueuedAt: z.number().int().min(0),
    /** Not to be delivered before this time (ms since epoch). */
    notBefore: z.number().int().min(0),
  })
  .strict();
export type WebhookMessage = z.infer<typeof WebhookMessage>;

export function encodeWebhookMessage(message: WebhookMessage): string {
  return JSON.stringify(WebhookMessage.parse(message));
}

/** The webhook message in a queue body, or null when the body is something else (a job message). */
export function parseWebhookMessage(body: string): WebhookMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return null;
  }
  if ((raw as { type?: unknown } | null)?.type !== 'webhook') return null;
  const parsed = WebhookMessage.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** Whether the body claims to be a webhook message (valid or not): a job consumer leaves it alone. */
export function isWebhookBody(body: string): boolean {
  try {
    return (JSON.parse(body) as { type?: unknown } | null)?.type === 'webhook';
  } catch {
    return false;
  }
}

/**
 * One id per event of a job, so that every attempt and every duplicate carries the same
 * `webhook-id`. A progress event is named by its step, and by its image after the first
 * (the first image's ids are those of single-image answers).
 */
export function webhookIdFor(jobId: string, event: WebhookEvent, step?: number, image = 0): string {
  if (event !== 'progress') return `msg_${jobId}_${event}`;
  return image > 0 ? `msg_${jobId}_progress_${image}_${step ?? 0}` : `msg_${jobId}_progress_${step ?? 0}`;
}

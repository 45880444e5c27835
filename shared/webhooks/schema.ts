/**
 * Webhooks' shapes: what a client asks for on POST /v1/generations, what the job record
 * keeps, what a delivery attempt records, and the payload a receiver gets.
 */
import { z } from 'zod';

export const WEBHOOK_EVENTS = ['start', 'progress', 'completed'] as const;
export const WebhookEvent = z.enum(WEBHOOK_EVENTS);
export type WebhookEvent = z.infer<typeof WebhookEvent>;

export const WebhookRequest = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'expected an absolute https URL' })
      .max(2048)
      .meta({
        description:
          'Where to POST the events: https, and not a private, loopback or link-local address (checked again after DNS resolution at every delivery).',
        example: 'https://example.com/hooks/generations',
      }),
    events: z.array(WebhookEvent).min(1).max(WEBHOOK_EVENTS.length).optional().meta({
      description:
        'Which events to send (default ["completed"]): start (a worker took the job), progress (denoising steps), completed (succeeded, failed or canceled).',
    }),
  })
  .strict()
  .meta({
    id: 'WebhookRequest',
    description:
      'Signed deliveries per the Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature headers). ' +
      'Failed deliveries are retried with exponential backoff for up to 24 hours.',
  });
export type WebhookRequest = z.infer<typeof WebhookRequest>;

/** What the job record keeps of the request (events resolved). */
export const StoredWebhook = z.object({ url: z.string().min(1), events: z.array(WebhookEvent).min(1) }).strict();
export type StoredWebhook = z.infer<typeof StoredWebhook>;

export const WebhookDelivery = z
  .object({
    event: WebhookEvent,
    /** The Standard Webhooks `webhook-id`: the same for every attempt of one event. */
    webhook_id: z.string().min(1),
    attempt: z.number().int().min(1),
    /** The receiver's HTTP status, or null when there was no response (refused, timed out, blocked). */
    status_code: z.number().int().nullable(),
    error: z.string().optional(),
    at: z.iso.datetime(),
    /** When the next attempt is due; absent after a success or the last attempt. */
    next_attempt_at: z.iso.datetime().optional(),
  })
  .strict()
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/** The generation's `webhook` field. */
export const WebhookView = z
  .object({
    url: z.string(),
    events: z.array(WebhookEvent),
    deliveries: z.array(WebhookDelivery).meta({ description: 'Delivery attempts, oldest first (the latest 100).' }),
  })
  .strict()
  .meta({ id: 'Webhook' });
export type WebhookView = z.infer<typeof WebhookView>;

export function resolveWebhook(request: WebhookRequest): StoredWebhook {
  return { url: request.url, events: [...new Set<WebhookEvent>(request.events ?? ['completed'])] };
}

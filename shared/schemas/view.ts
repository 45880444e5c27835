/** The job record as the API shows it: image keys become URLs, internals stay hidden. */
import type { ObjectStore } from '../ports/store.js';
import type { WebhookDelivery } from '../webhooks/schema.js';
import { messagesView } from './conversation-view.js';
import { Generation, type OutputPart } from './generation.js';
import type { JobRecord } from './job.js';

/** What the view adds that the record does not hold. */
export interface ViewExtras {
  /** Generations waiting ahead of a queued one (the edge asks the queue). */
  queuePosition?: number;
  /** The delivery attempts of the generation's webhook (its log, shared/webhooks/log.ts). */
  webhookDeliveries?: WebhookDelivery[];
}

/** `defaultModel` names the model of a record older than several models (it has no `model`). */
export async function generationView(
  record: JobRecord,
  store: Pick<ObjectStore, 'urlFor'>,
  defaultModel: string,
  extras: ViewExtras = {},
): Promise<Generation> {
  const output: OutputPart[] = await Promise.all(
    record.output.map(
      async (part): Promise<OutputPart> =>
        part.type === 'text'
          ? { type: 'text', text: part.text }
          : { type: 'image', url: await store.urlFor(part.key), width: part.width, height: part.height, mime_type: part.mime_type },
    ),
  );
  return Generation.parse({
    id: record.id,
    model: record.model ?? defaultModel,
    status: record.status,
    created_at: record.created_at,
    progress: progressView(record),
    output,
    ...(record.error ? { error: { code: record.error.code, message: record.error.message } } : {}),
    ...(record.webhook
      ? { webhook: { url: record.webhook.url, events: record.webhook.events, deliveries: extras.webhookDeliveries ?? [] } }
      : {}),
    ...(record.messages ? { messages: await messagesView(record.messages, store) } : {}),
    ...(record.status === 'queued' && extras.queuePosition !== undefined ? { queue_position: extras.queuePosition } : {}),
  });
}

/** The record's progress with the image fields a queued or older record lacks, from its output. */
export function progressView(record: Pick<JobRecord, 'progress' | 'output'>): Generation['progress'] {
  const { step, steps } = record.progress;
  const made = record.output.filter((p) => p.type === 'image').length;
  // Without the fields: the image being made is the next one, unless the steps are all taken.
  const image = record.progress.image ?? (made > 0 && step >= steps ? made - 1 : made);
  return { step, steps, image, images_so_far: record.progress.images_so_far ?? made };
}

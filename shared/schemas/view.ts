/** The job record as the API shows it: image keys become URLs, internals stay hidden. */
import type { ObjectStore } from '../ports/store.js';
import { readDeliveryLog } from '../webhooks/log.js';
import { Generation, type OutputPart } from './generation.js';
import type { JobRecord } from './job.js';

export async function generationView(record: JobRecord, store: Pick<ObjectStore, 'urlFor' | 'get'>): Promise<Generation> {
  const output: OutputPart[] = await Promise.all(
    record.output.map(async (part): Promise<OutputPart> =>
      part.type === 'text'
        ? { type: 'text', text: part.text }
        : { type: 'image', url: await store.urlFor(part.key), width: part.width, height: part.height, mime_type: part.mime_type },
    ),
  );
  return Generation.parse({
    id: record.id,
    status: record.status,
    created_at: record.created_at,
    progress: { step: record.progress.step, steps: record.progress.steps },
    output,
    ...(record.error ? { error: { code: record.error.code, message: record.error.message } } : {}),
    ...(record.webhook
      ? { webhook: { url: record.webhook.url, events: record.webhook.events, deliveries: (await readDeliveryLog(store, record.id))?.deliveries ?? [] } }
      : {}),
  });
}

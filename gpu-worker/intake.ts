/**
 * What to do with a received message, decided from its body and the job's record:
 * run it, acknowledge it (the job is finished: a redelivery), cancel it, fail it (it names a
 * model this worker does not serve, or its message and record disagree on the model),
 * deliver it (a webhook event riding the same queue), or leave it to the retry/dead-letter
 * path (poison). No model work here.
 */
import { InvalidJobMessageError, parseJobMessage } from '../shared/jobs/message.js';
import type { JobError } from '../shared/jobs/record.js';
import type { JobRepository } from '../shared/jobs/repository.js';
import { isTerminal } from '../shared/jobs/status.js';
import type { ReceivedMessage } from '../shared/ports/queue.js';
import type { JobRecord } from '../shared/schemas/job.js';
import type { VersionedJson } from '../shared/store/json-object.js';
import { isWebhookBody, parseWebhookMessage, type WebhookMessage } from '../shared/webhooks/message.js';

export type Intake =
  | { kind: 'run'; jobId: string; requestId: string; record: JobRecord; etag: string; model: string }
  /** Finished already: delete the message, do nothing else. */
  | { kind: 'done'; jobId: string; requestId: string; record: JobRecord }
  /** Its cancel marker is set: mark canceled, delete the message. */
  | { kind: 'cancel'; jobId: string; requestId: string; record: JobRecord; etag: string }
  /** Can never run here: mark it failed with this error, delete the message. */
  | { kind: 'fail'; jobId: string; requestId: string; record: JobRecord; etag: string; error: JobError }
  /** A webhook event to deliver (shared/webhooks/deliver.ts). */
  | { kind: 'webhook'; webhook: WebhookMessage }
  /** Cannot be handled: leave it (not deleted) so that it reaches the dead-letter queue. */
  | { kind: 'poison'; reason: string; jobId?: string; requestId?: string; err?: unknown };

/** The models a worker serves, its default first (the model of a record older than several models). */
export interface ServedModels {
  readonly names: readonly string[];
}

export async function classify(message: ReceivedMessage, jobs: JobRepository<JobRecord>, served: ServedModels): Promise<Intake> {
  if (isWebhookBody(message.body)) {
    const webhook = parseWebhookMessage(message.body);
    return webhook ? { kind: 'webhook', webhook } : { kind: 'poison', reason: 'invalid webhook message' };
  }
  let jobId: string;
  let requestId: string;
  let messageModel: string | undefined;
  try {
    ({ jobId, requestId, model: messageModel } = parseJobMessage(message.body));
  } catch (err) {
    if (err instanceof InvalidJobMessageError) return { kind: 'poison', reason: err.message };
    throw err;
  }
  // The cancel marker is read beside the record: one wait instead of two before a job starts.
  const cancel = jobs.isCancelRequested(jobId).then(
    (requested) => ({ requested }),
    (err: unknown) => ({ err }),
  );
  let version: VersionedJson<JobRecord> | null;
  try {
    version = await jobs.read(jobId);
  } catch (err) {
    // A record that does not parse will not parse on the next try either.
    if (isDataError(err)) return { kind: 'poison', reason: 'the job record is unreadable', jobId, requestId, err };
    throw err;
  }
  if (!version) return { kind: 'poison', reason: 'no job record for this message', jobId, requestId };
  // The record's etag goes with it: the worker's first write names it without a read (JobRepository.updateFrom).
  const { value: record, etag } = version;
  if (isTerminal(record.status)) return { kind: 'done', jobId, requestId, record };
  const marker = await cancel;
  if ('err' in marker) throw marker.err;
  if (marker.requested) return { kind: 'cancel', jobId, requestId, record, etag };
  if (messageModel !== undefined && record.model !== undefined && messageModel !== record.model) {
    const error = { code: 'invalid_job', message: `the queue message names model ${messageModel} but the job record ${record.model}` };
    return { kind: 'fail', jobId, requestId, record, etag, error };
  }
  const model = record.model ?? messageModel ?? served.names[0]!;
  if (!served.names.includes(model)) {
    const error = {
      code: 'model_not_served',
      message: `the job asks for model ${model}, which this worker does not serve (it serves: ${served.names.join(', ')})`,
    };
    return { kind: 'fail', jobId, requestId, record, etag, error };
  }
  return { kind: 'run', jobId, requestId, record, etag, model };
}

function isDataError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return err instanceof SyntaxError || name === 'ZodError' || name === '$ZodError' || name === 'CorruptObjectError';
}

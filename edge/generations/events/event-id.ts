/**
 * An event's id names the state it carries: a hash of what a client sees change (status,
 * progress, output, error, place in line). Any instance computes the same id for the same
 * state, so `Last-Event-ID` resumes on any of them: a state the client already has is not
 * sent again. Image URLs are left out: they are re-signed on every read.
 */
import { createHash } from 'node:crypto';
import type { JobRecord } from '../../../shared/schemas/job.js';

export function eventId(record: JobRecord, queuePosition: number | undefined): string {
  const state = {
    status: record.status,
    progress: [record.progress.step, record.progress.steps, record.progress.image ?? 0],
    output: record.output.map((p) => (p.type === 'text' ? ['t', p.text] : ['i', p.key])),
    error: record.error ? [record.error.code, record.error.message] : null,
    queue_position: queuePosition ?? null,
  };
  return createHash('sha256').update(JSON.stringify(state)).digest('base64url').slice(0, 22);
}

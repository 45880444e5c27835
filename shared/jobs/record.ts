/**
 * The lifecycle fields every job record has. The full record (prompt, output parts, ...)
 * is the API's business (shared/schemas/); this schema passes unknown fields through so
 * the repository can store any record that extends it.
 */
import { z } from 'zod';
import { JobStatus } from './status.js';

export const JobId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'job ids are 1-128 of [A-Za-z0-9_-]');

export const JobError = z.object({ code: z.string().min(1), message: z.string() }).loose();
export type JobError = z.infer<typeof JobError>;

export const JobRecordBase = z
  .object({
    id: JobId,
    status: JobStatus,
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    progress: z.object({ step: z.number().int().min(0), steps: z.number().int().min(0) }).loose(),
    error: JobError.optional(),
  })
  .loose();
export type JobRecordBase = z.infer<typeof JobRecordBase>;

export function jobKey(id: string): string {
  return `jobs/${JobId.parse(id)}.json`;
}

export function cancelKey(id: string): string {
  return `jobs/${JobId.parse(id)}.cancel`;
}

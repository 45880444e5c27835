/**
 * The queue message for a job: ids only, never payloads (the record lives in the store).
 * `requestId` carries the edge's request id so logs follow a generation into the worker;
 * `model` the package name the job runs on (the worker checks it against the models it
 * serves and the record's). A message without `model` predates several models.
 */
import { z } from 'zod';
import { MODEL_NAME } from '../schemas/models.js';

export const JobMessage = z
  .object({
    jobId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
    requestId: z.string().min(1).max(256),
    model: z.string().regex(MODEL_NAME).optional(),
  })
  .strict();
export type JobMessage = z.infer<typeof JobMessage>;

export class InvalidJobMessageError extends Error {
  constructor(why: string) {
    super(`invalid job message: ${why}`);
    this.name = 'InvalidJobMessageError';
  }
}

export function encodeJobMessage(message: JobMessage): string {
  return JSON.stringify(JobMessage.parse(message));
}

/** Parses a queue body; throws InvalidJobMessageError for anything but a valid message. */
export function parseJobMessage(body: string): JobMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new InvalidJobMessageError('body is not JSON');
  }
  const parsed = JobMessage.safeParse(raw);
  if (!parsed.success) throw new InvalidJobMessageError(z.prettifyError(parsed.error));
  return parsed.data;
}

/**
 * A checkpoint is what one finished image adds to its job record: the image part and the
 * text after it in the output, the image (by its output key) and those text ids in the
 * context, and the tokens used so far. Written as each image is made, it lets a client see
 * the image at once and lets a redelivered job resume after it: the context then ends with
 * the `<boi>` of the next image, and the worker starts there (job-run.ts counts the images
 * already in the output).
 *
 * Applying is keyed by the image's index, never appended blindly: a checkpoint whose image
 * the record already holds is skipped, so a retried write, a late write or a second worker
 * holding the same job can never put an image into the answer twice.
 */
import type { ContextSegment, JobRecord, StoredOutputPart } from '../shared/schemas/job.js';
import { outputImageKey } from '../shared/schemas/job.js';

export interface Checkpoint {
  /** The image's index in the answer (its PNG is outputImageKey(job, index)). */
  readonly index: number;
  /** The image part, then the text decoded after it (if any). */
  readonly parts: readonly StoredOutputPart[];
  /** The image by key, then `<eoi>`, the decoded ids and the stop token (`<boi>` when another image follows). */
  readonly context: readonly ContextSegment[];
  /** Text tokens of the whole answer after this image's text. */
  readonly tokensUsed: number;
}

export interface CheckpointInput {
  jobId: string;
  index: number;
  width: number;
  height: number;
  eoi: number;
  /** Decoded ids after the image, the stop token excluded. */
  ids: readonly number[];
  text: string;
  /** The stop token to keep in the context (`<boi>` or `<eos>`), none when the budget ran out. */
  stopId?: number;
  tokensUsed: number;
}

export function makeCheckpoint(input: CheckpointInput): Checkpoint {
  const key = outputImageKey(input.jobId, input.index);
  const parts: StoredOutputPart[] = [{ type: 'image', key, width: input.width, height: input.height, mime_type: 'image/png' }];
  if (input.text.length > 0) parts.push({ type: 'text', text: input.text });
  const ids = [input.eoi, ...input.ids, ...(input.stopId !== undefined ? [input.stopId] : [])];
  return {
    index: input.index,
    parts,
    context: [
      { type: 'image', key },
      { type: 'text', ids },
    ],
    tokensUsed: input.tokensUsed,
  };
}

/** Images the record's answer holds (its output's image parts). */
export function imagesIn(record: Pick<JobRecord, 'output'>): number {
  return record.output.filter((p) => p.type === 'image').length;
}

/**
 * The record with every checkpoint it does not hold yet, in order; null when it holds them
 * all (nothing to write), or when they do not follow on from what it holds (a gap: the
 * record moved on some other way, so leave it).
 */
export function applyCheckpoints(current: JobRecord, checkpoints: readonly Checkpoint[]): JobRecord | null {
  const held = imagesIn(current);
  const missing = checkpoints.filter((c) => c.index >= held);
  if (missing.length === 0) return null;
  if (missing.some((c, i) => c.index !== held + i)) return null;
  return {
    ...current,
    output: [...current.output, ...missing.flatMap((c) => c.parts)],
    context: [...current.context, ...missing.flatMap((c) => c.context)],
    tokens_used: missing[missing.length - 1]!.tokensUsed,
  };
}
